import type { CheckpointListingEntry, RestoreOutcome, RunView } from '@keel/core/contract';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useKeel } from '../../../lib/client-context.js';
import { describeError } from '../../../lib/errors.js';
import { loadEarlierItems, useTranscript } from '../../../stores/transcript.js';
import { checkpointsOf, filesAfter, loadUntilCheckpoint, newestCheckpointSeq, timelineMarks } from './timeline-marks.js';

export { checkpointsOf, filesAfter } from './timeline-marks.js';

const label = (turn: number) => (turn === 0 ? 'baseline' : `turn ${turn}`);
/** A message as a sentence, ending with a full stop. */
const sentence = (text: string) => (/[.!?…]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

/** The host's listing of the run's checkpoints, asked for while its transcript is windowed. */
type Listing = { runId: string; state: 'loading' } | { runId: string; state: 'ok'; entries: CheckpointListingEntry[] } | { runId: string; state: 'failed'; error: string };

/**
 * The checkpoint timeline in the run header: one mark per turn boundary; choosing one offers a
 * restore, confirmed against the list of files it will put back. Restore is refused while a
 * turn runs (the host refuses too). A long run's transcript is windowed (ADR 0023): then the
 * marks of checkpoints not loaded come from the host's listing (`checkpoints.list`, asked again
 * when a checkpoint item arrives), and choosing one loads earlier pages until its checkpoint
 * item is there, so the list of files put back is exact.
 */
export function CheckpointTimeline({ view, readOnly }: { view: RunView; readOnly?: string | null }) {
  const { client } = useKeel();
  const loaded = useMemo(() => checkpointsOf(view), [view]);
  const notLoaded = useTranscript((state) => (state.runId === view.runId ? state.itemsFrom : 0));
  const [listing, setListing] = useState<Listing | null>(null);
  const [asks, setAsks] = useState(0);
  const [chosen, setChosen] = useState<number | null>(null);
  const [preparing, setPreparing] = useState<{ turn: number; error: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const abort = useRef<AbortController | null>(null);
  const windowed = notLoaded > 0;
  const newestSeq = newestCheckpointSeq(loaded);

  // Windowed: ask the host for every checkpoint, again when one is taken (or skipped) in the window.
  useEffect(() => {
    if (!windowed) return;
    let current = true;
    setListing((before) => (before?.runId === view.runId && before.state === 'ok' ? before : { runId: view.runId, state: 'loading' }));
    client.invoke('checkpoints.list', { runId: view.runId }).then(
      (answer) => current && setListing({ runId: view.runId, state: 'ok', entries: answer.checkpoints }),
      (error: unknown) => current && setListing({ runId: view.runId, state: 'failed', error: describeError(error) }),
    );
    return () => {
      current = false;
    };
  }, [client, view.runId, windowed, newestSeq, asks]);
  useEffect(() => () => abort.current?.abort(), []);

  const listed = listing?.runId === view.runId && listing.state === 'ok' ? listing.entries : null;
  const marks = useMemo(() => timelineMarks(loaded, listed), [loaded, listed]);
  const listState = listing?.runId === view.runId ? listing.state : null;
  if (marks.length === 0 && !(windowed && listState === 'failed')) return null;
  const target = chosen === null || preparing !== null ? null : (marks.find((mark) => mark.turn === chosen) ?? null);
  const plan = target === null ? null : filesAfter(loaded, target.turn);
  // A later checkpoint the transcript does not hold (only listed): its files are not known.
  const complete = plan !== null && plan.complete && marks.every((mark) => mark.turn <= target!.turn || mark.item !== null);
  const blocked = readOnly ?? (view.turnOpen ? 'A turn is running: restore when it has ended.' : null);

  const prepare = (turn: number) => {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setPreparing({ turn, error: null });
    loadUntilCheckpoint(view.runId, turn, controller.signal).then(
      () => !controller.signal.aborted && setPreparing(null),
      (error: unknown) => !controller.signal.aborted && setPreparing({ turn, error: describeError(error) }),
    );
  };
  const choose = (turn: number) => {
    setResult(null);
    abort.current?.abort();
    setPreparing(null);
    if (chosen === turn) return setChosen(null);
    setChosen(turn);
    // Its checkpoint item (and so every later one) is not loaded: load earlier pages first.
    if (windowed && !loaded.some((item) => item.turn === turn)) prepare(turn);
  };
  const cancel = () => {
    abort.current?.abort();
    setPreparing(null);
    setChosen(null);
  };

  const restore = async () => {
    if (chosen === null) return;
    setBusy(true);
    setResult(null);
    try {
      const outcome: RestoreOutcome = await client.invoke('checkpoints.restore', { runId: view.runId, turn: chosen });
      setResult(
        outcome.kind === 'completed'
          ? { ok: true, text: `Restored ${label(chosen)}: ${outcome.filesTouched} file(s).` }
          : { ok: false, text: `Restore failed (${outcome.reason}): ${outcome.detail}` },
      );
      if (outcome.kind === 'completed') setChosen(null);
    } catch (error) {
      setResult({ ok: false, text: describeError(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="cp-timeline" data-testid="checkpoint-timeline">
      <span className="muted small">checkpoints</span>
      <ol className="cp-marks">
        {windowed && listState === 'loading' && (
          <li className="cp-listing muted small" aria-live="polite" data-testid="checkpoint-listing">
            listing earlier ones…
          </li>
        )}
        {windowed && listState === 'failed' && (
          <li>
            <button
              type="button"
              className="cp-dot earlier"
              title={`Earlier checkpoints are in the ${notLoaded.toLocaleString()} transcript items not loaded yet: load them`}
              aria-label={`Load ${notLoaded.toLocaleString()} earlier transcript items to show their checkpoints`}
              onClick={() => void loadEarlierItems()}
              data-testid="checkpoint-earlier"
            >
              …
            </button>
          </li>
        )}
        {marks.map((mark) => (
          <li key={mark.turn}>
            <button
              type="button"
              className={`cp-dot ${mark.status}${mark.item ? '' : ' listed'}${chosen === mark.turn ? ' chosen' : ''}`}
              title={mark.unavailable ? `${mark.text} ${mark.unavailable}` : mark.text}
              aria-label={`${label(mark.turn)}: ${mark.text}`}
              aria-pressed={chosen === mark.turn}
              disabled={mark.unavailable !== null}
              data-testid="checkpoint-dot"
              data-turn={mark.turn}
              data-loaded={mark.item ? 'true' : 'false'}
              onClick={() => choose(mark.turn)}
            >
              {mark.turn === 0 ? 'B' : mark.turn}
            </button>
          </li>
        ))}
      </ol>
      {windowed && listState === 'failed' && listing?.state === 'failed' && (
        <p className="small error cp-listing-failed" role="status" data-testid="checkpoint-listing-failed">
          Could not list this run's earlier checkpoints: {sentence(listing.error)} The marks shown still work.{' '}
          <button type="button" className="link" onClick={() => setAsks((n) => n + 1)} data-testid="checkpoint-listing-retry">
            Try again
          </button>
        </p>
      )}
      {preparing && (
        <div className="cp-confirm" role="dialog" aria-label={`Restore ${label(preparing.turn)}`} data-testid="checkpoint-restore-preparing" data-state={preparing.error ? 'failed' : 'loading'}>
          {preparing.error === null ? (
            <p className="small" aria-live="polite">
              Loading earlier transcript items ({notLoaded.toLocaleString()} not loaded yet) to list the files a restore to <strong>{label(preparing.turn)}</strong> puts back…
            </p>
          ) : (
            <p className="small error">Could not load the earlier transcript items to list the files a restore puts back. {sentence(preparing.error)}</p>
          )}
          <div className="cp-confirm-actions">
            {preparing.error !== null && (
              <button type="button" onClick={() => prepare(preparing.turn)} data-testid="checkpoint-preparing-retry">
                Try again
              </button>
            )}
            <button type="button" onClick={cancel}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {target && plan && (
        <div className="cp-confirm" role="dialog" aria-label={`Restore ${label(target.turn)}`} data-testid="checkpoint-restore-confirm">
          <p className="small">
            Restore the workspace to <strong>{label(target.turn)}</strong>? A safety checkpoint of the workspace as it is now is taken first; ignored files are never touched.
          </p>
          {plan.files.length > 0 ? (
            <>
              <p className="small muted">These files go back{complete ? '' : ' (at least)'}, and any change made since the last checkpoint:</p>
              <ul className="cp-files">
                {plan.files.slice(0, 200).map((file) => (
                  <li key={file}>
                    <code>{file}</code>
                  </li>
                ))}
                {plan.files.length > 200 && <li className="muted small">… and {plan.files.length - 200} more</li>}
              </ul>
            </>
          ) : (
            <p className="small muted">No turn after it changed files{complete ? '' : ' as far as the transcript shows'}; only changes made since the last checkpoint go back.</p>
          )}
          <div className="cp-confirm-actions">
            <button type="button" className="danger" disabled={busy || blocked !== null} title={blocked ?? undefined} onClick={() => void restore()} data-testid="checkpoint-restore">
              {busy ? 'Restoring…' : `Restore ${label(target.turn)}`}
            </button>
            <button type="button" onClick={() => setChosen(null)} disabled={busy}>
              Cancel
            </button>
            {blocked && <span className="muted small">{blocked}</span>}
          </div>
        </div>
      )}
      {result && (
        <p className={`small ${result.ok ? 'status-ok' : 'error'}`} role="status" data-testid="checkpoint-restore-result">
          {result.text}
        </p>
      )}
    </div>
  );
}
