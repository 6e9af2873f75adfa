import { stopReasonInfo, type ItemOfKind } from '@keel/core/contract';
import { Disclosure } from './Disclosure.js';

export function TurnEndLine({ item }: { item: ItemOfKind<'turn_end'> }) {
  const info = stopReasonInfo(item.stopReason);
  const ok = info.family === 'completed';
  return (
    <div className={`turn-end${ok ? '' : ` family-${info.family}`}`} data-stop-reason={item.stopReason}>
      <span className="turn-end-rule" aria-hidden="true" />
      <span className="turn-end-text" title={`Stop reason: ${item.stopReason} — ${info.diagnosis}`}>
        {ok ? `Turn ${item.turn} finished` : `Turn ${item.turn} stopped`}
        {!ok && <span className="turn-end-diagnosis"> — {info.diagnosis}</span>} <code className="muted small">{item.stopReason}</code>
      </span>
      <span className="turn-end-rule" aria-hidden="true" />
    </div>
  );
}

export function RepairCard({ item }: { item: ItemOfKind<'repair'> }) {
  return (
    <div className="card repair-card" role="note">
      <div className="card-head">
        <span className="who warn">Ledger repaired</span>
      </div>
      <p>
        Keel cut {item.truncatedBytes} damaged byte{item.truncatedBytes === 1 ? '' : 's'} from the end of this run's log ({item.reason}) and kept
        everything through seq {item.keptThroughSeq}. The cut bytes are saved in <code>{item.brokenFile}</code>; nothing was deleted.
      </p>
    </div>
  );
}

const RECOVERY_TITLE: Record<string, string> = {
  agent_exited: 'Agent process exited',
  restarting: 'Restarting the agent',
  agent_started: 'Agent restarted',
  session: 'Session',
  approvals_reset: 'Approvals reset',
  host_recovered: 'Keel restarted',
  runtime_stopped: 'Runtime stopped',
  hang: 'Agent hung',
  protocol_error: 'Protocol error',
  handoff: 'Handed off to a fresh session',
  swept: 'Leftover processes stopped',
};

const SESSION_TITLE: Record<string, string> = {
  new: 'Session started',
  restored: 'Session restored',
  replayed: 'Session replayed',
  fresh: 'Fresh session',
  unavailable: 'Session unavailable',
};

/** Tone of a recovery card: how much the user should care. */
function recoveryTone(item: ItemOfKind<'recovery'>): 'info' | 'warn' | 'bad' {
  switch (item.recovery) {
    case 'runtime_stopped':
    case 'protocol_error':
      return 'bad';
    case 'session':
      return item.outcome === 'restored' || item.outcome === 'new' ? 'info' : 'warn';
    case 'agent_started':
    case 'restarting':
    case 'handoff':
      return 'info';
    default:
      return 'warn';
  }
}

/** A short detail inline; a long one (a stderr tail) behind a toggle, its last line showing. */
function RecoveryDetail({ detail, stateKey }: { detail: string; stateKey: string }) {
  const lines = detail.replace(/\n$/, '').split('\n');
  if (lines.length <= 2 && detail.length <= 240) return <pre className="recovery-detail">{detail}</pre>;
  return (
    <Disclosure
      stateKey={`${stateKey}:detail`}
      className="recovery-more"
      summary={<span className="muted small">details · {lines.length} lines</span>}
      preview={<pre className="recovery-detail">{lines[lines.length - 1]}</pre>}
    >
      <pre className="recovery-detail">{detail}</pre>
    </Disclosure>
  );
}

/** The handoff text, verbatim and closed by default: it is long, and its last line alone reads as a summary it is not. */
function HandoffText({ text, stateKey }: { text: string; stateKey: string }) {
  const lines = text.replace(/\n$/, '').split('\n').length;
  return (
    <Disclosure
      stateKey={`${stateKey}:detail`}
      className="recovery-more"
      testId="handoff-text"
      summary={
        <span className="muted small">
          what the fresh session was told · {lines} line{lines === 1 ? '' : 's'}
        </span>
      }
    >
      <pre className="recovery-detail handoff-text">{text}</pre>
    </Disclosure>
  );
}

/** The swept processes (the fold's detail: one `pid command` per line), as a list. */
function SweptProcesses({ detail }: { detail: string }) {
  const processes = detail
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const space = line.indexOf(' ');
      return space < 0 ? { pid: line, command: '' } : { pid: line.slice(0, space), command: line.slice(space + 1) };
    });
  return (
    <ul className="swept-list" data-testid="swept-processes">
      {processes.map(({ pid, command }, index) => (
        <li key={`${pid}:${index}`}>
          <span className="muted">pid</span> <code>{pid}</code>
          {command && <code className="swept-command">{command}</code>}
        </li>
      ))}
    </ul>
  );
}

export function RecoveryCard({
  item,
  stateKey,
  onRestart,
  restartDisabled,
}: {
  item: ItemOfKind<'recovery'>;
  stateKey: string;
  onRestart?: () => void;
  restartDisabled?: string | null;
}) {
  const title = item.recovery === 'session' ? (SESSION_TITLE[item.outcome ?? ''] ?? 'Session') : (RECOVERY_TITLE[item.recovery] ?? item.recovery);
  return (
    <div className={`card recovery-card tone-${recoveryTone(item)}`} data-testid="recovery-card" data-recovery={item.recovery} data-outcome={item.outcome ?? undefined}>
      <div className="card-head">
        <span className="recovery-icon" aria-hidden="true">
          ⟳
        </span>
        <span className="who">{title}</span>
        {item.generation !== null && (
          <span className="muted small" title={`Generation ${item.generation}: each start of the agent's process is a new generation.`}>
            agent process #{item.generation}
          </span>
        )}
      </div>
      <p className="recovery-text">{item.text}</p>
      {item.detail &&
        (item.recovery === 'handoff' ? (
          <HandoffText text={item.detail} stateKey={stateKey} />
        ) : item.recovery === 'swept' ? (
          <SweptProcesses detail={item.detail} />
        ) : (
          <RecoveryDetail detail={item.detail} stateKey={stateKey} />
        ))}
      {item.recovery === 'runtime_stopped' && onRestart && (
        <div className="card-actions">
          <button type="button" className="primary" onClick={onRestart} disabled={!!restartDisabled} title={restartDisabled ?? undefined} data-testid="recovery-restart">
            Restart runtime
          </button>
          {restartDisabled && <span className="muted small">{restartDisabled}</span>}
        </div>
      )}
    </div>
  );
}
