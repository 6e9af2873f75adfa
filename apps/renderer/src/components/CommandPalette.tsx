import { Command } from 'cmdk';
import { useEffect, useState } from 'react';
import { useKeel } from '../lib/client-context.js';
import { describeError } from '../lib/errors.js';
import { modKey } from '../lib/keyboard.js';
import { useLayout } from '../stores/layout.js';
import { useRunListFilter, useRuns, useSelectedRun } from '../stores/runs.js';
import { useSettings } from '../stores/settings.js';
import { useUi } from '../stores/ui.js';
import { useSearchUi } from './conversation/search/search-ui.js';
import { showChanges } from './changes/ShowChangesButton.js';

/** The palette's key: Ctrl+K (⌘K on a Mac), from anywhere, text fields included. */
export const isPaletteKey = (event: KeyboardEvent) => (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'k';

/**
 * The command palette (issue 15, point 24): Ctrl/Cmd+K, type to filter, Enter to run. New run,
 * switch run, restart, cancel, export diagnostics, settings, the side pane. Actions on a run act
 * on the selected one; the host's refusal (nothing to cancel, …) is shown in plain words.
 */
export function CommandPalette() {
  const { client } = useKeel();
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const runs = useRuns((state) => state.runs);
  const selected = useSelectedRun();
  const sideOpen = useLayout((state) => state.sideOpen);
  const showArchived = useRunListFilter((state) => state.filter.showArchived);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isPaletteKey(event)) {
        event.preventDefault();
        setOpen((value) => !value);
        setSearch('');
        setStatus(null);
      } else if (event.key === 'Escape' && open) setOpen(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);

  if (!open) return null;
  const close = () => setOpen(false);
  /** Runs a host call; closes on success (or shows `done`), shows the refusal otherwise. */
  const call = async (work: () => Promise<unknown>, done?: (result: unknown) => string) => {
    setStatus({ ok: true, text: 'Working…' });
    try {
      const result = await work();
      if (done) setStatus({ ok: true, text: done(result) });
      else close();
    } catch (failure) {
      setStatus({ ok: false, text: describeError(failure) });
    }
  };
  const runId = selected?.id ?? null;
  return (
    <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && close()}>
      <div className="dialog palette" role="dialog" aria-modal="true" aria-label="Command palette" data-testid="command-palette">
        <Command label="Command palette" loop>
          <Command.Input autoFocus value={search} onValueChange={setSearch} placeholder="Type a command or a run’s name…" data-testid="palette-input" />
          <Command.List>
            <Command.Empty>No command matches.</Command.Empty>
            <Command.Group heading="Commands">
              <Command.Item
                value="New run"
                onSelect={() => {
                  close();
                  useUi.getState().setNewRunOpen(true);
                }}
              >
                New run…
              </Command.Item>
              {runId && (
                <>
                  <Command.Item value="Restart runtime" onSelect={() => void call(() => client.invoke('runtime.restart', { runId }))}>
                    Restart the agent of “{selected?.title ?? runId}”
                  </Command.Item>
                  <Command.Item value="Cancel turn" onSelect={() => void call(() => client.invoke('run.cancel', { runId }))}>
                    Cancel the running turn
                  </Command.Item>
                  <Command.Item
                    value="Find in transcript"
                    onSelect={() => {
                      close();
                      useSearchUi.getState().openSearch();
                    }}
                  >
                    Find in the transcript ({modKey()}+F)
                  </Command.Item>
                  <Command.Item
                    value="Show changes"
                    onSelect={() => {
                      close();
                      showChanges();
                    }}
                  >
                    Show the changes of this run
                  </Command.Item>
                  <Command.Item
                    value="Export diagnostics"
                    onSelect={() =>
                      void call(
                        () => client.invoke('diagnostics.export', { runIds: [runId] }),
                        (result) => `Wrote ${(result as { file: string | null }).file ?? 'nothing'}`,
                      )
                    }
                  >
                    Export diagnostics of this run
                  </Command.Item>
                  <Command.Item
                    value={selected?.archived ? 'Unarchive run' : 'Archive run'}
                    onSelect={() => void call(() => client.invoke('run.archive', { runId, archived: !selected?.archived }))}
                  >
                    {selected?.archived ? 'Unarchive this run' : 'Archive this run'}
                  </Command.Item>
                </>
              )}
              <Command.Item
                value="Open settings"
                onSelect={() => {
                  close();
                  useSettings.getState().setOpen(true);
                }}
              >
                Open settings
              </Command.Item>
              <Command.Item
                value={sideOpen ? 'Hide side pane' : 'Show side pane'}
                onSelect={() => {
                  close();
                  useLayout.getState().setSideOpen(!sideOpen);
                }}
              >
                {sideOpen ? 'Hide the side pane' : 'Show the side pane'}
              </Command.Item>
              <Command.Item
                value={showArchived ? 'Hide archived runs' : 'Show archived runs'}
                onSelect={() => {
                  close();
                  useRunListFilter.getState().setFilter({ showArchived: !showArchived });
                }}
              >
                {showArchived ? 'Hide archived runs' : 'Show archived runs'}
              </Command.Item>
            </Command.Group>
            {runs.length > 0 && (
              <Command.Group heading="Switch run">
                {runs.map((run) => (
                  <Command.Item
                    key={run.id}
                    value={`Switch to ${run.title ?? ''} ${run.id}`}
                    onSelect={() => {
                      close();
                      useRuns.getState().select(run.id);
                    }}
                  >
                    {run.title ?? <code>{run.id}</code>}
                    <span className="muted small"> · {run.state}</span>
                  </Command.Item>
                ))}
              </Command.Group>
            )}
          </Command.List>
        </Command>
        <div className="palette-foot muted small">
          {status ? (
            <span className={status.ok ? 'status-ok' : 'status-failed'} role="status" data-testid="palette-status">
              {status.text}
            </span>
          ) : (
            <span>
              ↑↓ to choose · Enter to run · Esc to close · <kbd>{modKey()}+K</kbd> opens this
            </span>
          )}
        </div>
      </div>
    </div>
  );
}
