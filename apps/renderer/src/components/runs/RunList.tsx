import { stopReasonInfo, type RunSummary } from '@keel/core/contract';
import { agentLabel, baseName } from '../../lib/agent.js';
import { absoluteTime, relativeTime, useNow } from '../../lib/time.js';
import { useRuns } from '../../stores/runs.js';
import { useUi } from '../../stores/ui.js';
import { StateBadge } from '../StateBadge.js';

export function RunList() {
  const { runs, loaded, error, selectedRunId, select } = useRuns();
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
  return (
    <>
      {error && <p className="list-note status-degraded">Run list may be stale: {error}</p>}
      <ul className="run-list" role="listbox" aria-label="Runs" data-testid="run-list">
        {runs.map((run) => (
          <RunRow key={run.id} run={run} selected={run.id === selectedRunId} now={now} onSelect={() => select(run.id)} />
        ))}
      </ul>
    </>
  );
}

function RunRow({ run, selected, now, onSelect }: { run: RunSummary; selected: boolean; now: number; onSelect(): void }) {
  const stop = run.stopReason && run.stopReason !== 'end_turn' ? stopReasonInfo(run.stopReason) : null;
  return (
    <li
      role="option"
      aria-selected={selected}
      tabIndex={0}
      className={`run-row${selected ? ' selected' : ''}`}
      data-testid="run-item"
      data-run-id={run.id}
      data-state={run.state}
      onClick={onSelect}
      onKeyDown={(event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          onSelect();
        }
      }}
    >
      <div className={`run-title${run.title ? '' : ' untitled'}`} title={run.title ? `${run.title}\n${run.id}` : run.id}>
        {run.title || 'Untitled run'}
      </div>
      <div className="run-row-meta muted">
        <StateBadge state={run.state} />
        <span className="run-workspace" title={run.workspace ?? undefined}>
          {run.workspace ? baseName(run.workspace) : 'no workspace'}
        </span>
        <time dateTime={run.updated} title={absoluteTime(run.updated)}>
          {relativeTime(run.updated, now)}
        </time>
      </div>
      <div className="run-row-meta muted">
        <span className="run-agent">{agentLabel(run.agent)}</span>
      </div>
      {(stop || run.quarantined || run.readOnly) && (
        <div className="run-row-flags">
          {stop && (
            <span className={`stop-chip family-${stop.family}`} title={stop.diagnosis}>
              {stop.code}
            </span>
          )}
          {run.quarantined && <span className="flag bad" title={run.quarantineReason ?? undefined}>quarantined</span>}
          {run.readOnly && !run.quarantined && <span className="flag">{run.origin === 'imported' ? 'imported' : 'read-only'}</span>}
        </div>
      )}
    </li>
  );
}
