import { useKeel } from '../lib/client-context.js';
import { useConnection } from '../stores/connection.js';

const MESSAGES = {
  connecting: 'Connecting to Keel…',
  reconnecting: 'Connection lost. Reconnecting…',
  lost: 'Cannot reach Keel. Is the server still running?',
} as const;

/** Says, in one line, whether what you see is live. Hidden while connected. */
export function ConnectionBanner() {
  const status = useConnection((state) => state.status);
  const { reconnectNow } = useKeel();
  if (status === 'connected') {
    return <div className="connection-banner connected" role="status" data-status="connected" aria-label="Connected" />;
  }
  return (
    <div className={`connection-banner ${status}`} role="status" data-status={status}>
      <span>{MESSAGES[status]}</span>
      {status === 'lost' && (
        <button type="button" onClick={reconnectNow}>
          Retry now
        </button>
      )}
    </div>
  );
}
