import type { LedgerEvent, RunView } from '../contract/index.js';
import type { FrozenBlocks } from './block-list.js';
import { seqOf } from './decode.js';
import { RunViewFold, type FoldMark } from './run-view-fold.js';

/**
 * Events between marks. Measured on a 1M-event run in a real ledger (`keel bench replay`):
 * with 1,024 a `stateAt` reads and folds at most ~1k events from the ledger (a few ms), and the
 * ~1,000 marks of a 1M-event run share the transcript's blocks (tens of MB, not the events).
 */
export const DEFAULT_SNAPSHOT_EVERY = 1024;

/**
 * Where a ReplayIndex re-reads events from, so that it need not hold them: a ledger (the
 * cursor is the last seq read) or a file (a byte offset). The index remembers, at each mark,
 * the cursor `append` was given with the mark's last event.
 */
export interface ReplayEventSource {
  /**
   * The events after `cursor` (0: from the start), in order, read lazily: a stateAt stops at
   * the first event past its seq. `pageHint` is how many it expects to need at most.
   */
  after(cursor: number, pageHint: number): Iterable<LedgerEvent>;
}

export interface ReplayIndexOptions {
  /** Keep a mark every this many events. */
  readonly every?: number;
  /** The run's id; by default the first event's run_id. */
  readonly runId?: string;
  /**
   * Re-read events from here instead of keeping them (bounded memory: only marks are kept).
   * Without it the index keeps the events it was given, in memory.
   */
  readonly source?: ReplayEventSource;
}

/** A window of the transcript at one seq: the head in full, `items` from `itemsFrom` of `itemCount`. */
export interface ReplayWindow {
  view: RunView;
  itemCount: number;
  itemsFrom: number;
}

/** Items [from, from + limit) of frozen blocks, walking the block table (never the whole list). */
function sliceFrozen<T>(frozen: FrozenBlocks<T>, from: number, limit: number): T[] {
  const out: T[] = [];
  const to = Math.min(frozen.length, from + limit);
  let offset = 0;
  for (const block of frozen.blocks) {
    if (offset >= to) break;
    const end = offset + block.length;
    for (let i = Math.max(from, offset); i < Math.min(to, end); i++) out.push(block[i - offset]!);
    offset = end;
  }
  return out;
}

interface Mark {
  /** How many events the mark has folded. */
  readonly position: number;
  /** Highest seq among those events: the mark is usable for any stateAt(seq >= maxSeq). */
  readonly maxSeq: number;
  /** The source's cursor after the mark's last event. */
  readonly cursor: number;
  readonly fold: FoldMark;
}

/** The events kept in memory, for an index without a source (the cursor is a position). */
class MemorySource implements ReplayEventSource {
  readonly events: LedgerEvent[] = [];
  *after(cursor: number): Iterable<LedgerEvent> {
    for (let i = cursor; i < this.events.length; i++) yield this.events[i]!;
  }
}

/**
 * Random access into a run's history for a scrubber: `stateAt(seq)` restores the nearest
 * mark at or before seq and folds at most `every` events from there, re-read from its source
 * (or from memory). `append` keeps it current for a live run. Memory: the marks (which share
 * the transcript's blocks, see FoldMark) plus the current fold — never the events when a
 * source is given.
 */
export class ReplayIndex {
  readonly every: number;
  private readonly marks: Mark[];
  private readonly folder: RunViewFold;
  private readonly source: ReplayEventSource;
  private readonly memory: MemorySource | null;
  private count = 0;
  private maxSeq = 0;

  constructor(options: ReplayIndexOptions = {}) {
    const every = options.every ?? DEFAULT_SNAPSHOT_EVERY;
    if (!Number.isSafeInteger(every) || every < 1) throw new RangeError(`every must be a positive integer, got ${every}`);
    this.every = every;
    this.folder = new RunViewFold(options.runId);
    this.memory = options.source ? null : new MemorySource();
    this.source = options.source ?? this.memory!;
    this.marks = [{ position: 0, maxSeq: 0, cursor: 0, fold: this.folder.mark() }];
  }

  static build(events: Iterable<LedgerEvent>, options?: ReplayIndexOptions): ReplayIndex {
    const index = new ReplayIndex(options);
    for (const event of events) index.append(event);
    return index;
  }

  /** Events appended so far (including any the fold ignored). */
  get length(): number {
    return this.count;
  }

  /** Highest seq appended so far. */
  get lastSeq(): number {
    return this.maxSeq;
  }

  get markCount(): number {
    return this.marks.length;
  }

  /**
   * Adds the next event. With a source, `cursor` is the source's cursor right after this
   * event (what `after` must be given to read the event that follows it).
   */
  append(event: LedgerEvent, cursor?: number): void {
    if (this.memory) this.memory.events.push(event);
    else if (cursor === undefined || !Number.isSafeInteger(cursor)) throw new RangeError('append needs the source cursor after the event');
    this.count++;
    this.folder.push(event);
    this.maxSeq = Math.max(this.maxSeq, seqOf(event));
    if (this.count % this.every === 0) {
      this.marks.push({ position: this.count, maxSeq: this.maxSeq, cursor: this.memory ? this.count : cursor!, fold: this.folder.mark() });
    }
  }

  /** The state after all events. */
  current(): RunView {
    return this.folder.snapshot();
  }

  /**
   * The state after every event up to the first one whose seq exceeds `seq` — for a
   * ledger (seqs 1..n in order) exactly fold(events.slice(0, seq)). 0 gives the initial view.
   */
  stateAt(seq: number): RunView {
    return this.folderAt(seq).snapshot();
  }

  /**
   * The same state with only `limit` transcript items from `itemsFrom` (default: the last
   * `limit`): what a scrubber shows. Costs the re-fold of at most `every` events plus the
   * window — not a copy of a long run's whole transcript, which stateAt pays.
   */
  windowAt(seq: number, limit: number, itemsFrom?: number): ReplayWindow {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be >= 0, got ${limit}`);
    const { head, items } = this.folderAt(seq).mark();
    const from = Math.max(0, Math.min(itemsFrom ?? items.length - limit, items.length));
    return { view: { ...head, items: sliceFrozen(items, from, limit) }, itemCount: items.length, itemsFrom: from };
  }

  /** A folder holding the state at `seq` (the live one when seq is past the end: not to be pushed to). */
  private folderAt(seq: number): RunViewFold {
    if (Number.isNaN(seq) || seq < 0) throw new RangeError(`seq must be >= 0, got ${seq}`);
    if (seq >= this.maxSeq) return this.folder;
    const mark = this.markAt(seq);
    const folder = RunViewFold.restore(mark.fold);
    for (const event of this.segment(mark, Math.max(1, Math.min(this.every, seq - mark.maxSeq)))) {
      if (seqOf(event) > seq) break;
      folder.push(event);
    }
    return folder;
  }

  /** Up to `limit` events from the first with seq >= `fromSeq`, in order (a page for an event inspector). */
  eventsFrom(fromSeq: number, limit: number): LedgerEvent[] {
    const out: LedgerEvent[] = [];
    if (limit <= 0) return out;
    const mark = this.markAt(Math.max(0, fromSeq - 1));
    for (const event of this.segment(mark, Math.min(this.every, Math.max(0, fromSeq - 1 - mark.maxSeq)) + limit)) {
      if (seqOf(event) < fromSeq) continue;
      out.push(event);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The events after `mark`, up to the last one appended (a live source may already hold more). */
  private *segment(mark: Mark, pageHint: number): Generator<LedgerEvent> {
    let left = this.count - mark.position;
    if (left <= 0) return;
    for (const event of this.source.after(mark.cursor, Math.min(left, pageHint))) {
      yield event;
      if (--left <= 0) return;
    }
  }

  /** The last mark whose events all have seq <= `seq` (marks[0] always qualifies). */
  private markAt(seq: number): Mark {
    let low = 0;
    let high = this.marks.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.marks[middle]!.maxSeq <= seq) low = middle;
      else high = middle - 1;
    }
    return this.marks[low]!;
  }
}
