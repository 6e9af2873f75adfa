import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { KeelRpcError } from '../contract/errors.js';
import {
  MAX_REPLAY_MARKERS,
  REPLAY_WINDOW_ITEMS,
  type LedgerEvent,
  type ReplayEventRow,
  type ReplayIndexProgress,
  type ReplayMarker,
  type ReplaySource,
  type ReplayTimeline,
  type RunView,
} from '../contract/index.js';
import { importedSliceFile, listImportedRuns, readSliceFrom } from '../diagnostics/index.js';
import { genesisHash, hashOf, type Ledger } from '../ledger/index.js';
import { markerOf, ReplayIndex, type ReplayEventSource } from '../replay/index.js';
import { eventPages } from '../runs/index.js';
import { REPLAY_PROGRESS_EVERY_MS, ReplayProgressFeed } from './replay-progress.js';

const PAGE = 5_000;
/** Events read per query while indexing: one read of 5,000 held the event loop ~50 ms, past a slice. */
const INDEX_PAGE = 1_000;
/** Longest stretch of indexing per event-loop turn: a long run's first open never holds the host's other clients. */
const SLICE_MS = 8;

interface Opened {
  source: ReplaySource;
  index: ReplayIndex;
  markers: ReplayMarker[];
  markersTruncated: boolean;
  /** The hash the next record must link to. */
  prevHash: string;
  firstBadSeq: number | null;
  redacted: Set<number>;
  readOnly: boolean;
  /** The catch-up under way, if any: calls that come meanwhile wait for it instead of indexing beside it. */
  catchingUp: Promise<void> | null;
  /** An imported run's slice was read whole (it never grows). */
  complete: boolean;
  /** What `replay.progress` says of it: `ready` once a catch-up has finished, `idle` again if one failed. */
  state: ReplayIndexProgress['state'];
  /** Events its current (or last) catch-up reads up to: a ledger run's lastSeq when it began, an imported run's events. */
  eventsTotal: number;
}

const keyOf = (source: ReplaySource) => `${source.bundleId ?? ''}/${source.runId}`;

/** What `replay.progress` says of an opened run; a ready index has read all it was asked for, and a live run's events past lastSeq are counted. */
function figures(run: Opened): ReplayIndexProgress {
  const eventsRead = run.index.length;
  return { state: run.state, eventsRead, eventsTotal: run.state === 'ready' ? eventsRead : Math.max(eventsRead, run.eventsTotal) };
}

/** A run's events re-read from the ledger by seq (the cursor is the last seq read), a page at a time. */
export function ledgerSource(ledger: Ledger, runId: string): ReplayEventSource {
  return {
    *after(cursor, pageHint) {
      for (const page of eventPages(ledger, runId, cursor + 1, Math.min(PAGE, Math.max(64, pageHint)))) yield* page;
    },
  };
}

/** An imported run's events re-read from its slice file (the cursor is a byte offset). */
function sliceSource(file: string): ReplayEventSource {
  return {
    *after(cursor, pageHint) {
      for (const { event } of readSliceFrom(file, cursor, Math.min(4 << 20, Math.max(64 << 10, pageHint * 1024)))) yield event;
    },
  };
}

/**
 * The host side of the replay viewer: one ReplayIndex per open run (the last few opened are
 * kept), fed from the ledger — and kept current for a live run on every call — or from an
 * imported bundle's slice. While indexing it checks the hash chain record by record and
 * collects the timeline markers, in slices of at most `sliceMs` per event-loop turn (the first
 * open of a 1M-event run indexes for seconds; the host answers its other clients meanwhile). The
 * index keeps marks of the fold, not the events: a scrub re-reads at most one mark's worth of
 * events (ReplayIndex, DEFAULT_SNAPSHOT_EVERY). How far an index has got is told at slice
 * boundaries to `replay.progress` watchers (ReplayProgressFeed), never per event.
 */
export class ReplayService {
  private readonly open = new Map<string, Opened>();
  /** Runs being indexed, kept while they are even if `open` let them go: opening one again joins its catch-up. */
  private readonly indexing = new Map<string, Opened>();
  private closed = false;
  private readonly feed: ReplayProgressFeed;

  constructor(
    private readonly ledger: Ledger,
    private readonly dataDir: string,
    private readonly capacity = 2,
    private readonly sliceMs = SLICE_MS,
    progressEveryMs = REPLAY_PROGRESS_EVERY_MS,
  ) {
    this.feed = new ReplayProgressFeed(progressEveryMs);
  }

  /** How far the run's index has got; only looks (a run not open, or unknown, is `idle`). */
  progress(source: ReplaySource): ReplayIndexProgress {
    const key = keyOf(source);
    const run = this.indexing.get(key) ?? this.open.get(key);
    if (run) return figures(run);
    return { state: 'idle', eventsRead: 0, eventsTotal: this.closed ? 0 : this.totalOf(source) };
  }

  /** `replay.progress`: the current figures at once, then their changes (see ReplayProgressFeed); returns the unsubscribe. */
  watchProgress(source: ReplaySource, send: (progress: ReplayIndexProgress) => void): () => void {
    return this.feed.watch(keyOf(source), this.progress(source), send);
  }

  async timeline(source: ReplaySource): Promise<ReplayTimeline> {
    const run = await this.get(source);
    return {
      runId: source.runId,
      bundleId: source.bundleId ?? null,
      events: run.index.length,
      lastSeq: run.index.lastSeq,
      markers: run.markers,
      markersTruncated: run.markersTruncated,
      chain: { firstBadSeq: run.firstBadSeq, redactedSeqs: [...run.redacted].sort((a, b) => a - b) },
      readOnly: run.readOnly,
    };
  }

  /** The state at `seq` with a window of its transcript (by default the last REPLAY_WINDOW_ITEMS items). */
  async stateAt(
    source: ReplaySource,
    seq: number,
    window: { itemsFrom?: number | undefined; itemsLimit?: number | undefined } = {},
  ): Promise<{ seq: number; view: RunView; itemCount: number; itemsFrom: number }> {
    const run = await this.get(source);
    const at = Math.min(seq, run.index.lastSeq);
    return { seq: at, ...run.index.windowAt(at, window.itemsLimit ?? REPLAY_WINDOW_ITEMS, window.itemsFrom) };
  }

  async events(source: ReplaySource, fromSeq: number, limit: number): Promise<{ rows: ReplayEventRow[]; lastSeq: number }> {
    const run = await this.get(source);
    const rows = run.index.eventsFrom(fromSeq, limit).map((record) => ({
      record,
      chain: run.firstBadSeq !== null && record.seq >= run.firstBadSeq ? ('broken' as const) : run.redacted.has(record.seq) ? ('redacted' as const) : ('verified' as const),
    }));
    return { rows, lastSeq: run.index.lastSeq };
  }

  /** Forgets every index; a catch-up under way stops at its next slice and its callers get an error. */
  close(): void {
    this.closed = true;
    this.open.clear();
    this.indexing.clear();
    this.feed.close();
  }

  /** Drops a run's index read from the ledger (the run was deleted); imported copies stay. */
  forget(runId: string): void {
    this.open.delete(keyOf({ runId }));
    this.indexing.delete(keyOf({ runId }));
  }

  /** The run's index, caught up with what the ledger committed (an imported run's once, whole). */
  private async get(source: ReplaySource): Promise<Opened> {
    if (this.closed) throw new KeelRpcError('unavailable', 'Replay is closed.');
    const key = keyOf(source);
    let run = this.open.get(key) ?? this.indexing.get(key);
    // A run gone from the ledger (its files deleted) is not served from what was indexed before.
    if (run && !source.bundleId && !this.ledger.run(source.runId)) {
      this.open.delete(key);
      run = undefined;
    }
    if (run) {
      this.open.delete(key);
    } else {
      run = source.bundleId ? this.fromBundle(source, source.bundleId) : this.fromLedger(source);
    }
    this.open.set(key, run);
    while (this.open.size > this.capacity) this.open.delete(this.open.keys().next().value!);
    await this.catchUp(run);
    return run;
  }

  /**
   * One catch-up at a time per run; a call that finds one under way waits for it, then catches up
   * the rest. An imported run's index that failed part way is dropped (the next call reads the
   * slice again); a ledger run's resumes where it stopped.
   */
  private async catchUp(run: Opened): Promise<void> {
    while (run.catchingUp) await run.catchingUp.catch(() => {});
    if (run.complete) return;
    const key = keyOf(run.source);
    this.indexing.set(key, run);
    run.catchingUp = this.index(run).finally(() => {
      run.catchingUp = null;
      if (this.indexing.get(key) === run) this.indexing.delete(key);
    });
    try {
      await run.catchingUp;
    } catch (error) {
      if (run.source.bundleId && this.open.get(key) === run) this.open.delete(key);
      run.state = 'idle';
      this.report(run);
      throw error;
    }
  }

  /** Adds the run's events past its index, yielding the event loop every `sliceMs`; stops when the service closes or the run is deleted. */
  private async index(run: Opened): Promise<void> {
    const stillWanted = () => {
      if (this.closed) throw new KeelRpcError('unavailable', 'Replay closed while it was reading the run.');
      if (!run.source.bundleId && !this.ledger.run(run.source.runId)) throw new KeelRpcError('not_found', `Run ${run.source.runId} was deleted.`);
    };
    stillWanted();
    // Watchers hear of a catch-up only when there is something to read: a scrub's catch-up of a run already read sends nothing.
    if (!run.source.bundleId) run.eventsTotal = this.totalOf(run.source);
    if (run.state !== 'ready' || run.index.lastSeq < run.eventsTotal) run.state = 'indexing';
    this.report(run);
    let sliceEnds = performance.now() + this.sliceMs;
    let count = 0;
    for (const { event, cursor } of this.unindexed(run)) {
      this.add(run, event, cursor);
      if (++count % 64 === 0 && performance.now() >= sliceEnds) {
        this.report(run);
        await nextTurn();
        stillWanted();
        sliceEnds = performance.now() + this.sliceMs;
      }
    }
    if (run.source.bundleId) run.complete = true;
    run.state = 'ready';
    this.report(run);
  }

  private report(run: Opened): void {
    const key = keyOf(run.source);
    if (this.feed.watched(key)) this.feed.report(key, figures(run));
  }

  /** Events a run has to read: a ledger run's lastSeq now, an imported run's events (0 for a run Keel does not know). */
  private totalOf(source: ReplaySource): number {
    if (!source.bundleId) return this.ledger.run(source.runId)?.lastSeq ?? 0;
    return this.imported(source.bundleId, source.runId)?.events ?? 0;
  }

  /** An imported run as `diagnostics.imported` lists it, or undefined. */
  private imported(bundleId: string, runId: string) {
    return listImportedRuns(this.dataDir).find((each) => each.bundleId === bundleId && each.runId === runId);
  }

  /** The run's events past its index (the ledger's committed ones, or an imported slice whole), each with where its source resumes after it. */
  private *unindexed(run: Opened): Generator<{ event: LedgerEvent; cursor: number }> {
    const { bundleId, runId } = run.source;
    if (bundleId) {
      for (const { event, end } of readSliceFrom(importedSliceFile(this.dataDir, bundleId, runId))) yield { event, cursor: end };
      return;
    }
    for (const page of eventPages(this.ledger, runId, run.index.lastSeq + 1, INDEX_PAGE)) for (const event of page) yield { event, cursor: event.seq };
  }

  private fresh(source: ReplaySource, events: ReplayEventSource, redacted: Set<number>, readOnly: boolean, eventsTotal: number): Opened {
    return {
      source,
      index: new ReplayIndex({ runId: source.runId, source: events }),
      markers: [],
      markersTruncated: false,
      prevHash: genesisHash(source.runId),
      firstBadSeq: null,
      redacted,
      readOnly,
      catchingUp: null,
      complete: false,
      state: 'idle',
      eventsTotal,
    };
  }

  /** `cursor`: where the run's source resumes after this event. */
  private add(run: Opened, event: LedgerEvent, cursor: number): void {
    if (run.firstBadSeq === null) {
      const { hash, ...unhashed } = event;
      const linked = event.prev === run.prevHash && event.seq === run.index.lastSeq + 1;
      if (!linked || (!run.redacted.has(event.seq) && hashOf(unhashed) !== hash)) run.firstBadSeq = event.seq;
    }
    run.prevHash = event.hash;
    run.index.append(event, cursor);
    const marker = markerOf(event);
    if (marker) {
      if (run.markers.length < MAX_REPLAY_MARKERS) run.markers.push(marker);
      else run.markersTruncated = true;
    }
  }

  private fromLedger(source: ReplaySource): Opened {
    const summary = this.ledger.run(source.runId);
    if (!summary) throw new KeelRpcError('not_found', `No run ${source.runId}.`);
    return this.fresh(source, ledgerSource(this.ledger, source.runId), new Set(), summary.readOnly || summary.quarantined, summary.lastSeq);
  }

  private fromBundle(source: ReplaySource, bundleId: string): Opened {
    const imported = this.imported(bundleId, source.runId);
    if (!imported) throw new KeelRpcError('not_found', `No imported run ${source.runId} in bundle ${bundleId}.`);
    return this.fresh(source, sliceSource(importedSliceFile(this.dataDir, bundleId, source.runId)), new Set(imported.redactedSeqs), true, imported.events);
  }
}
