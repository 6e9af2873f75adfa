import { useKeel } from '../lib/client-context.js';
import { useConnection } from '../stores/connection.js';

const MESSAGES = {
  connecting: 'Connecting to Keel…',
  reconnecting: 'Connection lost. Reconnecting…',
  lost: 'Cannot reach Keel. Is the server still running? Start it with `keel serve`; this page reconnects by itself.',
} as const;

/** Says, in one line, whether what you see is live. Hidden while connected. */
export function ConnectionBanner() {
  const status = useConnection((state) => state.status);
  const why = useConnection((state) => state.why);
  const tokenRejected = useConnection((state) => state.tokenRejected);
  const { reconnectNow } = useKeel();
  if (status === 'connected') {
    return <div className="connection-banner connected" role="status" data-status="connected" aria-label="Connected" />;
  }
  if (tokenRejected) {
    return (
      <div className="connection-banner lost" role="alert" data-status="token-rejected" data-testid="token-rejected">
        <span>
          Keel is running but refuses this page&rsquo;s access token (it was started with a new one). Run <code>keel open</code> in a terminal to open Keel with the right
          URL, or <code>keel open --print</code> to print it.
        </span>
        <button type="button" onClick={reconnectNow}>
          Retry now
        </button>
      </div>
    );
  }
  return (
    <div className={`connection-banner ${status}`} role="status" data-status={status}>
      <span>{MESSAGES[status]}</span>
      {why && <span className="muted" data-testid="connection-why">{why}</span>}
      {status === 'lost' && (
        <button type="button" onClick={reconnectNow}>
          Retry now
        </button>
      )}
    </div>
  );
}

/**
 * The engine failed (its storage refused a write): runs have stopped and nothing new is
 * recorded, whatever the transcript still shows. Said once, plainly, with what to do.
 */
export function EngineBanner() {
  const engine = useConnection((state) => state.engine);
  if (engine !== 'failed') return null;
  return (
    <div className="connection-banner lost" role="alert" data-testid="engine-failed">
      <span>Keel can no longer write to its data directory (a full or failing disk): runs have stopped and nothing new is recorded. Free space, then restart Keel; it records what happened.</span>
    </div>
  );
}
