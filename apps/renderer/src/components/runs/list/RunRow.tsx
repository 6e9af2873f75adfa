import { stopReasonInfo, type RunSummary } from '@keel/core/contract';
import { agentLabel, baseName } from '../../../lib/agent.js';
import { absoluteTime, relativeTime } from '../../../lib/time.js';
import { StateBadge } from '../../StateBadge.js';
import { RunRowActions } from './RunRowActions.js';
import { RunRowUsage } from './RunRowUsage.js';

/** One run in the run list: title, state, workspace, time, agent, flags, and its actions (⋯). A per-row fact (e.g. usage) is one more child here. */
export function RunRow({ run, selected, now, onSelect }: { run: RunSummary; selected: boolean; now: number; onSelect(): void }) {
  const stop = run.stopReason && run.stopReason !== 'end_turn' ? stopReasonInfo(run.stopReason) : null;
  return (
    <li
      role="option"
      aria-selected={selected}
      tabIndex={0}
      className={`run-row${selected ? ' selected' : ''}${run.archived ? ' archived' : ''}`}
      data-testid="run-item"
      data-run-id={run.id}
      data-state={run.state}
      data-archived={run.archived ? 'true' : undefined}
      onClick={onSelect}
      onKeyDown={(event) => {
        if (event.target !== event.currentTarget) return;
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          onSelect();
        }
      }}
    >
      <div className="run-row-head">
        <div className={`run-title${run.title ? '' : ' untitled'}`} title={run.title ? `${run.title}\n${run.id}` : run.id}>
          {run.title || 'Untitled run'}
        </div>
        <RunRowActions run={run} />
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
      <RunRowUsage usage={run.usage} now={now} />
      {(stop || run.quarantined || run.readOnly || run.archived) && (
        <div className="run-row-flags">
          {stop && (
            <span className={`stop-chip family-${stop.family}`} title={stop.diagnosis}>
              {stop.code}
            </span>
          )}
          {run.archived && <span className="flag" data-testid="run-archived-flag">archived</span>}
          {run.quarantined && <span className="flag bad" title={run.quarantineReason ?? undefined}>quarantined</span>}
          {run.readOnly && !run.quarantined && <span className="flag">{run.origin === 'imported' ? 'imported' : 'read-only'}</span>}
        </div>
      )}
    </li>
  );
}
