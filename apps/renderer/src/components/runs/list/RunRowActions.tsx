import type { RunSummary } from '@keel/core/contract';
import { useEffect, useRef, useState } from 'react';
import { useKeel } from '../../../lib/client-context.js';
import { describeError } from '../../../lib/errors.js';
import { DeleteRunDialog } from './DeleteRunDialog.js';

/**
 * A run's actions in the list (⋯): archive or unarchive, delete. The host refuses a run in a
 * turn; its words are shown under the row.
 */
export function RunRowActions({ run }: { run: RunSummary }) {
  const { client } = useKeel();
  const [open, setOpen] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const menu = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const away = (event: MouseEvent) => {
      if (!menu.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [open]);

  const archive = async (archived: boolean) => {
    setOpen(false);
    setProblem(null);
    try {
      await client.invoke('run.archive', { runId: run.id, archived });
    } catch (failure) {
      setProblem(describeError(failure));
    }
  };

  return (
    // The row selects on click; its actions do not.
    <div className="run-row-actions" ref={menu} onClick={(event) => event.stopPropagation()} onKeyDown={(event) => event.stopPropagation()}>
      <button
        type="button"
        className="icon-button"
        aria-label={`Actions for ${run.title || run.id}`}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((value) => !value)}
        data-testid="run-actions"
      >
        ⋯
      </button>
      {open && (
        <div className="run-row-menu" role="menu" onKeyDown={(event) => event.key === 'Escape' && setOpen(false)}>
          <button type="button" role="menuitem" autoFocus onClick={() => void archive(!run.archived)} data-testid={run.archived ? 'run-unarchive' : 'run-archive'}>
            {run.archived ? 'Unarchive' : 'Archive'}
          </button>
          <button
            type="button"
            role="menuitem"
            className="danger-text"
            onClick={() => {
              setOpen(false);
              setProblem(null);
              setDeleting(true);
            }}
            data-testid="run-delete"
          >
            Delete…
          </button>
        </div>
      )}
      {problem && (
        <p className="run-row-problem status-degraded" role="alert" title="Click to dismiss" onClick={() => setProblem(null)} data-testid="run-action-problem">
          {problem}
        </p>
      )}
      {deleting && <DeleteRunDialog run={run} onClose={() => setDeleting(false)} />}
    </div>
  );
}
