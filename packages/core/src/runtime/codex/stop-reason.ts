import type { StopReasonCode } from '../../contract/stop-reasons.js';
import type { Turn } from './protocol.js';

export interface TurnResult {
  stopReason: StopReasonCode;
  /** Why, when the turn did not simply end (Codex's error message). */
  detail?: string;
}

/**
 * `turn/completed` as a stop reason:
 * - completed -> end_turn
 * - interrupted -> cancelled when Keel asked (turn/interrupt, or an approval answered `cancel`);
 *   otherwise agent_error (Codex stopped on its own: Keel cannot tell why, so it is not a cancel)
 * - failed (or anything else) -> agent_error, with Codex's error message as detail
 */
export function stopReasonOf(turn: Turn, context: { interruptRequested: boolean; lastError: string | null }): TurnResult {
  const error = turn.error?.message ?? context.lastError ?? undefined;
  switch (turn.status) {
    case 'completed':
      return { stopReason: 'end_turn' };
    case 'interrupted':
      if (context.interruptRequested) return { stopReason: 'cancelled' };
      return { stopReason: 'agent_error', detail: `Codex interrupted the turn without Keel asking${error ? `: ${error}` : ''}` };
    case 'failed':
      return { stopReason: 'agent_error', detail: error ?? 'Codex reported the turn as failed.' };
    default:
      return { stopReason: 'agent_error', detail: `Codex ended the turn with status ${turn.status}${error ? `: ${error}` : ''}` };
  }
}
