import { useState, type KeyboardEvent } from 'react';
import { useKeel } from '../../lib/client-context.js';
import type { ComposerState } from '../../lib/composer-state.js';
import { describeError } from '../../lib/errors.js';
import { modKey } from '../../lib/keyboard.js';

/** Prompt box with Send, Cancel turn and Restart runtime; every disabled state says why. */
export function Composer({ runId, state, onRestart, turn }: { runId: string; state: ComposerState; onRestart(): Promise<void>; turn?: number }) {
  const { client } = useKeel();
  // The turn a cancel was sent for: while it still runs, Cancel becomes Force stop.
  const [cancelledTurn, setCancelledTurn] = useState<number | null>(null);
  const cancelPending = state.canCancel && turn !== undefined && cancelledTurn === turn;
  // The unsent draft is kept per run, so a reload or a switch to another run does not lose it.
  const [text, setTextState] = useState(() => readDraft(runId));
  const setText = (next: string | ((current: string) => string)) =>
    setTextState((current) => {
      const value = typeof next === 'function' ? next(current) : next;
      writeDraft(runId, value);
      return value;
    });
  const [busy, setBusy] = useState<null | 'send' | 'cancel' | 'force' | 'restart'>(null);
  const [error, setError] = useState<string | null>(null);
  const empty = text.trim() === '';
  const canSend = state.sendBlocked === null && !empty && busy === null;

  const act = async (what: 'send' | 'cancel' | 'force' | 'restart', work: () => Promise<unknown>) => {
    setBusy(what);
    setError(null);
    try {
      await work();
      return true;
    } catch (failure) {
      setError(describeError(failure));
      return false;
    } finally {
      setBusy(null);
    }
  };

  const send = async () => {
    if (!canSend) return;
    const prompt = text;
    // The box empties at once (starting the agent can take seconds); a refused prompt comes back.
    setText('');
    if (!(await act('send', () => client.invoke('run.prompt', { runId, text: prompt })))) {
      setText((current) => (current === '' ? prompt : current));
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void send();
    }
  };

  const reason = cancelPending
    ? 'Cancel sent — if the agent does not stop within a few seconds, Keel stops it. Force stop ends the turn now.'
    : state.sendBlocked ?? (empty ? `Type a prompt; ${modKey()}+Enter sends it.` : `${modKey()}+Enter to send`);
  return (
    <div className="composer" data-testid="composer">
      <textarea
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        placeholder={state.actionsBlocked ?? 'Tell the agent what to do…'}
        rows={3}
        disabled={state.actionsBlocked !== null}
        aria-label="Prompt"
        aria-describedby={`composer-reason-${runId}`}
        data-testid="composer-input"
      />
      <div className="composer-bar">
        <span
          id={`composer-reason-${runId}`}
          className={`composer-reason${state.sendBlocked ? ' blocked' : ''}`}
          data-testid="composer-reason"
          data-blocked={state.sendBlocked !== null}
          role="status"
        >
          {reason}
        </span>
        {error && (
          <span className="status-failed small" role="alert" data-testid="composer-error">
            {error}
          </span>
        )}
        <span className="composer-buttons">
          <button
            type="button"
            className={state.restartSuggested ? 'primary' : undefined}
            disabled={!state.canRestart || busy !== null}
            title={state.actionsBlocked ?? 'Start a new agent process for this run (a fresh restart budget)'}
            onClick={() => void act('restart', onRestart)}
            data-testid="composer-restart"
          >
            {busy === 'restart' ? 'Restarting…' : 'Restart runtime'}
          </button>
          {cancelPending ? (
            <button
              type="button"
              className="danger"
              disabled={busy !== null}
              title="Stop the agent's process now; the turn ends cancelled and the next prompt starts the agent again"
              onClick={() => void act('force', () => client.invoke('run.cancel', { runId, force: true }))}
              data-testid="composer-force-stop"
            >
              {busy === 'force' ? 'Stopping…' : 'Force stop'}
            </button>
          ) : (
            <button
              type="button"
              disabled={!state.canCancel || busy !== null}
              title={state.canCancel ? 'Ask the agent to stop the running turn' : (state.actionsBlocked ?? 'No turn is running')}
              onClick={() => {
                if (turn !== undefined) setCancelledTurn(turn);
                void act('cancel', () => client.invoke('run.cancel', { runId }));
              }}
              data-testid="composer-cancel"
            >
              {busy === 'cancel' ? 'Cancelling…' : 'Cancel turn'}
            </button>
          )}
          <button
            type="button"
            className="primary"
            disabled={!canSend}
            title={state.sendBlocked ?? (empty ? 'Type a prompt first' : `Send (${modKey()}+Enter)`)}
            onClick={() => void send()}
            data-testid="composer-send"
          >
            {busy === 'send' ? 'Sending…' : 'Send'}
          </button>
        </span>
      </div>
    </div>
  );
}

const draftKey = (runId: string) => `keel.draft.${runId}`;

function readDraft(runId: string): string {
  try {
    return globalThis.localStorage?.getItem(draftKey(runId)) ?? '';
  } catch {
    return '';
  }
}

function writeDraft(runId: string, text: string): void {
  try {
    if (text === '') globalThis.localStorage?.removeItem(draftKey(runId));
    else globalThis.localStorage?.setItem(draftKey(runId), text);
  } catch {
    // A draft is a convenience: without storage it lives as long as the page.
  }
}
