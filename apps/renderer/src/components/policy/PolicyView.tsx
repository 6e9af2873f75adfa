import type { PolicyDecision, PolicyLog, PolicyLogEntry, PolicyOverview } from '@keel/core/contract';
import { useEffect, useMemo, useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';
import { useRuns } from '../../stores/runs.js';
import { useTranscript } from '../../stores/transcript.js';

type Decided = Extract<PolicyLogEntry, { type: 'policy.decided' }>;
const DECISIONS: ReadonlyArray<PolicyDecision | 'all'> = ['all', 'allow', 'ask', 'deny'];
const KINDS = ['all', 'exec', 'write', 'read', 'network', 'deps', 'push', 'generic'] as const;
const short = (hash: string | null) => (hash ? hash.slice(0, 12) : '—');

/** The policy in force and the selected run's decisions, re-read as the run's ledger grows. */
function usePolicy(runId: string | null): { overview: PolicyOverview | null; log: PolicyLog | null; error: string | null } {
  const { client } = useKeel();
  const lastSeq = useTranscript((state) => (state.runId === runId ? state.lastSeq : 0));
  const [overview, setOverview] = useState<PolicyOverview | null>(null);
  const [log, setLog] = useState<PolicyLog | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const [shown, decided] = await Promise.all([
          client.invoke('policy.show', runId ? { runId } : {}),
          runId ? client.invoke('policy.decisions', { runId }) : Promise.resolve(null),
        ]);
        if (!live) return;
        setOverview(shown);
        setLog(decided);
        setError(null);
      } catch (failure) {
        if (live) setError(describeError(failure));
      }
    };
    // Coalesces the bursts of a streaming run: one read per quarter second at most.
    const timer = lastSeq === 0 ? null : setTimeout(() => void load(), 250);
    if (timer === null) void load();
    return () => {
      live = false;
      if (timer !== null) clearTimeout(timer);
    };
  }, [client, runId, lastSeq]);
  return { overview, log, error };
}

function PolicyInForce({ overview }: { overview: PolicyOverview }) {
  const stale = overview.runHash !== null && overview.hash !== null && overview.runHash !== overview.hash;
  return (
    <div className="policy-in-force" data-testid="policy-in-force">
      <div className="policy-head">
        <span className={`chip ${overview.valid ? 'status-ok' : 'status-failed'}`} data-testid="policy-validity">
          {overview.valid ? 'valid' : 'invalid'}
        </span>
        <span>
          policy <code title={overview.hash ?? undefined}>{short(overview.hash)}</code>
        </span>
        {overview.runHash && (
          <span className="muted small">
            run uses <code title={overview.runHash}>{short(overview.runHash)}</code>
            {stale && ' (files changed; the next turn loads them)'}
          </span>
        )}
      </div>
      {!overview.valid && (
        <ul className="status-failed small policy-errors" data-testid="policy-errors">
          {overview.errors.map((error) => (
            <li key={error}>{error}</li>
          ))}
          <li className="muted">Runs keep the last valid policy until this is fixed.</li>
        </ul>
      )}
      <ul className="policy-files small">
        <li>
          <span className="chip">builtin</span> Keel&apos;s defaults
        </li>
        {overview.files.map((file) => (
          <li key={file.file}>
            <span className="chip">{file.layer}</span> <code>{file.file}</code>
            {!file.exists && <span className="muted"> (no file)</span>}
          </li>
        ))}
      </ul>
      <details className="policy-rules">
        <summary>
          {overview.rules.length} rules · defaults:{' '}
          {Object.entries(overview.defaults)
            .map(([key, value]) => {
              const layer = overview.defaultLayers[key];
              // Which layer set a default matters: a workspace file may loosen one (ADR 0006).
              return `${key} ${value}${layer && layer !== 'builtin' ? ` (${layer})` : ''}`;
            })
            .join(', ')}{' '}
          · on_violation {overview.onViolation}
        </summary>
        <table className="policy-table small">
          <thead>
            <tr>
              <th>rule</th>
              <th>layer</th>
              <th>kind</th>
              <th>decision</th>
              <th>matches</th>
            </tr>
          </thead>
          <tbody>
            {overview.rules.map((rule) => (
              <tr key={`${rule.layer}:${rule.id}`} title={rule.why}>
                <td>
                  <code>{rule.id}</code>
                </td>
                <td>{rule.layer}</td>
                <td>{rule.kind ?? '?'}</td>
                <td className={`decision-${rule.decision}`}>{rule.decision}</td>
                <td className="policy-patterns">{rule.patterns.join(' · ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}

function DecisionRow({ entry }: { entry: Decided }) {
  const { payload } = entry;
  const flags = [payload.observed ? 'observed' : null, payload.unattended ? 'unattended' : null].filter(Boolean);
  return (
    <li className={`policy-decision decision-${payload.decision}${payload.violation ? ' violation' : ''}`} data-testid="policy-decision" data-decision={payload.decision} data-kind={payload.action.kind}>
      <div className="policy-decision-head">
        <span className={`decision-chip decision-${payload.decision}`}>{payload.decision}</span>
        <span className="chip">{payload.action.kind}</span>
        <span className="policy-decision-title">{payload.action.title}</span>
        {payload.violation && <span className="chip status-failed">violation</span>}
        {flags.map((flag) => (
          <span key={flag} className="chip muted">
            {flag}
          </span>
        ))}
      </div>
      <div className="small">
        {payload.rule ? (
          <>
            rule <code>{payload.rule}</code>
            {payload.layer && <span className="muted"> ({payload.layer})</span>}:{' '}
          </>
        ) : null}
        {payload.why}
      </div>
      <div className="muted small">
        #{entry.seq} · {payload.source} · policy {short(payload.policyHash)}
      </div>
    </li>
  );
}

/**
 * The right pane's Policy view: the policy the selected run's workspace gives now (layers,
 * rules, defaults, hash, validation) and every decision of the run (allowed ones too),
 * filterable by decision and kind. Everything shown comes from the host (`policy.show`,
 * `policy.decisions`), which reads the files and the run's ledger (I1, I9).
 */
export function PolicyView() {
  const runId = useRuns((state) => state.selectedRunId);
  const { overview, log, error } = usePolicy(runId);
  const [decision, setDecision] = useState<(typeof DECISIONS)[number]>('all');
  const [kind, setKind] = useState<(typeof KINDS)[number]>('all');
  const decided = useMemo(() => (log?.entries ?? []).filter((entry): entry is Decided => entry.type === 'policy.decided'), [log]);
  const shown = decided.filter((entry) => (decision === 'all' || entry.payload.decision === decision) && (kind === 'all' || entry.payload.action.kind === kind));
  const refused = (log?.entries ?? []).filter((entry) => entry.type === 'policy.refused');
  return (
    <section className="pane policy-view" aria-labelledby="policy-title" data-testid="policy-view">
      <h2 id="policy-title">Policy</h2>
      {error && (
        <p className="status-failed small" role="alert">
          {error}
        </p>
      )}
      {overview ? <PolicyInForce overview={overview} /> : !error && <p className="muted">Loading the policy…</p>}
      <h3 className="policy-subtitle">Decisions{runId ? '' : ' (select a run)'}</h3>
      {log && (
        <>
          <div className="policy-filters" role="group" aria-label="Filter decisions">
            <label>
              decision{' '}
              <select value={decision} onChange={(event) => setDecision(event.target.value as typeof decision)} data-testid="policy-filter-decision">
                {DECISIONS.map((value) => (
                  <option key={value} value={value}>
                    {value === 'all' ? `all (${decided.length})` : `${value} (${log.counts[value]})`}
                  </option>
                ))}
              </select>
            </label>
            <label>
              kind{' '}
              <select value={kind} onChange={(event) => setKind(event.target.value as typeof kind)} data-testid="policy-filter-kind">
                {KINDS.map((value) => (
                  <option key={value} value={value}>
                    {value}
                  </option>
                ))}
              </select>
            </label>
            {log.counts.violations > 0 && <span className="chip status-failed">{log.counts.violations} violations</span>}
          </div>
          {refused.length > 0 && (
            <p className="status-failed small" data-testid="policy-refused">
              {refused.length === 1 ? 'A policy file was refused' : `${refused.length} policy files were refused`} during this run; it kept the last valid policy.
            </p>
          )}
          {shown.length === 0 ? (
            <p className="muted small">{decided.length === 0 ? 'No decisions yet.' : 'No decision matches the filters.'}</p>
          ) : (
            <ol className="policy-decisions">
              {shown.map((entry) => (
                <DecisionRow key={entry.seq} entry={entry} />
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
