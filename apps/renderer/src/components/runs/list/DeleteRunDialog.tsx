import type { RunDeleteOutcome, RunSummary } from '@keel/core/contract';
import { useId, useState, type FormEvent } from 'react';
import { useKeel } from '../../../lib/client-context.js';
import { toShownError, type ShownError } from '../../../lib/errors.js';
import { ErrorBox } from '../../ErrorBox.js';

/**
 * Delete a run from the list. Its files stay on disk unless the person ticks "Also delete its
 * files" (the ledger, checkpoints, run folder and a clean worktree; never the branch or a
 * dirty worktree). What stayed, if anything, is said after.
 */
export function DeleteRunDialog({ run, onClose }: { run: RunSummary; onClose(): void }) {
  const { client } = useKeel();
  const ids = useId();
  const [withFiles, setWithFiles] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);
  const [outcome, setOutcome] = useState<RunDeleteOutcome | null>(null);
  const name = run.title || run.id;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const done = await client.invoke('run.delete', { runId: run.id, deleteFiles: withFiles });
      if (done.notes.length > 0) setOutcome(done);
      else onClose();
    } catch (failure) {
      setError(toShownError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && !busy && onClose()}>
      <div className="dialog" role="alertdialog" aria-modal="true" aria-labelledby={`${ids}-title`} data-testid="delete-run-dialog">
        {outcome ? (
          <>
            <h2 id={`${ids}-title`}>Deleted, with notes</h2>
            <ul className="small" data-testid="delete-run-notes">
              {outcome.notes.map((note) => (
                <li key={note}>{note}</li>
              ))}
            </ul>
            <div className="dialog-actions">
              <button type="button" className="primary" onClick={onClose} autoFocus>
                Done
              </button>
            </div>
          </>
        ) : (
          <form onSubmit={submit} noValidate>
            <h2 id={`${ids}-title`}>Delete “{name}”?</h2>
            <p>
              The run leaves the run list. Its ledger and checkpoints stay on disk, untouched, unless you tick the box below.
            </p>
            <label className={`choice delete-files-choice${withFiles ? ' checked' : ''}`}>
              <input type="checkbox" checked={withFiles} onChange={(event) => setWithFiles(event.target.checked)} data-testid="delete-run-files" />
              <span>
                Also delete its files: the ledger (every event of this run), its checkpoints and run folder, and its worktree if clean. This
                cannot be undone. Its branch and your repository’s files are never touched.
              </span>
            </label>
            {error && <ErrorBox error={error} testId="delete-run-error" />}
            <div className="dialog-actions">
              <button type="button" onClick={onClose} disabled={busy} autoFocus>
                Cancel
              </button>
              <button type="submit" className="danger" disabled={busy} data-testid="delete-run-confirm">
                {busy ? 'Deleting…' : withFiles ? 'Delete run and its files' : 'Delete from the list'}
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}
