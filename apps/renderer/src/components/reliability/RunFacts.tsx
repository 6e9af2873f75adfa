import { useEffect, useRef, useState } from 'react';
import type { RunReliabilityFacts } from '@keel/core/contract';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';
import { useSelectedRun } from '../../stores/runs.js';
import { useTranscript } from '../../stores/transcript.js';

/**
 * The host reads a run's facts from its ledger a page per event-loop turn (reliability/
 * facts-reader.ts): on a long run that is still seconds of its time, shared with the window the
 * page is waiting for (issue 16: the first render of a long run). So the facts are asked once
 * the transcript has opened and drawn, or after FACTS_WAIT_MS whatever happens.
 */
export const FACTS_WAIT_MS = 2_000;
/** After the transcript opened: time for its first rows to be drawn before the host is asked. */
export const FACTS_AFTER_OPEN_MS = 300;
/** While the run moves, its facts are asked again at most this often (the last change is always asked). */
export const FACTS_REFRESH_MS = 5_000;

const gap = (from: string | null, to: string | null) => (from && to ? `${Math.max(0, Date.parse(to) - Date.parse(from))} ms` : '—');

/** The selected run's reliability facts (the harness's formulas over its ledger) and its recovery timeline. */
export function RunFacts() {
  const { client } = useKeel();
  const run = useSelectedRun();
  const [facts, setFacts] = useState<RunReliabilityFacts | null>(null);
  const [error, setError] = useState<string | null>(null);
  const runId = run?.id ?? null;
  const lastSeq = run?.lastSeq ?? 0;
  const transcriptOpen = useTranscript((state) => state.runId === runId && state.status !== 'loading');
  // The run selected, and whether its facts may be asked yet: FACTS_AFTER_OPEN_MS after its
  // transcript opened (its first rows are drawn by then), or FACTS_WAIT_MS after it was selected.
  const [waited, setWaited] = useState<{ runId: string | null; done: boolean }>({ runId, done: false });
  if (waited.runId !== runId) setWaited({ runId, done: false });
  const done = waited.runId === runId && waited.done;
  useEffect(() => {
    if (!runId || done) return;
    const timer = setTimeout(() => setWaited({ runId, done: true }), transcriptOpen ? FACTS_AFTER_OPEN_MS : FACTS_WAIT_MS);
    return () => clearTimeout(timer);
  }, [runId, transcriptOpen, done]);
  const ready = runId !== null && done;
  /** When the facts were last asked for (per run), for FACTS_REFRESH_MS; the newest ask's number and the run shown. */
  const asked = useRef<{ runId: string | null; at: number; number: number }>({ runId: null, at: 0, number: 0 });
  const shown = useRef(runId);
  shown.current = runId;
  useEffect(() => {
    if (!runId || !ready) return;
    const ask = () => {
      const number = asked.current.number + 1;
      asked.current = { runId, at: Date.now(), number };
      // An answer still counts after the run moved on (it is the newest one asked); not after another run was selected.
      const applies = () => shown.current === runId && asked.current.number === number;
      client.invoke('reliability.runFacts', { runId }).then(
        (value) => applies() && (setFacts(value), setError(null)),
        (failure: unknown) => applies() && setError(describeError(failure)),
      );
    };
    const wait = asked.current.runId === runId ? asked.current.at + FACTS_REFRESH_MS - Date.now() : 0;
    if (wait <= 0) return void ask();
    const timer = setTimeout(ask, wait);
    return () => clearTimeout(timer);
  }, [client, runId, lastSeq, ready]);

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
