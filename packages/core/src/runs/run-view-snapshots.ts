import { setImmediate as nextTurn } from 'node:timers/promises';
import { REPLAY_VIEW_SCHEMA_VERSION, type RunView, type TranscriptItem } from '../contract/index.js';
import { packSnapshotText, unpackSnapshotBytes, type Ledger } from '../ledger/index.js';
import { RUN_VIEW_FOLD_VERSION, RunViewFold } from '../replay/index.js';
import { eventPages } from './run-events.js';
import { saveViewTail } from './run-view-tails.js';

/** The `fold` name run-view snapshots are stored under. */
export const RUN_VIEW_FOLD = 'run-view';
/** Transcript items per line of a snapshot: one line is parsed or written per event-loop turn. */
const ITEMS_PER_LINE = 2_000;

/**
 * A view as snapshot text, in pieces: the head (everything but the items) on the first line,
 * then the items in lines of ITEMS_PER_LINE, each a JSON array, an event-loop turn between
 * lines, so a long run's snapshot never holds the host for the whole of it. A line comes in
 * pieces of about PIECE_CHARS: a line as one string (~400 KB at 2,000 items) is allocated
 * where only a full garbage collection frees it.
 */
async function* viewText(view: RunView, itemsPerLine = ITEMS_PER_LINE): AsyncGenerator<string> {
  const { items, ...head } = view;
  yield JSON.stringify(head);
  for (let at = 0; at < items.length; at += itemsPerLine) {
    if (at > 0) await nextTurn();
    let piece = '\n[';
    const end = Math.min(items.length, at + itemsPerLine);
    for (let index = at; index < end; index++) {
      piece += `${index > at ? ',' : ''}${JSON.stringify(items[index])}`;
      if (piece.length >= PIECE_CHARS) {
        yield piece;
        piece = '';
      }
    }
    yield `${piece}]`;
  }
}

/** The snapshot text's pieces, in characters (see viewText). */
const PIECE_CHARS = 64 * 1024;

/** A view as snapshot text (`viewText` joined), written a line per event-loop turn. */
export async function encodeView(view: RunView, itemsPerLine = ITEMS_PER_LINE): Promise<string> {
  const pieces: string[] = [];
  for await (const piece of viewText(view, itemsPerLine)) pieces.push(piece);
  return pieces.join('');
}

/**
 * Decodes `encodeView`'s text (or its UTF-8 bytes: no one string of the whole), pausing (a
 * `yield`) before each line of items; returns the view, or null when it is not one this build wrote.
 */
function* decodeLines(data: string | Buffer): Generator<void, RunView | null> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const lineEnd = (from: number) => {
    const at = bytes.indexOf(0x0a, from);
    return at === -1 ? bytes.length : at;
  };
  try {
    const end = lineEnd(0);
    const head = JSON.parse(bytes.toString('utf8', 0, end)) as Omit<RunView, 'items'>;
    if (head === null || typeof head !== 'object' || head.schema_version !== REPLAY_VIEW_SCHEMA_VERSION) return null;
    const items: TranscriptItem[] = [];
    for (let start = end + 1; start < bytes.length; ) {
      yield;
      const next = lineEnd(start);
      const line = JSON.parse(bytes.toString('utf8', start, next)) as TranscriptItem[];
      for (const item of line) items.push(item);
      start = next + 1;
    }
    return { ...head, items };
  } catch {
    return null;
  }
}

/** The view back from `encodeView`'s text, a line per event-loop turn, or null when it is not one this build wrote. */
export async function decodeView(data: string | Buffer): Promise<RunView | null> {
  const lines = decodeLines(data);
  for (let step = lines.next(); ; step = lines.next()) {
    if (step.done) return step.value;
    await nextTurn();
  }
}

/**
 * A run's whole view at once, for the rare caller that cannot wait (a fresh session's handoff):
 * from its stored view snapshot and the events after it, never every event in memory.
 */
export function viewNow(ledger: Ledger, runId: string): RunView {
  const stored = ledger.snapshots.nearest(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION, ledger.run(runId)?.lastSeq);
  let view: RunView | null = null;
  if (stored) {
    const lines = decodeLines(stored.data);
    let step = lines.next();
    while (!step.done) step = lines.next();
    view = step.value;
  }
  const folder = stored && view && view.lastSeq === stored.seq && view.runId === runId ? RunViewFold.fromView(view) : new RunViewFold(runId);
  for (const page of eventPages(ledger, runId, folder.lastSeq + 1)) for (const event of page) folder.push(event);
  return folder.snapshot();
}

/** The newest stored run view of `runId` at or before `atOrBefore`, at this build's fold version. */
export async function loadViewSnapshot(ledger: Ledger, runId: string, atOrBefore?: number): Promise<RunView | null> {
  const stored = ledger.snapshots.nearestBytes(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION, atOrBefore);
  if (!stored) return null;
  let bytes: Buffer;
  try {
    bytes = await unpackSnapshotBytes(stored.bytes);
  } catch {
    return null; // damaged packing: derived data, folded again
  }
  const view = await decodeView(bytes);
  return view && view.lastSeq === stored.seq && view.runId === runId ? view : null;
}

/**
 * Snapshots this large are stored packed (fold-snapshots.ts): reading a large one back from
 * SQLite costs CPU per page; a small one is read in a few pages anyway and stays plain text.
 */
export const PACK_FROM_BYTES = 256 * 1024;

/**
 * Stores a run view (a fold of committed events only) as the snapshot at its lastSeq, and its
 * newest items as the window snapshot at the same seq first (run-view-tails.ts), so a stored
 * view always has its window beside it. False when the run was no longer wanted (nothing stored).
 */
export async function saveViewSnapshot(ledger: Ledger, view: RunView, packFromBytes = PACK_FROM_BYTES, wanted: () => boolean = () => true): Promise<boolean> {
  await saveViewTail(ledger, view, packFromBytes, wanted);
  // Packed a piece (~64 K characters) at a time: the whole text is never held, as one string or as bytes.
  const data = await packSnapshotText(viewText(view), packFromBytes);
  // Asked again right before the write: the run may have been deleted while this was encoded.
  if (!wanted()) return false;
  ledger.snapshots.save(view.runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION, view.lastSeq, data);
  return true;
}
