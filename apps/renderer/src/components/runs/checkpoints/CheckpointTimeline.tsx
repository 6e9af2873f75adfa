import type { ItemOfKind, RestoreOutcome, RunView } from '@keel/core/contract';
import { useMemo, useState } from 'react';
import { useKeel } from '../../../lib/client-context.js';
import { describeError } from '../../../lib/errors.js';
import { loadEarlierItems, useTranscript } from '../../../stores/transcript.js';

type CheckpointItem = ItemOfKind<'checkpoint'>;

/** The run's checkpoints, one per turn boundary, newest last (from the transcript fold). */
export function checkpointsOf(view: RunView): CheckpointItem[] {
  const byTurn = new Map<number, CheckpointItem>();
  for (const item of view.items) {
    if (item.kind === 'checkpoint' && (item.event === 'created' || item.event === 'skipped') && item.turn !== null) byTurn.set(item.turn, item);
  }
  return [...byTurn.values()].sort((a, b) => (a.turn ?? 0) - (b.turn ?? 0));
}

/** The files a restore to `turn` puts back: those the later turns changed (changes since the last checkpoint come too). */
export function filesAfter(checkpoints: readonly CheckpointItem[], turn: number): { files: string[]; complete: boolean } {
  const files = new Set<string>();
  let complete = true;
  for (const item of checkpoints) {
    if ((item.turn ?? 0) <= turn) continue;
    if (item.event === 'skipped' || item.filesTotal > item.files.length) complete = false;
    for (const file of item.files) files.add(file.path);
  }
  return { files: [...files].sort(), complete };
}

const label = (turn: number) => (turn === 0 ? 'baseline' : `turn ${turn}`);

/**
 * The checkpoint timeline in the run header: one mark per turn boundary; choosing one offers a
 * restore, confirmed against the list of files it will put back. Restore is refused while a
 * turn runs (the host refuses too).
 */
export function CheckpointTimeline({ view, readOnly }: { view: RunView; readOnly?: string | null }) {
  const { client } = useKeel();
  const checkpoints = useMemo(() => checkpointsOf(view), [view]);
  const [chosen, setChosen] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  // A long run's transcript is windowed: the checkpoints of its earlier items show once they are
  // loaded (the "…" mark loads a page; the Changes view lists every checkpoint from the host).
  const notLoaded = useTranscript((state) => (state.runId === view.runId ? state.itemsFrom : 0));
  if (checkpoints.length === 0) return null;
  const target = chosen === null ? null : checkpoints.find((item) => item.turn === chosen) ?? null;
  const plan = chosen === null ? null : filesAfter(checkpoints, chosen);
  const blocked = readOnly ?? (view.turnOpen ? 'A turn is running: restore when it has ended.' : null);

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
        {notLoaded > 0 && (
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
        {checkpoints.map((item) => (
          <li key={item.turn}>
            <button
              type="button"
              className={`cp-dot ${item.event}${chosen === item.turn ? ' chosen' : ''}`}
              title={item.text}
              aria-label={`${label(item.turn ?? 0)}: ${item.text}`}
              aria-pressed={chosen === item.turn}
              disabled={item.event === 'skipped'}
              data-testid="checkpoint-dot"
              onClick={() => {
                setResult(null);
                setChosen(chosen === item.turn ? null : item.turn);
              }}
            >
              {item.turn === 0 ? 'B' : item.turn}
            </button>
          </li>
        ))}
      </ol>
      {target && plan && (
        <div className="cp-confirm" role="dialog" aria-label={`Restore ${label(chosen!)}`} data-testid="checkpoint-restore-confirm">
          <p className="small">
            Restore the workspace to <strong>{label(chosen!)}</strong>? A safety checkpoint of the workspace as it is now is taken first; ignored files are never touched.
          </p>
          {plan.files.length > 0 ? (
            <>
              <p className="small muted">These files go back{plan.complete ? '' : ' (at least)'}, and any change made since the last checkpoint:</p>
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
            <p className="small muted">No turn after it changed files; only changes made since the last checkpoint go back.</p>
          )}
          <div className="cp-confirm-actions">
            <button type="button" className="danger" disabled={busy || blocked !== null} title={blocked ?? undefined} onClick={() => void restore()} data-testid="checkpoint-restore">
              {busy ? 'Restoring…' : `Restore ${label(chosen!)}`}
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
