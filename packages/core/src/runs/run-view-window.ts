import { setImmediate as nextTurn } from 'node:timers/promises';
import type { LedgerEvent, TranscriptItem } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';
import { KEYED_KINDS, keyedTouch, keyOf, RunViewFold, type KeyedKind } from '../replay/index.js';
import { eventPages } from './run-events.js';
import type { ViewTail } from './run-view-tails.js';

/** Events read and folded per event-loop turn while a view catches up (a few ms of work). */
export const FOLD_SLICE = 1_000;

/**
 * Folds the run's events after `folder.lastSeq` into it, FOLD_SLICE per event-loop turn (`each`
 * sees every event first). The last, short read and `done` happen in one turn, so a commit
 * listener registered by `done` takes over without gap or repeat.
 */
export async function foldRest(
  ledger: Ledger,
  runId: string,
  folder: RunViewFold,
  hooks: { each?: (event: LedgerEvent) => void; done?: () => void } = {},
): Promise<void> {
  for (const page of eventPages(ledger, runId, folder.lastSeq + 1, FOLD_SLICE)) {
    for (const event of page) {
      hooks.each?.(event);
      folder.push(event);
    }
    if (page.length < FOLD_SLICE) return hooks.done?.();
    await nextTurn();
  }
}

/** A fold of a run's newest items only: the `omitted` items before them were never parsed. */
export interface WindowFold {
  folder: RunViewFold;
  omitted: number;
}

type Keys = Record<KeyedKind, Set<string>>;
const noKeys = (): Keys => ({ tool: new Set(), approval: new Set(), command: new Set() });

function keysOf(items: readonly TranscriptItem[]): Keys {
  const keys = noKeys();
  for (const item of items) {
    for (const kind of KEYED_KINDS) {
      const key = keyOf(item, kind);
      if (key !== undefined) keys[kind].add(key);
    }
  }
  return keys;
}

/**
 * A run's newest items (at least `minItems`, or all) at its latest seq from its window snapshot
 * (head, newest items, keys of the omitted ones) and the events after it, folded in slices.
 * Null when that fold could differ from the whole view's: an event after the snapshot touches a
 * keyed item (tool call, approval, command) that is not among the window's items but is among
 * the omitted ones — the whole fold updates that older item in place, the window fold would add
 * a new one (shifting every later position and the count) or miss a settlement the head's
 * pending approvals reflect. The caller then answers from the whole view.
 */
export async function foldWindow(ledger: Ledger, runId: string, tail: ViewTail, minItems: number): Promise<WindowFold | null> {
  if (tail.omitted > 0 && tail.view.items.length < minItems) return null;
  const folder = RunViewFold.fromView(tail.view);
  const inWindow = keysOf(tail.view.items);
  const outside = noKeys();
  await foldRest(ledger, runId, folder, {
    each: (event) => {
      const { creates, changes } = keyedTouch(event);
      for (const [kind, id] of [...creates, ...changes]) if (!inWindow[kind].has(id)) outside[kind].add(id);
    },
  });
  for (const kind of KEYED_KINDS) {
    if (outside[kind].size === 0 || tail.omitted === 0) continue;
    const omitted = tail.omittedKeys(kind);
    for (const id of outside[kind]) if (omitted.has(id)) return null;
  }
  return { folder, omitted: tail.omitted };
}
