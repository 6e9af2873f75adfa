import type { ConnectionStatus, RunSummary, RunView } from '@keel/core/contract';

export interface ComposerState {
  /** Why nothing can be sent right now; null when a prompt can go. */
  sendBlocked: string | null;
  canCancel: boolean;
  canRestart: boolean;
  /** Why the run cannot be acted on at all (disconnected, read-only); null otherwise. */
  actionsBlocked: string | null;
  /** The runtime needs a restart before anything else. */
  restartSuggested: boolean;
}

/** What the composer allows, and in words why not. Pure: decided from the connection, the run summary and the folded view. */
export function composerState(connection: ConnectionStatus, summary: RunSummary | null, view: RunView | null, loading: boolean): ComposerState {
  const actionsBlocked =
    connection === 'lost'
      ? 'Disconnected — Keel cannot be reached; retrying'
      : connection !== 'connected'
        ? 'Disconnected — reconnecting'
        : summary?.quarantined
          ? 'This run is read-only (quarantined: its log is damaged)'
          : summary?.readOnly
            ? `This run is read-only (${summary.origin === 'imported' ? 'imported' : 'read-only'})`
            : null;
  const running = view !== null && (view.turnOpen || view.state === 'running' || view.state === 'awaiting_approval');
  let sendBlocked = actionsBlocked;
  if (!sendBlocked) {
    if (loading || view === null) sendBlocked = 'Loading the run…';
    else if (view.runtimeStopped) sendBlocked = 'The runtime is stopped — restart it';
    else if (view.state === 'starting') sendBlocked = 'The agent is starting — a moment';
    else if (view.state === 'awaiting_approval') sendBlocked = 'The agent is waiting for your approval — press 1 allow once, 2 allow for this run, 3 deny (with this box empty), or cancel the turn';
    else if (running) sendBlocked = 'A turn is running — cancel it or wait';
  }
  return {
    sendBlocked,
    canCancel: actionsBlocked === null && running,
    canRestart: actionsBlocked === null && view !== null,
    actionsBlocked,
    restartSuggested: view?.runtimeStopped ?? false,
  };
}
