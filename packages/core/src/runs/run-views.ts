import { setImmediate as nextTurn } from 'node:timers/promises';
import type { LedgerEvent } from '../contract/index.js';
import type { RunView } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';
import { RunViewFold } from '../replay/index.js';
import { loadViewSnapshot, saveViewSnapshot } from './run-view-snapshots.js';

/** Events read and folded per event-loop turn while a view catches up (a few ms of work). */
const FOLD_SLICE = 1_000;
/** A view this many events past its last stored snapshot is snapshotted again. */
export const SNAPSHOT_EVERY = 20_000;

export interface RunViewsOptions {
  /** Folded views kept in memory (most recently used). */
  capacity?: number;
  /** Events past the last snapshot before another is stored (default SNAPSHOT_EVERY). */
  snapshotEvery?: number;
}

interface Cached {
  folder: RunViewFold;
  /** The seq of the newest stored snapshot (0: none). */
  snapshotSeq: number;
  saving: boolean;
}

/**
 * Folded views of recently opened runs, kept current from ledger commits, so a client can
 * open a run of 100,000 events with one snapshot instead of replaying every event over the
 * wire. The fold is core's (I9); this only caches it. A view not in memory starts from the
 * run's nearest persisted snapshot (ledger fold snapshots) and folds the rest in slices of
 * FOLD_SLICE events, one per event-loop turn, so opening a long run never holds up the host's
 * other clients; a view that has moved SNAPSHOT_EVERY events past its snapshot stores a new one.
 */
export class RunViews {
  private readonly cached = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<Cached>>();
  private readonly stop: () => void;
  private readonly capacity: number;
  private readonly snapshotEvery: number;
  private closed = false;

  constructor(
    private readonly ledger: Ledger,
    options: RunViewsOptions | number = {},
  ) {
    const resolved = typeof options === 'number' ? { capacity: options } : options;
    this.capacity = resolved.capacity ?? 8;
    this.snapshotEvery = resolved.snapshotEvery ?? SNAPSHOT_EVERY;
    this.stop = ledger.onCommit((event: LedgerEvent) => {
      const entry = this.cached.get(event.run_id);
      if (!entry) return;
      entry.folder.push(event);
      this.maybeSnapshot(entry);
    });
  }

  /** The run's view at its latest committed seq. */
  async view(runId: string): Promise<RunView> {
    let entry = this.cached.get(runId);
    if (entry) {
      // Most recently used last: Map keeps insertion order.
      this.cached.delete(runId);
    } else {
      let pending = this.loading.get(runId);
      if (!pending) {
        pending = this.load(runId).finally(() => this.loading.delete(runId));
        this.loading.set(runId, pending);
      }
      entry = await pending;
    }
    this.cached.set(runId, entry);
    while (this.cached.size > this.capacity) this.cached.delete(this.cached.keys().next().value!);
    this.maybeSnapshot(entry);
    return entry.folder.snapshot();
  }

  /**
   * From the nearest snapshot, fold the rest in slices. The last, short read and the
   * registration happen in one turn, so the commit listener takes over without gap or repeat.
   */
  private async load(runId: string): Promise<Cached> {
    const snapshot = await loadViewSnapshot(this.ledger, runId, this.ledger.run(runId)?.lastSeq);
    const folder = snapshot ? RunViewFold.fromView(snapshot) : new RunViewFold(runId);
    const entry: Cached = { folder, snapshotSeq: snapshot?.lastSeq ?? 0, saving: false };
    for (let from = folder.lastSeq + 1; ; ) {
      const page = this.ledger.read(runId, { fromSeq: from, limit: FOLD_SLICE });
      for (const event of page) folder.push(event);
      if (page.length < FOLD_SLICE) break;
      from = page[page.length - 1]!.seq + 1;
      await nextTurn();
    }
    this.cached.set(runId, entry);
    return entry;
  }

  /** Stores a snapshot in the background once the view is far enough past the last one. */
  private maybeSnapshot(entry: Cached): void {
    if (this.closed || entry.saving || entry.folder.lastSeq - entry.snapshotSeq < this.snapshotEvery) return;
    entry.saving = true;
    const view = entry.folder.snapshot();
    void saveViewSnapshot(this.ledger, view)
      .then(() => {
        entry.snapshotSeq = view.lastSeq;
      })
      .catch(() => {
        // Derived data: a snapshot that could not be stored (ledger closed, disk full) is rebuilt later.
      })
      .finally(() => {
        entry.saving = false;
      });
  }

  /** Drops a run's cached view (the run was deleted). */
  forget(runId: string): void {
    this.cached.delete(runId);
    this.loading.delete(runId);
  }

  close(): void {
    this.closed = true;
    this.stop();
    this.cached.clear();
  }
}
