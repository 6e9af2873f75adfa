import { MAX_VIEW_WINDOW_ITEMS, REPLAY_VIEW_SCHEMA_VERSION, type RunView, type TranscriptItem } from '../contract/index.js';
import { packSnapshotText, unpackSnapshot, type Ledger } from '../ledger/index.js';
import { KEYED_KINDS, keyOf, RUN_VIEW_FOLD_VERSION, type KeyedKind } from '../replay/index.js';

/** The `fold` name window snapshots (a view's head and newest items) are stored under. */
export const RUN_VIEW_TAIL_FOLD = 'run-view-window';
/**
 * The layout of a window snapshot's lines (the fold version covers the items' shapes, not this):
 * a row of another layout is not read, and the next load stores it again.
 */
const TAIL_FORMAT = 1;

/** A view's head and newest items, as a window snapshot holds them (ADR 0022). */
export interface ViewTail {
  /** The head with only the newest items: `omitted` items come before them. */
  view: RunView;
  omitted: number;
  /**
   * The keys (keyOf) of the omitted items of one kind: what an event after the snapshot could
   * update out of sight of the window. Parsed on first use (a long run holds tens of thousands).
   */
  omittedKeys(kind: KeyedKind): ReadonlySet<string>;
}

/**
 * A view as window-snapshot text: the head on the first line, the layout's format and the
 * omitted item count on the second, then the keys of the omitted items as one JSON array per keyed kind (tool, approval,
 * command), then the newest `tailItems` items as one JSON array. A cold `run.viewWindow`
 * reads this small row instead of unpacking and parsing the whole view (28 MiB at 1M events).
 */
export function encodeViewTail(view: RunView, tailItems = MAX_VIEW_WINDOW_ITEMS): string {
  const { items, ...head } = view;
  const omitted = Math.max(0, items.length - tailItems);
  const keys: Record<KeyedKind, string[]> = { tool: [], approval: [], command: [] };
  for (let at = 0; at < omitted; at++) {
    for (const kind of KEYED_KINDS) {
      const key = keyOf(items[at]!, kind);
      if (key !== undefined) keys[kind].push(key);
    }
  }
  const lines = [JSON.stringify(head), JSON.stringify({ format: TAIL_FORMAT, omitted }), ...KEYED_KINDS.map((kind) => JSON.stringify(keys[kind]))];
  lines.push(JSON.stringify(items.slice(omitted)));
  return lines.join('\n');
}

/** The tail back from `encodeViewTail`'s text, or null when it is not `runId`'s at `seq` as this build writes it. */
export function decodeViewTail(text: string, runId: string, seq: number): ViewTail | null {
  try {
    const lines = text.split('\n');
    if (lines.length !== 2 + KEYED_KINDS.length + 1) return null;
    const head = JSON.parse(lines[0]!) as Omit<RunView, 'items'>;
    if (head === null || typeof head !== 'object' || head.schema_version !== REPLAY_VIEW_SCHEMA_VERSION) return null;
    if (head.lastSeq !== seq || head.runId !== runId) return null;
    const { format, omitted } = JSON.parse(lines[1]!) as { format?: unknown; omitted: number };
    if (format !== TAIL_FORMAT) return null;
    const items = JSON.parse(lines.at(-1)!) as TranscriptItem[];
    if (!Number.isSafeInteger(omitted) || omitted < 0 || !Array.isArray(items)) return null;
    const parsed = new Map<KeyedKind, ReadonlySet<string>>();
    const omittedKeys = (kind: KeyedKind): ReadonlySet<string> => {
      let keys = parsed.get(kind);
      if (!keys) {
        keys = new Set(JSON.parse(lines[2 + KEYED_KINDS.indexOf(kind)]!) as string[]);
        parsed.set(kind, keys);
      }
      return keys;
    };
    return { view: { ...head, items }, omitted, omittedKeys };
  } catch {
    return null;
  }
}

/** The newest window snapshot of `runId` at or before `atOrBefore`, at this build's fold version. */
export async function readViewTail(ledger: Ledger, runId: string, atOrBefore?: number): Promise<ViewTail | null> {
  const stored = ledger.snapshots.nearestBytes(runId, RUN_VIEW_TAIL_FOLD, RUN_VIEW_FOLD_VERSION, atOrBefore);
  if (!stored) return null;
  try {
    return decodeViewTail(await unpackSnapshot(stored.bytes), runId, stored.seq);
  } catch {
    return null; // damaged packing: derived data, written again with the next snapshot
  }
}

/** Stores a view's window snapshot at its lastSeq (packed from `packFromBytes`, as the whole view's). */
export async function saveViewTail(ledger: Ledger, view: RunView, packFromBytes: number, wanted: () => boolean = () => true): Promise<void> {
  const text = encodeViewTail(view);
  const data = await packSnapshotText([text], packFromBytes);
  if (wanted()) ledger.snapshots.save(view.runId, RUN_VIEW_TAIL_FOLD, RUN_VIEW_FOLD_VERSION, view.lastSeq, data);
}
