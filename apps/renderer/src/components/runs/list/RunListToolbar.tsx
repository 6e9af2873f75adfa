import { RunStateName, type RunSummary } from '@keel/core/contract';
import { baseName } from '../../../lib/agent.js';
import { stateLabel } from '../../../lib/run-state.js';
import { useRunListFilter } from '../../../stores/runs.js';
import { filterOptions, isNarrowed } from './run-filter.js';

/** Search, filters (state, agent, workspace), grouping and "Show archived (N)" above the run list. */
export function RunListToolbar({ runs }: { runs: readonly RunSummary[] }) {
  const { filter, setFilter, clearFilter } = useRunListFilter();
  const options = filterOptions(runs);
  const archived = runs.filter((run) => run.archived).length;
  const pick = (value: string) => (value === '' ? null : value);
  return (
    <div className="run-list-toolbar" role="search" data-testid="run-list-toolbar">
      <input
        type="search"
        className="run-search"
        value={filter.query}
        onChange={(event) => setFilter({ query: event.target.value })}
        onKeyDown={(event) => event.key === 'Escape' && filter.query && setFilter({ query: '' })}
        placeholder="Search runs"
        title="Every word must appear in the title, id, workspace path or agent"
        aria-label="Search runs"
        spellCheck={false}
        data-testid="run-search"
      />
      <div className="run-filters">
        <select value={filter.state ?? ''} onChange={(event) => setFilter({ state: pick(event.target.value) })} aria-label="Filter by state" data-testid="run-filter-state">
          <option value="">State: any</option>
          {RunStateName.options.map((state) => (
            <option key={state} value={state}>
              {stateLabel(state)}
            </option>
          ))}
        </select>
        <select value={filter.agent ?? ''} onChange={(event) => setFilter({ agent: pick(event.target.value) })} aria-label="Filter by agent" title={filter.agent ?? 'Any agent'} data-testid="run-filter-agent">
          <option value="">Agent: any</option>
          {withHeld(options.agents, filter.agent).map((agent) => (
            <option key={agent} value={agent}>
              {agent}
            </option>
          ))}
        </select>
        <select
          value={filter.workspace ?? ''}
          onChange={(event) => setFilter({ workspace: pick(event.target.value) })}
          aria-label="Filter by workspace"
          title={filter.workspace ?? 'Any workspace'}
          data-testid="run-filter-workspace"
        >
          <option value="">Workspace: any</option>
          {withHeld(options.workspaces, filter.workspace).map((workspace) => (
            <option key={workspace} value={workspace} title={workspace}>
              {workspace ? baseName(workspace) : 'no workspace'}
            </option>
          ))}
        </select>
      </div>
      <div className="run-list-toggles">
        <label className="choice">
          <input type="checkbox" checked={filter.groupByWorkspace} onChange={(event) => setFilter({ groupByWorkspace: event.target.checked })} data-testid="run-group-toggle" />
          <span>Group by workspace</span>
        </label>
        <label className="choice">
          <input type="checkbox" checked={filter.showArchived} onChange={(event) => setFilter({ showArchived: event.target.checked })} data-testid="run-archived-toggle" />
          <span>Show archived ({archived})</span>
        </label>
        {isNarrowed(filter) && (
          <button type="button" className="link" onClick={clearFilter} data-testid="run-filter-clear">
            Clear filters
          </button>
        )}
      </div>
    </div>
  );
}

/** The options, plus the remembered choice if no run has it now (so the select still shows it). */
const withHeld = (values: string[], held: string | null) => (held !== null && !values.includes(held) ? [...values, held] : values);
