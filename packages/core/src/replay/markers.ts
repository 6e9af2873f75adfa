import type { LedgerEvent, ReplayMarker } from '../contract/index.js';

type Payload = Record<string, unknown>;
const str = (value: unknown) => (typeof value === 'string' ? value : '');
const oneLine = (text: string, max = 80) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * The timeline marker an event is, if any: turn starts, approvals asked, agent restarts,
 * errors (protocol errors, hangs, unexpected exits, a failed run, a failed restore) and
 * checkpoints. A pure function of one event, so markers can be collected while indexing.
 */
export function markerOf(event: LedgerEvent): ReplayMarker | null {
  const payload = (event.payload ?? {}) as Payload;
  const at = (kind: ReplayMarker['kind'], label: string): ReplayMarker => ({ seq: event.seq, kind, label });
  switch (event.type) {
    case 'prompt.sent':
      return at('turn', `turn ${String(payload.turn)}: ${oneLine(str(payload.text), 60)}`);
    case 'approval.requested':
      return at('approval', `approval: ${oneLine(str((payload.action as Payload | undefined)?.title), 60)}`);
    case 'runtime.started':
      return typeof payload.generation === 'number' && payload.generation > 1 ? at('restart', `agent restarted (process #${payload.generation})`) : null;
    case 'runtime.protocol_error':
      return at('error', `protocol error (${str(payload.kind)})`);
    case 'runtime.hang':
      return at('error', 'agent hung');
    case 'runtime.exited':
      return payload.expected === false ? at('error', `agent exited unexpectedly (${payload.signal ? str(payload.signal) : `code ${String(payload.code)}`})`) : null;
    case 'run.state':
      return payload.state === 'failed' ? at('error', `run failed${payload.stopReason ? ` (${str(payload.stopReason)})` : ''}`) : null;
    case 'ledger.repaired':
      return at('error', 'ledger repaired');
    case 'checkpoint.restore_failed':
      return at('error', 'checkpoint restore failed');
    case 'checkpoint.created':
      return at('checkpoint', `checkpoint${typeof payload.turn === 'number' ? ` after turn ${payload.turn}` : ''}`);
    case 'checkpoint.restore_completed':
      return at('checkpoint', 'checkpoint restored');
    default:
      return null;
  }
}
