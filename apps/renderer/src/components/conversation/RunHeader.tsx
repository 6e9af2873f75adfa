import { stopReasonInfo, type RunSummary, type RunView } from '@keel/core/contract';
import { useState } from 'react';
import { createPortal } from 'react-dom';
import { agentLabel } from '../../lib/agent.js';
import { EditAgentDialog } from '../runs/EditAgentDialog.js';
import { RunTitle } from './RunTitle.js';
import { Disclosure } from '../items/Disclosure.js';
import { CheckpointTimeline } from '../runs/checkpoints/CheckpointTimeline.js';
import { StateBadge } from '../StateBadge.js';
import { ReplayButton } from '../replay/ReplayRoot.js';
import { ExportDiagnosticsButton } from '../replay/ExportDiagnostics.js';
import { UsageFacts } from '../usage/UsageFacts.js';
import { ShowChangesButton } from '../changes/ShowChangesButton.js';

const PLAN_MARK = { completed: '✓', in_progress: '◐', pending: '○' } as const;

/**
 * Who, where and how far: title, state, weighted progress (core's numbers, I9), the stop
 * reason with its registry diagnosis, generations and restarts.
 */
export function RunHeader({ view, summary }: { view: RunView; summary: RunSummary | null }) {
  const stop = view.stopReason ? stopReasonInfo(view.stopReason) : null;
  const { progress } = view;
  const title = view.title ?? summary?.title ?? null;
  // A plan left unfinished by a turn that ended (a crash, a deny, a cancel) is the last plan, not
  // work in progress: said so, with nothing shown as still running.
  const planStale = !view.turnOpen && progress.percent !== null && progress.percent < 100;
  return (
    <header className="run-header" data-testid="run-header">
      <div className="run-header-top">
        <RunTitle runId={view.runId} title={title} canRename={!summary?.readOnly && !summary?.quarantined} />
        <StateBadge state={view.state} testId="run-state" />
        {view.runtimeStopped && (
          <span className="flag bad" data-testid="runtime-stopped">
            runtime stopped
          </span>
        )}
        {summary?.quarantined && <span className="flag bad">quarantined</span>}
        {summary?.readOnly && !summary.quarantined && <span className="flag">{summary.origin === 'imported' ? 'imported · read-only' : 'read-only'}</span>}
        <ShowChangesButton />
        <ReplayButton runId={view.runId} />
        <ExportDiagnosticsButton runId={view.runId} />
      </div>
      <dl className="run-facts">
        {title && (
          <div>
            <dt>id</dt>
            <dd>
              <code>{view.runId}</code>
            </dd>
          </div>
        )}
        <div>
          <dt>workspace</dt>
          <dd title={view.workspace ?? undefined} data-testid="run-workspace">
            <code>{view.workspace ?? '—'}</code>
          </dd>
        </div>
        <div>
          <dt>agent</dt>
          <dd data-testid="run-agent">
            {agentLabel(view.agent)}
            {!summary?.readOnly && !summary?.quarantined && <EditAgentButton view={view} />}
          </dd>
        </div>
        <div>
          <dt>turn</dt>
          <dd>{view.currentTurn}</dd>
        </div>
        <div title="Each start of the agent's process is a new generation; the conversation continues across them.">
          <dt>agent process</dt>
          <dd data-testid="run-generation">{view.generation === null ? '—' : `#${view.generation}`}</dd>
        </div>
        <div>
          <dt>restarts</dt>
          <dd data-testid="run-restarts" className={view.restarts > 0 ? 'status-degraded' : undefined}>
            {view.restarts}
          </dd>
        </div>
        <UsageFacts usage={view.usage} />
      </dl>
      {stop && (
        <p
          className={`run-stop family-${stop.family}`}
          data-testid="run-stop-reason"
          data-stop-reason={stop.code}
          title={stop.autoResumable ? 'Keel continues the run with the next prompt.' : undefined}
        >
          <span className="muted">{stop.family === 'completed' ? 'Finished: ' : 'Stopped: '}</span>
          {stop.diagnosis} <code className="muted small" title="stop reason">{stop.code}</code>
          {view.detail && !stop.diagnosis.includes(view.detail) && <span className="muted"> ({view.detail})</span>}
        </p>
      )}
      {!stop && view.detail && <p className="muted small run-detail">{view.detail}</p>}
      {progress.percent !== null && (
        <div className="run-progress">
          <div
            className={`progress-bar${planStale ? ' stale' : ''}`}
            data-stale={planStale}
            role="progressbar"
            aria-label="Plan progress"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={progress.percent}
            data-testid="run-progress"
          >
            <div className="progress-fill" style={{ width: `${progress.percent}%` }} />
          </div>
          <Disclosure
            stateKey={`${view.runId}:plan`}
            className="plan"
            testId="plan"
            summary={
              planStale ? (
                <span className="small muted" data-testid="plan-stale">
                  <strong>{progress.percent}%</strong> · plan left unfinished when turn {view.currentTurn} ended: {progress.completed} done,{' '}
                  {progress.inProgress + progress.pending} not done
                </span>
              ) : (
                <span className="small">
                  <strong>{progress.percent}%</strong> · plan: {progress.completed} done, {progress.inProgress} in progress, {progress.pending} pending
                </span>
              )
            }
          >
            <ol className="plan-entries">
              {view.plan.map((entry, index) => (
                <li key={index} className={`plan-entry plan-${entry.status}`}>
                  <span className="plan-mark" aria-label={planStale && entry.status !== 'completed' ? 'not done' : entry.status}>
                    {planStale && entry.status === 'in_progress' ? PLAN_MARK.pending : PLAN_MARK[entry.status]}
                  </span>
                  <span>{entry.content}</span>
                  {entry.priority && <span className={`chip priority-${entry.priority}`}>{entry.priority}</span>}
                </li>
              ))}
            </ol>
          </Disclosure>
        </div>
      )}
      <CheckpointTimeline view={view} readOnly={summary?.readOnly ? 'This run is read-only.' : null} />
    </header>
  );
}

/** The ✎ beside the agent: change it (refused by the host while a turn runs, with the reason). */
function EditAgentButton({ view }: { view: RunView }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="icon-button" title="Change the agent" aria-label="Change the agent" onClick={() => setOpen(true)} data-testid="edit-agent">
        ✎
      </button>
      {/* A portal: the header clips what overflows it, and the dialog must cover the window. */}
      {open && createPortal(<EditAgentDialog runId={view.runId} agent={view.agent} onClose={() => setOpen(false)} />, document.body)}
    </>
  );
}
