import type { LedgerEvent, TranscriptItem } from '@keel/core/contract';
import { KEYED_KINDS, keyedTouch, keyOf, type KeyedKind, type KeyedRef } from '@keel/core/replay';

/**
 * The keyed transcript items (tool calls, approvals, commands: the ones later events change in
 * place) of a windowed transcript, as `kind:id`. The renderer folds live events on the window
 * only (issue 16): an event that changes an item the window does not hold would, in core's fold,
 * either be skipped (an approval settled, a tool interrupted: the change is lost) or make a second
 * card (a tool update or command output for an id it does not know). So the transcript store asks
 * `changesUnknown` before each event, and takes the host's fold again instead when it says yes.
 */
export type WindowKey = `${KeyedKind}:${string}`;

const asKey = ([kind, id]: KeyedRef): WindowKey => `${kind}:${id}`;

/** The key of an item of a keyed kind, else null. */
export function windowKeyOf(item: TranscriptItem): WindowKey | null {
  for (const kind of KEYED_KINDS) {
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

/** True when `event` changes a keyed item that `known` (the window's keys) does not hold. */
export function changesUnknown(event: LedgerEvent, known: ReadonlySet<WindowKey>): boolean {
  return keyedTouch(event).changes.some((ref) => !known.has(asKey(ref)));
}

/** After folding `event` into the window: the keys it made or changed are in the window now. */
export function noteKeys(event: LedgerEvent, known: Set<WindowKey>): void {
  const touch = keyedTouch(event);
  for (const ref of [...touch.creates, ...touch.changes]) known.add(asKey(ref));
}
