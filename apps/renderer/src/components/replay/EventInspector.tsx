import type { ReplayEventRow } from '@keel/core/contract';

const CHAIN_TEXT = {
  verified: 'chain verifies up to here',
  redacted: 'redacted in the bundle: its links verify, its content cannot',
  broken: 'the chain does NOT verify up to here',
} as const;

/** The raw ledger record at the scrubber's seq: its hash, and whether the chain verifies up to it. */
export function EventInspector({ row }: { row: ReplayEventRow | null }) {
  if (!row) return <div className="replay-inspector muted small">Before the first event: the run as created, empty.</div>;
  const { record } = row;
  return (
    <div className="replay-inspector" data-testid="replay-inspector">
      <div className="replay-inspector-head">
        <strong>
          seq {record.seq} · {record.type}
        </strong>
        <span className={`chip ${row.chain === 'verified' ? 'status-ok' : row.chain === 'redacted' ? 'status-warn' : 'status-failed'}`} data-testid="replay-chain">
          {CHAIN_TEXT[row.chain]}
        </span>
      </div>
      <dl className="replay-hashes small">
        <dt>hash</dt>
        <dd>
          <code data-testid="replay-hash">{record.hash}</code>
        </dd>
        <dt>prev</dt>
        <dd>
          <code>{record.prev}</code>
        </dd>
        <dt>time</dt>
        <dd>{record.ts}</dd>
        {record.generation !== undefined && (
          <>
            <dt>generation</dt>
            <dd>{record.generation}</dd>
          </>
        )}
      </dl>
      <pre className="replay-raw" data-testid="replay-raw">
        {JSON.stringify(record, null, 2)}
      </pre>
    </div>
  );
}
