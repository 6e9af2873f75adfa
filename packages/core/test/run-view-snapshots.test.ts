// Persisted fold snapshots (issue 16): run.view of a run not in memory starts from the nearest
// stored snapshot at this build's fold version, folds the rest in slices (other work runs
// between them), and gives exactly the view a fold of every event gives.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppendInput, LedgerEvent } from '../src/contract/index.js';
import { openLedger, type Ledger } from '../src/ledger/index.js';
import { fold, RUN_VIEW_FOLD_VERSION } from '../src/replay/index.js';
import { decodeView, encodeView, RUN_VIEW_FOLD, RunViews, saveViewSnapshot } from '../src/runs/index.js';
import { viewNow } from '../src/runs/run-view-snapshots.js';
import { readAll, syntheticBodies } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-views-');
let dirs = 0;
const freshDataDir = () => path.join(root, `data-${++dirs}`);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function appendAll(ledger: Ledger, runId: string, list: readonly AppendInput[]): Promise<void> {
  for (let at = 0; at < list.length; at += 500) {
    await Promise.all(list.slice(at, at + 500).map((body) => ledger.append(runId, body, { durability: 'stream' })));
  }
}

async function runOf(count: number, seed = 7): Promise<{ ledger: Ledger; runId: string; dataDir: string }> {
  const dataDir = freshDataDir();
  const ledger = await openLedger({ dataDir, streamWindowMs: 1 });
  const runId = ledger.newRunId();
  await appendAll(ledger, runId, syntheticBodies(count, seed));
  return { ledger, runId, dataDir };
}

const allEvents = (ledger: Ledger, runId: string): LedgerEvent[] => readAll(ledger, runId);

/** Calls `onRead` with the run and `fromSeq` of every ledger read until the returned stop is called. */
function watchReads(ledger: Ledger, onRead: (runId: string, fromSeq: number) => void): () => void {
  const read = ledger.read.bind(ledger);
  ledger.read = (id, options) => {
    onRead(id, options?.fromSeq ?? 1);
    return read(id, options);
  };
  return () => {
    ledger.read = read;
  };
}

/** What `use` gives, and the `fromSeq` of every ledger read it made. */
async function readsDuring<T>(ledger: Ledger, use: () => Promise<T>): Promise<{ result: T; fromSeqs: number[] }> {
  const fromSeqs: number[] = [];
  const stop = watchReads(ledger, (_runId, fromSeq) => fromSeqs.push(fromSeq));
  try {
    return { result: await use(), fromSeqs };
  } finally {
    stop();
  }
}

/** A fresh ledger with one run per `[events, seed]` (written with no RunViews listening), given to `use`, then closed. */
async function withRuns<const R extends readonly (readonly [number, number])[]>(
  runs: R,
  use: (ledger: Ledger, runIds: { [K in keyof R]: string }) => Promise<void>,
): Promise<void> {
  const ledger = await openLedger({ dataDir: freshDataDir(), streamWindowMs: 1 });
  try {
    const runIds = runs.map(() => ledger.newRunId());
    for (const [index, [count, seed]] of runs.entries()) await appendAll(ledger, runIds[index]!, syntheticBodies(count, seed));
    await use(ledger, runIds as { [K in keyof R]: string });
  } finally {
    await ledger.close();
  }
}

describe('fold snapshots in the ledger', () => {
  it('nearest gives the newest snapshot at or before a seq for the asked version only; save prunes old versions and keeps the newest', async () => {
    const { ledger, runId } = await runOf(50);
    try {
      const snapshots = ledger.snapshots;
      expect(snapshots.nearest(runId, 'f', 1)).toBeNull();
      snapshots.save(runId, 'f', 1, 10, 'ten');
      snapshots.save(runId, 'f', 1, 20, 'twenty');
      snapshots.save(runId, 'other', 1, 15, 'other fold');
      expect(snapshots.nearest(runId, 'f', 1, 19)).toEqual({ seq: 10, data: 'ten' });
      expect(snapshots.nearest(runId, 'f', 1)).toEqual({ seq: 20, data: 'twenty' });
      expect(snapshots.nearest(runId, 'f', 1, 9)).toBeNull();
      expect(snapshots.nearest(runId, 'f', 2)).toBeNull();
      snapshots.save(runId, 'f', 1, 30, 'thirty', 2);
      expect(snapshots.seqs(runId, 'f', 1)).toEqual([20, 30]);
      // A new fold version replaces every snapshot of that fold, leaves other folds alone.
      snapshots.save(runId, 'f', 2, 40, 'v2');
      expect(snapshots.seqs(runId, 'f', 1)).toEqual([]);
      expect(snapshots.seqs(runId, 'f', 2)).toEqual([40]);
      expect(snapshots.nearest(runId, 'other', 1)).toEqual({ seq: 15, data: 'other fold' });
    } finally {
      await ledger.close();
    }
  });

  it('a view survives its snapshot encoding exactly', async () => {
    const { ledger, runId } = await runOf(2_000);
    try {
      const view = fold(allEvents(ledger, runId), runId);
      expect(view.items.length).toBeGreaterThan(200);
      const text = await encodeView(view, 50);
      expect(text.split('\n').length).toBe(1 + Math.ceil(view.items.length / 50));
      expect(await decodeView(text)).toEqual(view);
      // From its UTF-8 bytes (how a stored snapshot is read), non-ASCII text included.
      const withUnicode = { ...view, title: 'ünïcode — 漢字 🙂' };
      expect(await decodeView(Buffer.from(await encodeView(withUnicode, 50), 'utf8'))).toEqual(withUnicode);
      expect(await decodeView(await encodeView(view))).toEqual(view);
      expect(await decodeView('not a snapshot')).toBeNull();
    } finally {
      await ledger.close();
    }
  });
});

describe('run.view from snapshots', () => {
  it('a cold view equals the fold of every event, stores a snapshot, and the next cold view starts from it', async () => {
    const { ledger, runId, dataDir } = await runOf(3_000);
    const expected = fold(allEvents(ledger, runId), runId);
    const first = new RunViews(ledger, { snapshotEvery: 1_000 });
    expect(await first.view(runId)).toEqual(expected);
    // The snapshot is written in the background: wait for that work.
    await first.idle();
    first.close();
    expect(ledger.snapshots.seqs(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)).toEqual([expected.lastSeq]);
    await ledger.close();

    const reopened = await openLedger({ dataDir, streamWindowMs: 1 });
    try {
      const more = syntheticBodies(3_400, 7).slice(-300);
      await appendAll(reopened, runId, more);
      const views = new RunViews(reopened);
      // Count the ledger reads: a start from the snapshot reads only what came after it.
      const { result: view, fromSeqs } = await readsDuring(reopened, () => views.view(runId));
      expect(fromSeqs[0]).toBe(expected.lastSeq + 1);
      expect(view).toEqual(fold(allEvents(reopened, runId), runId));
      views.close();
    } finally {
      await reopened.close();
    }
  });

  it('a run nobody has open is folded and snapshotted when a turn ends far past its last snapshot, so its first open starts from it', async () => {
    const dataDir = freshDataDir();
    const ledger = await openLedger({ dataDir, streamWindowMs: 1 });
    try {
      const views = new RunViews(ledger, { snapshotEvery: 1_000, restFoldEvery: 1_000 });
      const runId = ledger.newRunId();
      // Written while nobody asks for its view (a run working unwatched).
      await appendAll(ledger, runId, syntheticBodies(3_000, 11));
      // Every turn's end has been committed: wait for the rest folds it began.
      await views.idle();
      const stored = ledger.snapshots.seqs(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION);
      expect(stored.length).toBeGreaterThan(0);
      views.close();
      // A fresh host's first open reads only what came after the snapshot, and gives the whole fold.
      const fresh = new RunViews(ledger);
      const { result: view, fromSeqs } = await readsDuring(ledger, () => fresh.view(runId));
      expect(fromSeqs[0]).toBe(Math.max(...stored) + 1);
      expect(view).toEqual(fold(allEvents(ledger, runId), runId));
      fresh.close();
    } finally {
      await ledger.close();
    }
  });

  it('foldBehind stores a snapshot of every run far behind its newest one, leaves short runs alone, and keeps none of them in memory', async () => {
    // Written with no RunViews listening (as by `keel run` or an import), one with a stale snapshot.
    await withRuns([[2_500, 3], [2_600, 5], [600, 9]], async (ledger, [never, stale, short]) => {
      const oldView = fold(allEvents(ledger, stale), stale);
      ledger.snapshots.save(stale, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION - 1, oldView.lastSeq, await encodeView(oldView));
      const views = new RunViews(ledger, { restFoldEvery: 1_000 });
      expect(await views.foldBehind()).toBe(2);
      for (const runId of [never, stale]) {
        expect(ledger.snapshots.seqs(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)).toEqual([ledger.run(runId)!.lastSeq]);
        // Not kept in memory: the next open reads the ledger, from past the snapshot only.
        const { result: view, fromSeqs } = await readsDuring(ledger, () => views.view(runId));
        expect(fromSeqs).toEqual([ledger.run(runId)!.lastSeq + 1]);
        expect(view).toEqual(fold(allEvents(ledger, runId), runId));
      }
      expect(ledger.snapshots.seqs(short, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)).toEqual([]);
      // Nothing left behind: a second pass stores nothing.
      expect(await views.foldBehind()).toBe(0);
      views.close();
    });
  });

  it('rest folds run one at a time, wait while the host is busy, and skip deleted and forgotten runs', async () => {
    await withRuns([[2_500, 20], [2_500, 21], [2_500, 22], [2_500, 23]], async (ledger, [a, b, deleted, forgotten]) => {
      let busy = true;
      let settle!: () => void;
      let asked!: () => void;
      const waited = new Promise<void>((resolve) => (asked = resolve));
      const views = new RunViews(ledger, {
        restFoldEvery: 1_000,
        isDeleted: (runId) => runId === deleted,
        calls: {
          busy: () => busy,
          settled: () => {
            asked();
            return new Promise<void>((resolve) => (settle = resolve));
          },
        },
      });
      views.forget(forgotten);
      const readOrder: string[] = [];
      const stopWatching = watchReads(ledger, (runId) => readOrder.push(runId));
      const pass = views.foldBehind();
      // Busy: waiting for the calls to settle, nothing read yet.
      await waited;
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(readOrder).toEqual([]);
      busy = false;
      settle();
      expect(await pass).toBe(2);
      stopWatching();
      // One whole fold after the other (each is read in several slices), never interleaved.
      const runsInOrder = readOrder.filter((runId, at) => at === 0 || readOrder[at - 1] !== runId);
      expect(runsInOrder).toHaveLength(2);
      expect(new Set(runsInOrder)).toEqual(new Set([a, b]));
      expect(readOrder.length).toBeGreaterThan(2);
      for (const runId of [deleted, forgotten]) expect(ledger.snapshots.seqs(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)).toEqual([]);
      views.close();
    });
  });

  it("closing stops a rest fold that waits for the host's calls: nothing is read or stored", async () => {
    await withRuns([[2_500, 24]], async (ledger, [run]) => {
      let asked!: () => void;
      const waiting = new Promise<void>((resolve) => (asked = resolve));
      // Calls that never settle: only close() can end the wait.
      const views = new RunViews(ledger, {
        restFoldEvery: 1_000,
        calls: {
          busy: () => true,
          settled: () => {
            asked();
            return new Promise<void>(() => {});
          },
        },
      });
      const readOrder: string[] = [];
      const stopWatching = watchReads(ledger, (runId) => readOrder.push(runId));
      const pass = views.foldBehind();
      await waiting;
      views.close();
      expect(await pass).toBe(0);
      await views.idle();
      stopWatching();
      expect(readOrder).toEqual([]);
      expect(ledger.snapshots.seqs(run!, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)).toEqual([]);
    });
  });

  it('a rest fold pushes out no view someone has open, and a run opened while it folds stays in memory', async () => {
    await withRuns([[300, 3], [1_500, 5], [1_500, 7]], async (ledger, [open, behind, asked]) => {
      const views = new RunViews(ledger, { capacity: 1, restFoldEvery: 1_000 });
      await views.view(open);
      expect(await views.foldBehind([behind])).toBe(1);
      // Still in memory: no ledger read at all.
      expect((await readsDuring(ledger, () => views.view(open))).fromSeqs).toEqual([]);
      // Opened once its rest fold has begun reading: the open shares the load and the view stays.
      let began!: () => void;
      const reading = new Promise<void>((resolve) => (began = resolve));
      const stopWatching = watchReads(ledger, (runId) => runId === asked && began());
      const pass = views.foldBehind([asked]);
      await reading;
      stopWatching();
      const { result: opened, fromSeqs } = await readsDuring(ledger, () => views.view(asked));
      expect(await pass).toBe(1);
      expect(opened).toEqual(fold(allEvents(ledger, asked), asked));
      // The open read nothing from the first event again: it joined the rest fold's load.
      expect(fromSeqs).not.toContain(1);
      expect((await readsDuring(ledger, () => views.view(asked))).fromSeqs).toEqual([]);
      views.close();
    });
  });

  it('a snapshot of another fold version, or one that does not decode, is ignored and the view folds from the first event', async () => {
    const { ledger, runId } = await runOf(800);
    try {
      const expected = fold(allEvents(ledger, runId), runId);
      const stale = { ...expected, title: 'from an older fold' };
      ledger.snapshots.save(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION + 1, expected.lastSeq, await encodeView(stale));
      expect(await new RunViews(ledger).view(runId)).toEqual(expected);
      ledger.snapshots.save(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION, expected.lastSeq, '{"broken');
      expect(await new RunViews(ledger).view(runId)).toEqual(expected);
    } finally {
      await ledger.close();
    }
  });

  it('folding a long run yields to other work between slices, and appends during the load are neither lost nor repeated', async () => {
    const { ledger, runId } = await runOf(12_000, 11);
    try {
      const views = new RunViews(ledger, { snapshotEvery: Number.MAX_SAFE_INTEGER });
      let turns = 0;
      let loading = true;
      const tick = () => {
        turns += 1;
        if (loading) setImmediate(tick);
      };
      setImmediate(tick);
      const pending = views.view(runId);
      const during = ledger.append(runId, { type: 'note', payload: { text: 'appended while the view loads' } } as AppendInput);
      const view = await pending;
      loading = false;
      await during;
      const events = allEvents(ledger, runId);
      // ~12,000 events in slices of 1,000: the host got a turn between slices.
      expect(turns).toBeGreaterThanOrEqual(Math.floor(view.lastSeq / 1_000) - 1);
      const again = await views.view(runId);
      expect(again).toEqual(fold(events, runId));
      views.close();
    } finally {
      await ledger.close();
    }
  });
});

describe('viewNow (a fresh session\'s handoff reads the whole view at once)', () => {
  it('gives the fold of every event: without a snapshot, from a stored snapshot with events after it, and past a damaged one', async () => {
    const { ledger, runId } = await runOf(6_000, 21);
    try {
      expect(viewNow(ledger, runId)).toEqual(fold(allEvents(ledger, runId), runId));
      await saveViewSnapshot(ledger, fold(allEvents(ledger, runId), runId), 1024);
      await appendAll(ledger, runId, syntheticBodies(6_500, 21).slice(6_000));
      const read: number[] = [];
      const original = ledger.read.bind(ledger);
      ledger.read = (id, options) => {
        read.push(options?.fromSeq ?? 1);
        return original(id, options);
      };
      const fromSnapshot = viewNow(ledger, runId);
      ledger.read = original;
      expect(fromSnapshot).toEqual(fold(allEvents(ledger, runId), runId));
      // Only the events after the stored snapshot were read.
      expect(read[0]).toBeGreaterThan(1);
      ledger.snapshots.save(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION, ledger.run(runId)!.lastSeq, '{"not": "a view"');
      expect(viewNow(ledger, runId)).toEqual(fold(allEvents(ledger, runId), runId));
    } finally {
      await ledger.close();
    }
  });
});
