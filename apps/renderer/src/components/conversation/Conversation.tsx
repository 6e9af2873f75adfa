import { useCallback, useEffect, useMemo } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { composerState } from '../../lib/composer-state.js';
import { useConnection } from '../../stores/connection.js';
import { useRuns, useSelectedRun } from '../../stores/runs.js';
import { openTranscript, useTranscript } from '../../stores/transcript.js';
import { useUi } from '../../stores/ui.js';
import type { ItemContext } from '../items/TranscriptItemView.js';
import { Composer } from './Composer.js';
import { PinnedApprovals } from './PinnedApprovals.js';
import { RunHeader } from './RunHeader.js';
import { Transcript } from './Transcript.js';

/** Follows the selected run: opens its event stream and folds it into the transcript store. */
export function useSelectedRunFeed() {
  const { client } = useKeel();
  const runId = useRuns((state) => state.selectedRunId);
  useEffect(() => {
    if (!runId) return;
    const feed = openTranscript(client, runId);
    return () => feed.close();
  }, [client, runId]);
}

/** The left pane's main column: run header, transcript, pinned approvals and composer. */
export function Conversation() {
  useSelectedRunFeed();
  const { client } = useKeel();
  const selectedRunId = useRuns((state) => state.selectedRunId);
  const select = useRuns((state) => state.select);
  const summary = useSelectedRun();
  const { view, itemsFrom, status, error, runId } = useTranscript();
  const connection = useConnection((state) => state.status);
  const openNewRun = useUi((state) => state.setNewRunOpen);

  const state = composerState(connection, summary, view, status === 'loading');
  const restart = useCallback(async () => {
    if (runId) await client.invoke('runtime.restart', { runId });
  }, [client, runId]);

  const context = useMemo<ItemContext>(
    () => ({
      runId: runId ?? '',
      readOnly: state.actionsBlocked,
      onRestart: view?.runtimeStopped ? () => void restart().catch(() => {}) : undefined,
      restartDisabled: state.canRestart ? null : state.actionsBlocked,
    }),
    [runId, state.actionsBlocked, state.canRestart, view?.runtimeStopped, restart],
  );

  if (!selectedRunId) {
    return (
      <div className="conversation empty" data-testid="conversation">
        <div className="empty-state">
          <p>No run selected.</p>
          <p className="muted">Pick a run on the left, or start a new one: a workspace folder and an agent.</p>
          <button type="button" className="primary" onClick={() => openNewRun(true)}>
            New run
          </button>
        </div>
      </div>
    );
  }
  if (status === 'error') {
    return (
      <div className="conversation empty" data-testid="conversation">
        <div className="empty-state">
          <p>Could not open run {selectedRunId}.</p>
          <p className="muted">{error}</p>
          <button type="button" onClick={() => select(null)}>
            Close
          </button>
        </div>
      </div>
    );
  }
  if (!view || runId !== selectedRunId || (status === 'loading' && view.eventCount === 0)) {
    return (
      <div className="conversation empty" data-testid="conversation" aria-busy="true">
        <p className="muted">Loading run…</p>
      </div>
    );
  }
  return (
    <div className="conversation" data-testid="conversation" data-run-id={runId}>
      <RunHeader view={view} summary={summary} />
      <Transcript key={`transcript:${runId}`} view={view} itemsFrom={itemsFrom} context={context} />
      <PinnedApprovals view={view} itemsFrom={itemsFrom} readOnly={state.actionsBlocked} />
      <Composer key={`composer:${runId}`} runId={runId} state={state} onRestart={restart} turn={view.currentTurn} />
    </div>
  );
}
