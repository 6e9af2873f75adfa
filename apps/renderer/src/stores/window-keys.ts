import type { LedgerEvent, TranscriptItem } from '@keel/core/contract';
import { keyOf, type KeyedKind } from '@keel/core/replay';

/**
 * The keyed transcript items (tool calls, approvals, commands: the ones later events change in
 * place) of a windowed transcript, as `kind:id`. The renderer folds live events on the window
 * only (issue 16): an event that changes an item the window does not hold would, in core's fold,
 * either be skipped (an approval settled, a tool interrupted: the change is lost) or make a second
 * card (a tool update or command output for an id it does not know). So the transcript store asks
 * `changesUnknown` before each event, and takes the host's fold again instead when it says yes.
 */
export type WindowKey = `${KeyedKind}:${string}`;

const KINDS: readonly KeyedKind[] = ['tool', 'approval', 'command'];

/** The key of an item of a keyed kind, else null. */
export function windowKeyOf(item: TranscriptItem): WindowKey | null {
  for (const kind of KINDS) {
    const id = keyOf(item, kind);
    if (id !== undefined) return `${kind}:${id}`;
  }
  return null;
}

export function windowKeys(items: readonly TranscriptItem[]): Set<WindowKey> {
  const keys = new Set<WindowKey>();
  for (const item of items) {
    const key = windowKeyOf(item);
    if (key !== null) keys.add(key);
  }
  return keys;
}

/** What an event does to keyed items: ids it may create (a start, a request) and ids it only changes. */
export interface KeyedTouch {
  creates: WindowKey[];
  changes: WindowKey[];
}

const NONE: KeyedTouch = { creates: [], changes: [] };
const ids = (value: unknown): string[] => (Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : []);
const id = (value: unknown): string[] => (typeof value === 'string' ? [value] : []);
const keys = (kind: KeyedKind, list: string[]): WindowKey[] => list.map((one) => `${kind}:${one}` as const);

/**
 * The keyed items `event` touches, read from its payload as core's fold reads it (a malformed
 * payload touches nothing here; the fold ignores it too). A start or a request is taken to name a
 * new item (not always so: an ACP call restated as a second `tool.started`; see ADR 0023's known
 * limitation); every other keyed event changes an existing one.
 */
export function keyedTouch(event: LedgerEvent): KeyedTouch {
  const payload = (event.payload ?? {}) as Record<string, unknown>;
  switch (event.type) {
    case 'tool.started':
      return { creates: keys('tool', id(payload.toolCallId)), changes: [] };
    case 'terminal.started':
      return { creates: keys('command', id(payload.terminalId)), changes: [] };
    case 'approval.requested':
      return { creates: keys('approval', id(payload.approvalId)), changes: [] };
    case 'tool.updated':
      // Its embedded command (`terminalId`) counts too: the fold links that command card to the
      // call (command.toolCallId), so a card before the window would miss the link.
      return { creates: [], changes: [...keys('tool', id(payload.toolCallId)), ...keys('command', id(payload.terminalId))] };
    case 'tool.interrupted':
      return { creates: [], changes: keys('tool', ids(payload.toolCallIds)) };
    case 'terminal.output':
    case 'terminal.exited':
      return { creates: [], changes: keys('command', id(payload.terminalId)) };
    case 'approval.decided':
    case 'approval.timed_out':
    case 'approval.cancelled':
      return { creates: [], changes: keys('approval', id(payload.approvalId)) };
    case 'approval.reset':
      return { creates: [], changes: keys('approval', ids(payload.approvalIds)) };
    default:
      return NONE;
  }
}

/** True when `event` changes a keyed item that `known` (the window's keys) does not hold. */
export function changesUnknown(event: LedgerEvent, known: ReadonlySet<WindowKey>): boolean {
  return keyedTouch(event).changes.some((key) => !known.has(key));
}

/** After folding `event` into the window: the keys it made or changed are in the window now. */
export function noteKeys(event: LedgerEvent, known: Set<WindowKey>): void {
  const touch = keyedTouch(event);
  for (const key of touch.creates) known.add(key);
  for (const key of touch.changes) known.add(key);
}
