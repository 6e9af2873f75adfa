import type { LedgerEvent, RunView } from '../contract/index.js';
import { seqOf } from './decode.js';
import { RunViewFold, type FoldMark } from './run-view-fold.js';

/**
 * Events between marks. Measured on a 1M-event mixed run (see bench.ts): 4096 keeps
 * the worst `stateAt` near 5 ms while the marks add only a few MB.
 */
export const DEFAULT_SNAPSHOT_EVERY = 4096;

export interface ReplayIndexOptions {
  /** Keep a mark every this many events. */
  readonly every?: number;
  /** The run's id; by default the first event's run_id. */
  readonly runId?: string;
}

interface Mark {
  /** How many events the mark has folded. */
  readonly position: number;
  /** Highest seq among those events: the mark is usable for any stateAt(seq >= maxSeq). */
  readonly maxSeq: number;
  readonly fold: FoldMark;
}

/**
 * Random access into a run's history for a scrubber: `stateAt(seq)` restores the nearest
 * mark at or before seq and folds at most `every` events from there. `append` keeps
 * it current for a live run. Holds the events it was given (it re-folds from them).
 */
export class ReplayIndex {
  readonly every: number;
  private readonly events: LedgerEvent[] = [];
  private readonly marks: Mark[];
  private readonly folder: RunViewFold;
  private maxSeq = 0;

  constructor(options: ReplayIndexOptions = {}) {
    const every = options.every ?? DEFAULT_SNAPSHOT_EVERY;
    if (!Number.isSafeInteger(every) || every < 1) throw new RangeError(`every must be a positive integer, got ${every}`);
    this.every = every;
    this.folder = new RunViewFold(options.runId);
    this.marks = [{ position: 0, maxSeq: 0, fold: this.folder.mark() }];
  }

  static build(events: Iterable<LedgerEvent>, options?: ReplayIndexOptions): ReplayIndex {
    const index = new ReplayIndex(options);
    for (const event of events) index.append(event);
    return index;
  }

  /** Events appended so far (including any the fold ignored). */
  get length(): number {
    return this.events.length;
  }

  /** Highest seq appended so far. */
  get lastSeq(): number {
    return this.maxSeq;
  }

  get markCount(): number {
    return this.marks.length;
  }

  append(event: LedgerEvent): void {
    this.events.push(event);
    this.folder.push(event);
    this.maxSeq = Math.max(this.maxSeq, seqOf(event));
    if (this.events.length % this.every === 0) {
      this.marks.push({ position: this.events.length, maxSeq: this.maxSeq, fold: this.folder.mark() });
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
    if (Number.isNaN(seq) || seq < 0) throw new RangeError(`seq must be >= 0, got ${seq}`);
    if (seq >= this.maxSeq) return this.current();
    const mark = this.markAt(seq);
    const folder = RunViewFold.restore(mark.fold);
    for (let i = mark.position; i < this.events.length; i++) {
      const event = this.events[i]!;
      if (seqOf(event) > seq) break;
      folder.push(event);
    }
    return folder.snapshot();
  }

  /** Up to `limit` events from the first with seq >= `fromSeq`, in order (a page for an event inspector). */
  eventsFrom(fromSeq: number, limit: number): LedgerEvent[] {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (seqOf(this.events[middle]!) < fromSeq) low = middle + 1;
      else high = middle;
    }
    return this.events.slice(low, low + Math.max(0, limit));
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
