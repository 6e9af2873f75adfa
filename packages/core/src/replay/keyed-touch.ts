import type { LedgerEvent } from '../contract/index.js';
import type { KeyedKind } from './view-items.js';

/** The transcript items later events change in place, found by their key (keyOf). */
export const KEYED_KINDS: readonly KeyedKind[] = ['tool', 'approval', 'command'];

export type KeyedRef = [kind: KeyedKind, id: string];

/** What an event does to keyed items: ids it may create (a start, a request) and ids it only changes. */
export interface KeyedTouch {
  creates: KeyedRef[];
  changes: KeyedRef[];
}

const NONE: KeyedTouch = { creates: [], changes: [] };
const refs = (kind: KeyedKind, value: unknown): KeyedRef[] =>
  typeof value === 'string' ? [[kind, value]] : Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string').map((id) => [kind, id]) : [];

/**
 * The keyed items `event` touches, read from its raw payload as the fold (run-view-fold.ts) reads
 * it (a malformed payload touches nothing here; the fold ignores it too). What a window of the
 * transcript asks before folding an event it may not hold the items for, on the host (ADR 0022)
 * and in the page (ADR 0023). A start or a request is taken to name a new item, except a start
 * marked `restated` (an ACP call announced again with its real title or input); every other
 * keyed event changes one. An unmarked restatement (recorded before the mark existed) is
 * still taken for a new item.
 */
export function keyedTouch(event: LedgerEvent): KeyedTouch {
  const payload = (event.payload ?? {}) as Record<string, unknown>;
  switch (event.type) {
    case 'tool.started':
      // A restatement (recorded as such since it was marked) changes the call announced earlier.
      return payload.restated === true ? { creates: [], changes: refs('tool', payload.toolCallId) } : { creates: refs('tool', payload.toolCallId), changes: [] };
    case 'terminal.started':
      return { creates: refs('command', payload.terminalId), changes: [] };
    case 'approval.requested':
      return { creates: refs('approval', payload.approvalId), changes: [] };
    case 'tool.updated':
      // Its embedded command (`terminalId`) counts too: the fold links that command card to the call.
      return { creates: [], changes: [...refs('tool', payload.toolCallId), ...refs('command', payload.terminalId)] };
    case 'tool.interrupted':
      return { creates: [], changes: refs('tool', payload.toolCallIds) };
    case 'terminal.output':
    case 'terminal.exited':
      return { creates: [], changes: refs('command', payload.terminalId) };
    case 'approval.decided':
    case 'approval.timed_out':
    case 'approval.cancelled':
      return { creates: [], changes: refs('approval', payload.approvalId) };
    case 'approval.reset':
      return { creates: [], changes: refs('approval', payload.approvalIds) };
    default:
      return NONE;
  }
}
