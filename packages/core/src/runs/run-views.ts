import { setImmediate as nextTurn } from 'node:timers/promises';
import type { LedgerEvent } from '../contract/index.js';
import { MAX_VIEW_WINDOW_ITEMS, VIEW_WINDOW_ITEMS, type RunView, type RunViewWindow } from '../contract/index.js';
import { NO_CALLS, type CallsInFlight, type Ledger } from '../ledger/index.js';
import { RUN_VIEW_FOLD_VERSION, RunViewFold } from '../replay/index.js';
import { loadViewSnapshot, PACK_FROM_BYTES, RUN_VIEW_FOLD, saveViewSnapshot } from './run-view-snapshots.js';
import { RUN_VIEW_TAIL_FOLD, readViewTail, saveViewTail } from './run-view-tails.js';
import { foldRest, foldWindow, type WindowFold } from './run-view-window.js';
/** A view this many events past its last stored snapshot is snapshotted again. */
export const SNAPSHOT_EVERY = 20_000;
/**
 * The whole view's load that follows a cold window waits this long, unless a caller needs the
 * whole view first (run.view, a page of earlier items, a window the window fold declined): the
 * client is drawing the window meanwhile, and on a machine of two cores the load's unpacking,
 * parsing and garbage collection took CPU from that first draw (issue 16).
 */
export const BACKGROUND_LOAD_DELAY_MS = 500;
/** How long a rest fold waits for the host's calls to be answered before it starts anyway. */
const MAX_REST_WAIT_MS = 500;

export interface RunViewsOptions {
  /** Folded views kept in memory (most recently used). */
  capacity?: number;
  /** Events past the last snapshot before another is stored (default SNAPSHOT_EVERY). */
  snapshotEvery?: number;
  /** How long the whole view's load waits after a cold window (default BACKGROUND_LOAD_DELAY_MS). */
  backgroundLoadDelayMs?: number;
  /** Events past a run's last snapshot at which a turn's end folds it though nobody has it open (default SNAPSHOT_EVERY). */
  restFoldEvery?: number;
  /** Runs the person deleted (their files kept): never folded at rest. */
  isDeleted?: (runId: string) => boolean;
  /** While these are busy (the host answers a client's call), a rest fold waits for them to settle before it starts (at most MAX_REST_WAIT_MS). */
  calls?: CallsInFlight;
}

interface Cached {
  folder: RunViewFold;
  /** The seq of the newest stored snapshot (0: none). */
  snapshotSeq: number;
  /** The snapshot being stored, if one is. */
  saving: Promise<void> | null;
  /** False once the run was forgotten (deleted): nothing of it is stored or cached again. */
  wanted: () => boolean;
}

/**
 * Folded views of recently opened runs, kept current from ledger commits, so a client can
 * open a run of 100,000 events with one snapshot instead of replaying every event over the
 * wire. The fold is core's (I9); this only caches it. A view not in memory starts from the
 * run's nearest persisted snapshot (ledger fold snapshots) and folds the rest in slices of
 * FOLD_SLICE events, one per event-loop turn, so opening a long run never holds up the host's
 * other clients; a view that has moved SNAPSHOT_EVERY events past its snapshot stores a new one.
 *
 * A window of the newest items of a view not in memory (`window`, ADR 0022) is answered from the
 * run's window snapshot (head, newest items, keys of the rest; run-view-tails.ts) plus the
 * events after it (run-view-window.ts); the full load follows in the background.
 */
export class RunViews {
  private readonly cached = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<Cached>>();
  /** Per run while its load is pending: the cold window fold its callers share. */
  private readonly windows = new Map<string, Promise<WindowFold | null>>();
  /** Per run: the seq of the window snapshot a cold window just read whole (so it is readable). */
  private readonly tailsRead = new Map<string, number>();
  /** Bumped by forget(): a load or a snapshot begun before it must not bring the run back. */
  private readonly generations = new Map<string, number>();
  private readonly stop: () => void;
  private readonly capacity: number;
  private readonly snapshotEvery: number;
  private readonly backgroundLoadDelayMs: number;
  private readonly restFoldEvery: number;
  /** Per run whose whole load waits after a cold window: starts it now. */
  private readonly hurries = new Map<string, () => void>();
  /** Runs a rest fold is loading that nobody has asked for since: dropped from memory once stored. */
  private readonly resting = new Set<string>();
  /** Loads, rest folds and snapshot saves under way (what `idle` waits for). */
  private readonly working = new Set<Promise<unknown>>();
  /** Rest folds run one at a time, in the order asked: the tail of that queue, and the runs waiting in it. */
  private restQueue: Promise<unknown> = Promise.resolve();
  private readonly restQueued = new Map<string, Promise<boolean>>();
  private readonly isDeleted: (runId: string) => boolean;
  private readonly calls: CallsInFlight;
  private closed = false;
  /** Resolves on close(): a rest fold waiting for the host's calls stops waiting. */
  private readonly closing: Promise<void>;
  private readonly wake: () => void;

  constructor(
    private readonly ledger: Ledger,
    options: RunViewsOptions | number = {},
  ) {
    const resolved = typeof options === 'number' ? { capacity: options } : options;
    let wake!: () => void;
    this.closing = new Promise<void>((resolve) => (wake = resolve));
    this.wake = wake;
    this.capacity = resolved.capacity ?? 8;
    this.snapshotEvery = resolved.snapshotEvery ?? SNAPSHOT_EVERY;
    this.backgroundLoadDelayMs = resolved.backgroundLoadDelayMs ?? BACKGROUND_LOAD_DELAY_MS;
    this.restFoldEvery = resolved.restFoldEvery ?? SNAPSHOT_EVERY;
    this.isDeleted = resolved.isDeleted ?? (() => false);
    this.calls = resolved.calls ?? NO_CALLS;
    this.stop = ledger.onCommit((event: LedgerEvent) => {
      const entry = this.cached.get(event.run_id);
      if (!entry) {
        if (event.type === 'turn.ended') this.foldAtRest(event.run_id, event.seq);
        return;
      }
      entry.folder.push(event);
      void this.maybeSnapshot(entry);
    });
  }

  /**
   * A run nobody has open that ended a turn far past its last stored snapshot (a long run that
   * worked unwatched) is folded now, in slices, and snapshotted: opening it later starts from the
   * snapshot instead of folding every event while the person waits (issue 16).
   */
  private foldAtRest(runId: string, seq: number): void {
    if (this.closed || this.loading.has(runId) || !this.behind(runId, seq)) return;
    void this.queueRestFold(runId);
  }

  /** Whether a run at `lastSeq` is restFoldEvery events or more past its newest view snapshot (read unless given). */
  private behind(runId: string, lastSeq: number, newest = Math.max(0, ...this.ledger.snapshots.seqs(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION))): boolean {
    return lastSeq - newest >= this.restFoldEvery;
  }

  /**
   * A rest fold of the run, after every rest fold asked before it (one whole view in memory at a
   * time) and once the host has answered its clients' calls; when its turn comes it checks again
   * that the run is still behind, not deleted and not open. Resolves true when it stored a snapshot.
   */
  private queueRestFold(runId: string): Promise<boolean> {
    const waiting = this.restQueued.get(runId);
    if (waiting) return waiting;
    const turn = this.restQueue
      .then(async () => {
        this.restQueued.delete(runId);
        if (!this.closed && this.calls.busy()) await Promise.race([this.calls.settled(MAX_REST_WAIT_MS), this.closing]);
        if (this.closed || this.isDeleted(runId) || !this.behind(runId, this.ledger.run(runId)?.lastSeq ?? 0)) return false;
        return this.restFold(runId);
      })
      .catch(() => false);
    this.restQueued.set(runId, turn);
    this.restQueue = turn;
    return this.track(turn);
  }

  /** Settles once no load, rest fold or snapshot save is under way (those begun meanwhile included). */
  async idle(): Promise<void> {
    while (this.working.size > 0) await Promise.allSettled([...this.working]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.working.add(work);
    void work.finally(() => this.working.delete(work)).catch(() => undefined);
    return work;
  }

  /**
   * Folds and snapshots, one run after another (the most recently updated first), every run at
   * least restFoldEvery events past its newest view snapshot that nobody has open: runs written
   * outside this host (`keel run`, an import, a generated history) and runs whose snapshots an
   * older fold version wrote. The host starts it after its start-up ledger check; `keel run`
   * calls it for its run before it exits. Resolves with the number of runs it stored (issue 16).
   */
  async foldBehind(runIds?: readonly string[]): Promise<number> {
    if (this.closed) return 0;
    const only = runIds ? new Set(runIds) : null;
    const newest = this.ledger.snapshots.newestSeqs(RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION);
    const behind = this.ledger
      .runs()
      .filter((run) => (!only || only.has(run.id)) && !run.quarantined && !this.isDeleted(run.id) && this.behind(run.id, run.lastSeq, newest.get(run.id) ?? 0))
      .sort((a, b) => (a.updated < b.updated ? 1 : a.updated > b.updated ? -1 : 0));
    const stored = await Promise.all(behind.map((run) => this.queueRestFold(run.id)));
    return stored.filter(Boolean).length;
  }

  /**
   * Loads a run's view (shared with anyone who opens it meanwhile) and stores its snapshot; the
   * view leaves memory again unless someone asked for it since. False when it was open or loading.
   */
  private async restFold(runId: string): Promise<boolean> {
    // Forgotten (deleted) in this process: its load would not know it, and store its snapshot again.
    if (this.closed || this.cached.has(runId) || this.loading.has(runId) || this.generations.has(runId)) return false;
    this.resting.add(runId);
    let entry: Cached | undefined;
    try {
      entry = await this.loaded(runId);
      const before = entry.snapshotSeq;
      await this.maybeSnapshot(entry, 1);
      return entry.snapshotSeq > before;
    } finally {
      if (this.resting.delete(runId) && entry && this.cached.get(runId) === entry) this.cached.delete(runId);
    }
  }

  /** The run's view at its latest committed seq. */
  async view(runId: string): Promise<RunView> {
    this.resting.delete(runId);
    let entry = this.cached.get(runId);
    if (!entry) {
      // A load waiting behind a cold window starts now: this caller needs it.
      this.hurries.get(runId)?.();
      entry = await this.loaded(runId);
    }
    this.touch(runId, entry);
    void this.maybeSnapshot(entry);
    return entry.folder.snapshot();
  }

  /**
   * The run's view at its latest seq with items `from`.. (at most `limit`; by default the newest
   * VIEW_WINDOW_ITEMS) of its transcript. The newest items of a view not in memory come from
   * its window snapshot and the events after it (ADR 0022); a page of earlier items, or a
   * window that fold declines, waits for the whole view.
   */
  async window(runId: string, from?: number, limit = VIEW_WINDOW_ITEMS): Promise<RunViewWindow> {
    this.resting.delete(runId);
    if (from === undefined && limit <= MAX_VIEW_WINDOW_ITEMS && !this.cached.has(runId)) {
      const cold = await this.coldWindow(runId);
      // Still current (no commit since it was folded): otherwise the whole view answers.
      if (cold && !this.cached.has(runId) && cold.folder.lastSeq === (this.ledger.run(runId)?.lastSeq ?? cold.folder.lastSeq)) {
        const view = cold.folder.snapshot();
        const itemCount = cold.omitted + view.items.length;
        const itemsFrom = Math.max(0, itemCount - limit);
        return { view: { ...view, items: view.items.slice(Math.max(0, itemsFrom - cold.omitted)) }, itemCount, itemsFrom };
      }
    }
    const view = await this.view(runId);
    const itemCount = view.items.length;
    const itemsFrom = Math.min(from ?? Math.max(0, itemCount - limit), itemCount);
    return { view: { ...view, items: view.items.slice(itemsFrom, itemsFrom + limit) }, itemCount, itemsFrom };
  }

  /**
   * Most recently used last (Map keeps insertion order), at most `capacity` kept besides the
   * views rest folds hold until their snapshot is stored (they push out no view someone opened).
   */
  private touch(runId: string, entry: Cached): void {
    this.cached.delete(runId);
    this.cached.set(runId, entry);
    let over = this.cached.size - this.capacity - [...this.resting].filter((id) => this.cached.has(id)).length;
    for (const id of this.cached.keys()) {
      if (over <= 0) break;
      if (this.resting.has(id)) continue;
      this.cached.delete(id);
      over--;
    }
  }

  /** The run's whole view folded and registered: one load shared by every caller, started after `after`. */
  private loaded(runId: string, after?: Promise<unknown>): Promise<Cached> {
    let pending = this.loading.get(runId);
    if (!pending) {
      // After `after` and BACKGROUND_LOAD_DELAY_MS (or until a caller needs the whole view): the
      // window answer it produced goes out, and is drawn, first. A window fold that declined (no
      // window snapshot, an older item changed) answered nothing: its caller needs the load now.
      const start = after ? after.then((answered) => (answered ? this.pause(runId) : nextTurn()), () => nextTurn()) : Promise.resolve();
      const wanted = this.wantedNow(runId);
      const load: Promise<Cached> = start
        .then(() => this.load(runId, wanted))
        .finally(() => {
          // A forget() during the load may have let a newer load begin: leave that one's entries.
          if (this.loading.get(runId) === load) this.loading.delete(runId);
          if (wanted()) this.windows.delete(runId);
        });
      pending = this.track(load);
      this.loading.set(runId, pending);
    }
    return pending;
  }

  /** Resolves after backgroundLoadDelayMs, or as soon as `hurries` is called for the run (or on close). */
  private pause(runId: string): Promise<void> {
    if (this.closed || this.backgroundLoadDelayMs <= 0) return nextTurn();
    return new Promise((resolve) => {
      const go = () => {
        clearTimeout(timer);
        if (this.hurries.get(runId) === go) this.hurries.delete(runId);
        resolve();
      };
      const timer = setTimeout(go, this.backgroundLoadDelayMs);
      this.hurries.set(runId, go);
    });
  }

  /**
   * The newest items of a run not in memory, shared by the callers until the full load (started
   * once this is done, so it does not compete with it) is registered.
   */
  private coldWindow(runId: string): Promise<WindowFold | null> {
    let pending = this.windows.get(runId);
    if (!pending) {
      const lastSeq = this.ledger.run(runId)?.lastSeq;
      pending = readViewTail(this.ledger, runId, lastSeq).then((tail) => {
        if (!tail) return null;
        this.tailsRead.set(runId, tail.view.lastSeq);
        return foldWindow(this.ledger, runId, tail, MAX_VIEW_WINDOW_ITEMS);
      });
      this.windows.set(runId, pending);
      // Nobody may wait for the background load: its failure (ledger closed) is the next caller's.
      this.loaded(runId, pending).catch(() => undefined);
    }
    return pending;
  }

  /**
   * From the nearest snapshot, fold the rest in slices. The last, short read and the
   * registration happen in one turn, so the commit listener takes over without gap or repeat.
   */
  private async load(runId: string, wanted: () => boolean): Promise<Cached> {
    const snapshot = await loadViewSnapshot(this.ledger, runId, this.ledger.run(runId)?.lastSeq);
    const folder = snapshot ? RunViewFold.fromView(snapshot) : new RunViewFold(runId);
    const entry: Cached = { folder, snapshotSeq: snapshot?.lastSeq ?? 0, saving: null, wanted };
    await foldRest(this.ledger, runId, folder, { done: () => this.closed || !wanted() || this.touch(runId, entry) });
    if (snapshot) void this.track(this.keepWindowSnapshot(runId, entry, snapshot.lastSeq));
    return entry;
  }

  /**
   * A view snapshot without a readable window snapshot at or after it (stored by an earlier
   * build, or damaged) gets one now, in the background.
   */
  private async keepWindowSnapshot(runId: string, entry: Cached, since: number): Promise<void> {
    const read = this.tailsRead.get(runId);
    this.tailsRead.delete(runId);
    if (this.closed || !entry.wanted()) return;
    // The cold window this load followed read one at or after it: no second read and parse of it.
    if (read !== undefined && read >= since) return;
    try {
      if (this.ledger.snapshots.seqs(runId, RUN_VIEW_TAIL_FOLD, RUN_VIEW_FOLD_VERSION).some((seq) => seq >= since) && (await readViewTail(this.ledger, runId))) return;
      await saveViewTail(this.ledger, entry.folder.snapshot(), PACK_FROM_BYTES, entry.wanted);
    } catch {
      // Derived data: stored again by a later load.
    }
  }

  /** True until the run is forgotten (deleted) after this call. */
  private wantedNow(runId: string): () => boolean {
    const generation = this.generations.get(runId) ?? 0;
    return () => (this.generations.get(runId) ?? 0) === generation;
  }

  /**
   * Stores a snapshot in the background once the view is `every` events past the last one, begun
   * an event-loop turn later: the answer of the caller that got here (a first open's window, which
   * folded the whole run) goes out before the snapshot's encoding holds the loop. Settles when the
   * snapshot being stored (this one, or one already under way) is stored or given up.
   */
  private maybeSnapshot(entry: Cached, every = this.snapshotEvery): Promise<void> {
    if (entry.saving) return entry.saving;
    if (this.closed || entry.folder.lastSeq - entry.snapshotSeq < every) return Promise.resolve();
    const view = entry.folder.snapshot();
    const save = nextTurn()
      .then(() => saveViewSnapshot(this.ledger, view, PACK_FROM_BYTES, entry.wanted))
      .then((stored) => {
        if (stored) entry.snapshotSeq = view.lastSeq;
      })
      .catch(() => {
        // Derived data: a snapshot that could not be stored (ledger closed, disk full) is rebuilt later.
      })
      .finally(() => {
        entry.saving = null;
      });
    entry.saving = this.track(save);
    return save;
  }

  /** Drops a run's cached view (the run was deleted). */
  forget(runId: string): void {
    this.generations.set(runId, (this.generations.get(runId) ?? 0) + 1);
    this.cached.delete(runId);
    this.loading.delete(runId);
    this.windows.delete(runId);
    this.tailsRead.delete(runId);
  }

  close(): void {
    this.closed = true;
    this.wake();
    this.stop();
    this.cached.clear();
    for (const go of [...this.hurries.values()]) go();
  }
}
