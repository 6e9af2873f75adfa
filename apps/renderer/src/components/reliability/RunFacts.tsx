import { useEffect, useState } from 'react';
import type { RunReliabilityFacts } from '@keel/core/contract';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';
import { useSelectedRun } from '../../stores/runs.js';

const gap = (from: string | null, to: string | null) => (from && to ? `${Math.max(0, Date.parse(to) - Date.parse(from))} ms` : '—');

/** The selected run's reliability facts (the harness's formulas over its ledger) and its recovery timeline. */
export function RunFacts() {
  const { client } = useKeel();
  const run = useSelectedRun();
  const [facts, setFacts] = useState<RunReliabilityFacts | null>(null);
  const [error, setError] = useState<string | null>(null);
  const runId = run?.id ?? null;
  const lastSeq = run?.lastSeq ?? 0;
  useEffect(() => {
    if (!runId) return;
    let current = true;
    client.invoke('reliability.runFacts', { runId }).then(
      (value) => current && (setFacts(value), setError(null)),
      (failure: unknown) => current && setError(describeError(failure)),
    );
    return () => {
      current = false;
    };
  }, [client, runId, lastSeq]);

  if (!runId) return <p className="muted">Select a run to see its restarts and recovery times.</p>;
  if (error) return <p className="status-failed">Could not read this run's reliability facts: {error}</p>;
  if (!facts || facts.runId !== runId) return <p className="muted">Reading the run's ledger…</p>;
  return (
    <div className="run-facts" data-testid="run-facts">
      <dl className="run-facts-list">
        <div>
          <dt>Restarts</dt>
          <dd>{facts.restarts}</dd>
        </div>
        <div>
          <dt>Host recoveries</dt>
          <dd>{facts.hostRecoveries}</dd>
        </div>
        <div>
          <dt>Recovery p50 / p95 / max</dt>
          <dd>{facts.recovery ? `${facts.recovery.p50} / ${facts.recovery.p95} / ${facts.recovery.max} ms` : '—'}</dd>
        </div>
        <div>
          <dt>Approvals reset / carried</dt>
          <dd>
            {facts.approvalsReset} / {facts.approvalsCarried}
          </dd>
        </div>
        <div>
          <dt>Session remaps</dt>
          <dd>{facts.remaps}</dd>
        </div>
        <div>
          <dt>Duplicated prompts</dt>
          <dd>{facts.duplicatedPrompts}</dd>
        </div>
      </dl>
      {facts.recoveries.length === 0 ? (
        <p className="muted">No agent restarts in this run.</p>
      ) : (
        <ol className="recovery-timeline" aria-label="Recovery timeline" data-testid="recovery-timeline">
          {facts.recoveries.map((episode) => (
            <li key={`${episode.generation}-${episode.decidedAt}`}>
              <span className="recovery-step">exit</span>
              <span className="recovery-gap">{gap(episode.exitedAt, episode.decidedAt)}</span>
              <span className="recovery-step">restart ({episode.reason})</span>
              <span className="recovery-gap">{episode.recoveryMs === null ? '—' : `${Math.round(episode.recoveryMs)} ms`}</span>
              <span className={`recovery-step ${episode.boundAt ? '' : 'status-failed'}`}>
                {episode.boundAt ? `bound, agent process #${episode.generation} (${episode.outcome})` : 'never bound'}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
