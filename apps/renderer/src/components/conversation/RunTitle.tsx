import { useState, type FormEvent } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';

/** The run's title in its header, with Rename: Enter saves (recorded as run.renamed), Escape cancels. */
export function RunTitle({ runId, title, canRename }: { runId: string; title: string | null; canRename: boolean }) {
  const { client } = useKeel();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const start = () => {
    setText(title ?? '');
    setError(null);
    setEditing(true);
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (text.trim() === '') {
      setError('Type a title.');
      return;
    }
    setBusy(true);
    try {
      await client.invoke('run.rename', { runId, title: text.trim() });
      setEditing(false);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  if (editing) {
    return (
      <form className="run-title-form" onSubmit={save} data-testid="run-rename-form">
        <input
          autoFocus
          value={text}
          maxLength={500}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={(event) => event.key === 'Escape' && setEditing(false)}
          aria-label="Run title"
          data-testid="run-rename-input"
          disabled={busy}
        />
        <button type="submit" className="primary small-button" disabled={busy}>
          Save
        </button>
        <button type="button" className="small-button" onClick={() => setEditing(false)} disabled={busy}>
          Cancel
        </button>
        {error && (
          <span className="status-failed small" role="alert">
            {error}
          </span>
        )}
      </form>
    );
  }
  return (
    <>
      <h3 className={`run-header-title${title ? '' : ' untitled'}`} title={runId} data-testid="run-title">
        {title || 'Untitled run'}
      </h3>
      {canRename && (
        <button type="button" className="icon-button" onClick={start} title="Rename this run" aria-label="Rename this run" data-testid="run-rename">
          ✎
        </button>
      )}
    </>
  );
}
