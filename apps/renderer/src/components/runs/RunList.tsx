import type { RunSummary } from '@keel/core/contract';
import { baseName } from '../../lib/agent.js';
import { useNow } from '../../lib/time.js';
import { useRunListFilter, useRuns } from '../../stores/runs.js';
import { useUi } from '../../stores/ui.js';
import { filterRuns, groupByWorkspace, isNarrowed } from './list/run-filter.js';
import { RunListToolbar } from './list/RunListToolbar.js';
import { RunRow } from './list/RunRow.js';

/** The run list: search and filters above, rows (optionally grouped by workspace) below. */
export function RunList() {
  const { runs, loaded, error, selectedRunId, select } = useRuns();
  const { filter, clearFilter, setFilter } = useRunListFilter();
  const openNewRun = useUi((state) => state.setNewRunOpen);
  const now = useNow();
  if (!loaded) {
    return <p className="muted list-note">{error ? `Could not load runs: ${error}` : 'Loading runs…'}</p>;
  }
  if (runs.length === 0) {
    return (
      <div className="empty-state">
        <p>No runs yet.</p>
        <p className="muted">A run is one task on one workspace with one agent.</p>
        <button type="button" className="primary" onClick={() => openNewRun(true)}>
          Start a run
        </button>
      </div>
    );
  }
  const shown = filterRuns(runs, filter);
  const rows = (list: RunSummary[]) =>
    list.map((run) => <RunRow key={run.id} run={run} selected={run.id === selectedRunId} now={now} onSelect={() => select(run.id)} />);
  return (
    <>
      <RunListToolbar runs={runs} />
      {error && <p className="list-note status-degraded">Run list may be stale: {error}</p>}
      {shown.length === 0 ? (
        <div className="list-note muted" data-testid="run-list-none">
          {isNarrowed(filter) ? (
            <>
              No run matches.{' '}
              <button type="button" className="link" onClick={clearFilter}>
                Clear filters
              </button>
            </>
          ) : (
            <>
              Every run is archived.{' '}
              <button type="button" className="link" onClick={() => setFilter({ showArchived: true })}>
                Show archived
              </button>
            </>
          )}
        </div>
      ) : filter.groupByWorkspace ? (
        <div role="listbox" aria-label="Runs" data-testid="run-list">
          {groupByWorkspace(shown).map((group) => (
            <section key={group.workspace} className="run-group" aria-label={group.workspace || 'no workspace'} data-testid="run-group">
              <h3 className="run-group-head" title={group.workspace || undefined}>
                {group.workspace ? baseName(group.workspace) : 'no workspace'} <span className="muted">({group.runs.length})</span>
              </h3>
              <ul className="run-list" role="group">
                {rows(group.runs)}
              </ul>
            </section>
          ))}
        </div>
      ) : (
        <ul className="run-list" role="listbox" aria-label="Runs" data-testid="run-list">
          {rows(shown)}
        </ul>
      )}
    </>
  );
}
