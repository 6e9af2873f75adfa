// The windowed run view (issue 16 item 3, ADR 0022): run.viewWindow of a run not in memory
// answers the newest items from the stored snapshot's last lines plus the events after it, and
// gives exactly the same slice, count and head as the whole view (a fold of every event) —
// including when an event after the snapshot updates an item older than the window.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VIEW_WINDOW_ITEMS, type AppendInput, type RunView, type RunViewWindow } from '../src/contract/index.js';
import { openLedger, type Ledger } from '../src/ledger/index.js';
import { fold, RUN_VIEW_FOLD_VERSION } from '../src/replay/index.js';
import { encodeView, RUN_VIEW_FOLD, RunViews } from '../src/runs/index.js';
import { readViewTail, RUN_VIEW_TAIL_FOLD } from '../src/runs/run-view-tails.js';
import { foldWindow } from '../src/runs/run-view-window.js';
import { readAll, syntheticBodies } from './fixtures/ledger-kit.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-window-');
let dirs = 0;
const freshDataDir = () => path.join(root, `data-${++dirs}`);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** An approval request like the synthetic run's, under another id. */
let requestTemplate: AppendInput | undefined;
const approvalRequest = (approvalId: string): AppendInput => {
  requestTemplate ??= syntheticBodies(3_000, 7).find((body) => body.type === 'approval.requested')!;
  return { ...requestTemplate, payload: { ...(requestTemplate.payload as object), approvalId } } as AppendInput;
};

/**
 * `count` items of every keyed kind and plain ones: notes, tool calls (started + updated),
 * commands (started + output) and approval requests (left pending), ids prefixed by `tag`.
 */
function manyItems(count: number, tag: string): AppendInput[] {
  const out: AppendInput[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 7 === 0) {
      out.push({ type: 'tool.started', payload: { toolCallId: `${tag}-tool-${i}`, title: `tool ${i}`, kind: 'read' } } as AppendInput);
      out.push({ type: 'tool.updated', payload: { toolCallId: `${tag}-tool-${i}`, status: 'in_progress', output: `out ${i}\n` } } as AppendInput);
    } else if (i % 23 === 0) {
      out.push({ type: 'terminal.started', payload: { terminalId: `${tag}-term-${i}`, command: 'npm', args: ['test'], cwd: '/work/repo' } } as AppendInput);
      out.push({ type: 'terminal.output', payload: { terminalId: `${tag}-term-${i}`, text: 'ok\n' } } as AppendInput);
    } else if (i % 101 === 0) {
      out.push(approvalRequest(`${tag}-approval-${i}`));
    } else {
      out.push({ type: 'note', payload: { text: `note ${tag} ${i} "quoted" \\ and ünïcode` } } as AppendInput);
    }
  }
  return out;
}

async function appendAll(ledger: Ledger, runId: string, list: readonly AppendInput[]): Promise<void> {
  for (let at = 0; at < list.length; at += 500) {
    await Promise.all(list.slice(at, at + 500).map((body) => ledger.append(runId, body, { durability: 'stream' })));
  }
}

/** A run of a synthetic start and then `items` more items. */
async function runWith(items: number, seed = 7): Promise<{ ledger: Ledger; runId: string; dataDir: string }> {
  const dataDir = freshDataDir();
  const ledger = await openLedger({ dataDir, streamWindowMs: 1 });
  const runId = ledger.newRunId();
  await appendAll(ledger, runId, [...syntheticBodies(600, seed), ...manyItems(items, 'early')]);
  return { ledger, runId, dataDir };
}

/** Stores the run's view at its latest seq as a snapshot (and its window snapshot), through the real RunViews, and waits for the row. */
async function snapshotNow(ledger: Ledger, runId: string): Promise<number> {
  const views = new RunViews(ledger, { snapshotEvery: 1 });
  const { lastSeq } = await views.view(runId);
  // The snapshot is stored in the background (packing in the thread pool): wait for that work.
  await views.idle();
  views.close();
  expect(ledger.snapshots.seqs(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)).toContain(lastSeq);
  // The window snapshot is stored first.
  expect(ledger.snapshots.seqs(runId, RUN_VIEW_TAIL_FOLD, RUN_VIEW_FOLD_VERSION)).toContain(lastSeq);
  return lastSeq;
}

/** What a window must be: the same slice of the fold of every event. */
function expectWindowOf(window: RunViewWindow, full: RunView, from: number, limit = VIEW_WINDOW_ITEMS): void {
  const { items, ...head } = window.view;
  const { items: allItems, ...fullHead } = full;
  expect(head).toEqual(fullHead);
  expect(window.itemCount).toBe(allItems.length);
  expect(window.itemsFrom).toBe(Math.min(from, allItems.length));
  expect(items).toEqual(allItems.slice(from, from + limit));
}

const newest = (full: RunView, limit = VIEW_WINDOW_ITEMS) => Math.max(0, full.items.length - limit);

/** A cold window (fresh RunViews) of the newest items, checked against the fold of every event and against `view()`. */
async function expectColdWindow(ledger: Ledger, runId: string, limit?: number): Promise<RunView> {
  const full = fold(readAll(ledger, runId), runId);
  const views = new RunViews(ledger);
  try {
    const window = await views.window(runId, undefined, limit);
    expectWindowOf(window, full, newest(full, limit ?? VIEW_WINDOW_ITEMS), limit);
    // The full load followed in the background and serves the whole view (the same fold).
    expect(await views.view(runId)).toEqual(full);
  } finally {
    views.close();
  }
  return full;
}

/** The cold path itself: non-null means the window was answered without the whole snapshot. */
async function windowFold(ledger: Ledger, runId: string) {
  const tail = await readViewTail(ledger, runId);
  return tail ? foldWindow(ledger, runId, tail, VIEW_WINDOW_ITEMS) : null;
}

describe('run.viewWindow of a run not in memory', () => {
  it('without a snapshot, with one, and with events after it, the newest window is the same slice, count and head as the whole view', async () => {
    const { ledger, runId, dataDir } = await runWith(7_000);
    // No snapshot: the whole fold answers.
    expect(await readViewTail(ledger, runId)).toBeNull();
    const full = await expectColdWindow(ledger, runId);
    expect(full.items.length).toBeGreaterThan(3 * VIEW_WINDOW_ITEMS);
    await snapshotNow(ledger, runId);
    await ledger.close();

    // A fresh ledger and RunViews: cold, the snapshot stored.
    const reopened = await openLedger({ dataDir, streamWindowMs: 1 });
    try {
      await expectColdWindow(reopened, runId);
      const cold = await windowFold(reopened, runId);
      expect(cold).not.toBeNull();
      // Only the newest items were read: the rest of the transcript is a count (and the keys of its keyed items).
      expect(cold!.omitted).toBe(full.items.length - VIEW_WINDOW_ITEMS);
      expect(cold!.folder.snapshot().items).toEqual(full.items.slice(-VIEW_WINDOW_ITEMS));

      // After the snapshot: new items of every kind, updates to items inside the window, and
      // message chunks that extend the last item.
      const inside = full.items.at(-5)!;
      expect(inside.kind === 'note' || inside.kind === 'tool' || inside.kind === 'command').toBe(true);
      const later: AppendInput[] = [
        ...manyItems(900, 'late'),
        { type: 'tool.updated', payload: { toolCallId: `early-tool-${7 * Math.floor(6_990 / 7)}`, status: 'completed', output: 'done\n' } } as AppendInput,
        { type: 'terminal.output', payload: { terminalId: 'late-term-23', text: 'more\n' } } as AppendInput,
        { type: 'approval.decided', payload: { approvalId: 'late-approval-101', decision: 'allow_once', by: 'user' } } as AppendInput,
        { type: 'message.chunk', payload: { text: 'first ' } } as AppendInput,
        { type: 'message.chunk', payload: { text: 'second' } } as AppendInput,
      ];
      await appendAll(reopened, runId, later);
      const after = await expectColdWindow(reopened, runId);
      expect(after.items.at(-1)).toMatchObject({ kind: 'message', text: 'first second', chunks: 2 });
      expect(after.pendingApprovals).not.toContain('late-approval-101');
      expect(await windowFold(reopened, runId)).not.toBeNull();
      // Smaller windows of the same cold state.
      await expectColdWindow(reopened, runId, 1);
      await expectColdWindow(reopened, runId, 1_500);
    } finally {
      await reopened.close();
    }
  });

  it('an event after the snapshot that updates an item older than the window is answered from the whole view, for each keyed kind', async () => {
    const { ledger, runId } = await runWith(7_000, 9);
    try {
      const outside: Array<{ name: string; body: AppendInput; check: (full: RunView) => void }> = [
        {
          name: 'tool call',
          body: { type: 'tool.updated', payload: { toolCallId: 'early-tool-7', status: 'completed', output: 'late output\n' } } as AppendInput,
          check: (full) => expect(full.items.find((item) => item.kind === 'tool' && item.toolCallId === 'early-tool-7')).toMatchObject({ status: 'completed' }),
        },
        {
          // An ACP call restated with its real title (marked): one card, retitled, not a second one.
          name: 'restated tool call',
          body: { type: 'tool.started', payload: { toolCallId: 'early-tool-14', title: 'the real title', kind: 'read', restated: true } } as AppendInput,
          check: (full) => {
            const cards = full.items.filter((item) => item.kind === 'tool' && item.toolCallId === 'early-tool-14');
            expect(cards).toHaveLength(1);
            expect(cards[0]).toMatchObject({ title: 'the real title' });
          },
        },
        {
          name: 'command',
          body: { type: 'terminal.exited', payload: { terminalId: 'early-term-23', exitCode: 0, signal: null } } as AppendInput,
          check: (full) => expect(full.items.find((item) => item.kind === 'command' && item.terminalId === 'early-term-23')).toMatchObject({ status: 'exited' }),
        },
        {
          name: 'approval',
          body: { type: 'approval.decided', payload: { approvalId: 'early-approval-101', decision: 'deny', by: 'user' } } as AppendInput,
          check: (full) => expect(full.pendingApprovals).not.toContain('early-approval-101'),
        },
      ];
      for (const { name, body, check } of outside) {
        await snapshotNow(ledger, runId);
        // Before: the cold path answers on its own.
        expect(await windowFold(ledger, runId), name).not.toBeNull();
        await appendAll(ledger, runId, [body, ...manyItems(30, `after-${name}`)]);
        // A window fold alone would add a new item (or miss the settlement): it declines...
        expect(await windowFold(ledger, runId), name).toBeNull();
        // ...and the answer is the whole view's, with positions and count unchanged.
        const full = await expectColdWindow(ledger, runId);
        check(full);
      }
    } finally {
      await ledger.close();
    }
  });

  it('a run with fewer items than the window gets its whole transcript from item 0', async () => {
    const dataDir = freshDataDir();
    const ledger = await openLedger({ dataDir, streamWindowMs: 1 });
    try {
      const runId = ledger.newRunId();
      await appendAll(ledger, runId, syntheticBodies(400, 3));
      await snapshotNow(ledger, runId);
      await appendAll(ledger, runId, manyItems(20, 'tail'));
      const full = fold(readAll(ledger, runId), runId);
      expect(full.items.length).toBeLessThan(VIEW_WINDOW_ITEMS);
      const window = await new RunViews(ledger).window(runId);
      expect(window.itemsFrom).toBe(0);
      expectWindowOf(window, full, 0);
      expect((await windowFold(ledger, runId))?.omitted).toBe(0);
    } finally {
      await ledger.close();
    }
  });

  it('pages of earlier items line up with the window: first, middle and past the end', async () => {
    const { ledger, runId } = await runWith(5_000, 5);
    try {
      await snapshotNow(ledger, runId);
      await appendAll(ledger, runId, manyItems(50, 'late'));
      const full = fold(readAll(ledger, runId), runId);
      const views = new RunViews(ledger);
      const newestWindow = await views.window(runId);
      expectWindowOf(newestWindow, full, newest(full));
      // Pages asked for while cold and once warm give the same items.
      for (const fresh of [new RunViews(ledger), views]) {
        expectWindowOf(await fresh.window(runId, 0), full, 0);
        expectWindowOf(await fresh.window(runId, 1_234, 500), full, 1_234, 500);
        expectWindowOf(await fresh.window(runId, newestWindow.itemsFrom - 300, 300), full, newestWindow.itemsFrom - 300, 300);
        const past = await fresh.window(runId, full.items.length + 10);
        expect(past.view.items).toEqual([]);
        expect(past.itemCount).toBe(full.items.length);
        expect(past.itemsFrom).toBe(full.items.length);
      }
      // The window's last earlier page ends exactly where the window starts.
      const before = await views.window(runId, newestWindow.itemsFrom - 100, 100);
      expect([...before.view.items, ...newestWindow.view.items]).toEqual(full.items.slice(newestWindow.itemsFrom - 100));
    } finally {
      await ledger.close();
    }
  });

  it('commits after a cold window are folded into the background load, which concurrent callers share', async () => {
    const { ledger, runId } = await runWith(5_000, 13);
    try {
      await snapshotNow(ledger, runId);
      const views = new RunViews(ledger);
      const [window, view] = await Promise.all([views.window(runId), views.view(runId)]);
      const full = fold(readAll(ledger, runId), runId);
      expectWindowOf(window, full, newest(full));
      expect(view).toEqual(full);
      await appendAll(ledger, runId, manyItems(40, 'live'));
      const live = fold(readAll(ledger, runId), runId);
      expectWindowOf(await views.window(runId), live, newest(live));
      expect(await views.view(runId)).toEqual(live);
      views.close();
    } finally {
      await ledger.close();
    }
  });
});

describe('run.viewWindow never holds the host', () => {
  it('folds the events after the window snapshot in slices, other work running between them', async () => {
    const { ledger, runId } = await runWith(4_000, 19);
    try {
      await snapshotNow(ledger, runId);
      await appendAll(ledger, runId, manyItems(6_000, 'after'));
      const full = fold(readAll(ledger, runId), runId);
      const views = new RunViews(ledger);
      let turns = 0;
      let waiting = true;
      const tick = () => {
        turns += 1;
        if (waiting) setImmediate(tick);
      };
      setImmediate(tick);
      const window = await views.window(runId);
      waiting = false;
      expectWindowOf(window, full, newest(full));
      // ~7,000 events after the snapshot, 1,000 per turn: the host got a turn between slices.
      expect(turns).toBeGreaterThanOrEqual(5);
      // That was the window fold (new tool calls, commands and approvals are not older items).
      expect(await windowFold(ledger, runId)).not.toBeNull();
      expect(await views.view(runId)).toEqual(full);
      views.close();
    } finally {
      await ledger.close();
    }
  });
});

describe('run.viewWindow through the router', () => {
  const { start } = useWorkstations();

  it('answers a run window and refuses a bad limit or an unknown run in plain words', async () => {
    const { workstation } = await start();
    const runId = workstation.ledger.newRunId();
    await appendAll(workstation.ledger, runId, syntheticBodies(800, 21));
    const full = fold(readAll(workstation.ledger, runId), runId);
    const ctx = { transport: 'memory' } as const;

    const ok = await workstation.router.call('run.viewWindow', { runId, itemsLimit: 50 }, ctx);
    if (!ok.ok) throw new Error(ok.error.message);
    expectWindowOf(ok.value as RunViewWindow, full, newest(full, 50), 50);

    for (const itemsLimit of [0, 5_000]) {
      const bad = await workstation.router.call('run.viewWindow', { runId, itemsLimit }, ctx);
      expect(bad.ok).toBe(false);
      if (bad.ok) continue;
      expect(bad.error.code).toBe('invalid_input');
      expect(bad.error.message).toBe('Invalid input for "run.viewWindow".');
      expect(bad.error.issues).toEqual([{ path: 'itemsLimit', message: itemsLimit === 0 ? 'itemsLimit must be at least 1 item' : 'itemsLimit must be at most 2000 items a call; page with itemsFrom' }]);
    }
    const unknown = await workstation.router.call('run.viewWindow', { runId: 'run_doesnotexist' }, ctx);
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error.message).toMatch(/No run run_doesnotexist/);
  });
});

describe('window snapshots', () => {
  it('a view snapshot without its window snapshot (an earlier build) or with a damaged one is answered from the whole view, and the load stores a new window snapshot', async () => {
    const { ledger, runId } = await runWith(5_000, 17);
    try {
      const full = fold(readAll(ledger, runId), runId);
      // Only the whole view stored, as before window snapshots existed.
      ledger.snapshots.save(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION, full.lastSeq, await encodeView(full));
      expect(await windowFold(ledger, runId)).toBeNull();
      const views = new RunViews(ledger);
      expectWindowOf(await views.window(runId), full, newest(full));
      // The whole view loads in the background, then stores the missing window snapshot.
      await views.idle();
      expect(ledger.snapshots.seqs(runId, RUN_VIEW_TAIL_FOLD, RUN_VIEW_FOLD_VERSION)).toEqual([full.lastSeq]);
      expect(await windowFold(ledger, runId)).not.toBeNull();
      await expectColdWindow(ledger, runId);
      views.close();

      // A damaged window snapshot is ignored, and the next load stores a good one in its place.
      ledger.snapshots.save(runId, RUN_VIEW_TAIL_FOLD, RUN_VIEW_FOLD_VERSION, full.lastSeq, '{"broken');
      expect(await readViewTail(ledger, runId)).toBeNull();
      await expectColdWindow(ledger, runId);
      for (let i = 0; i < 2_000 && (await readViewTail(ledger, runId)) === null; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(await windowFold(ledger, runId)).not.toBeNull();
    } finally {
      await ledger.close();
    }
  });

  it('a run forgotten (deleted) while its view loads is not cached or stored again: its snapshot rows stay gone', async () => {
    const { ledger, runId } = await runWith(5_000, 19);
    try {
      await snapshotNow(ledger, runId);
      const views = new RunViews(ledger, { snapshotEvery: 1 });
      // The delete lands just after the load has read the run's snapshot row: the views forget
      // the run, then the ledger drops it with its snapshot rows.
      const read = ledger.snapshots.nearestBytes.bind(ledger.snapshots);
      let deleted = false;
      ledger.snapshots.nearestBytes = (...args: Parameters<typeof read>) => {
        const row = read(...args);
        if (!deleted && args[1] === RUN_VIEW_FOLD) {
          deleted = true;
          queueMicrotask(() => {
            views.forget(runId);
            ledger.forgetRun(runId);
          });
        }
        return row;
      };
      const loading = views.window(runId, 0, 10);
      await loading.catch(() => undefined);
      expect(deleted).toBe(true);
      for (let i = 0; i < 200; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(ledger.snapshots.seqs(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)).toEqual([]);
      expect(ledger.snapshots.seqs(runId, RUN_VIEW_TAIL_FOLD, RUN_VIEW_FOLD_VERSION)).toEqual([]);
      views.close();
    } finally {
      await ledger.close();
    }
  });
});

describe('after a cold window, the whole view loads later and reads the window snapshot once', () => {
  /** Counts the stored snapshots read, per fold name. */
  function countReads(ledger: Ledger): Map<string, number> {
    const reads = new Map<string, number>();
    const nearestBytes = ledger.snapshots.nearestBytes.bind(ledger.snapshots);
    ledger.snapshots.nearestBytes = (runId, fold, ...rest) => {
      reads.set(fold, (reads.get(fold) ?? 0) + 1);
      return nearestBytes(runId, fold, ...rest);
    };
    return reads;
  }

  it('the whole view waits behind the answered window until a caller needs it, which starts it at once', async () => {
    const { ledger, runId } = await runWith(3_000, 23);
    try {
      await snapshotNow(ledger, runId);
      const full = fold(readAll(ledger, runId), runId);
      const reads = countReads(ledger);
      // A delay no test could wait out: only a caller needing the whole view can start the load.
      const views = new RunViews(ledger, { backgroundLoadDelayMs: 600_000 });
      expectWindowOf(await views.window(runId), full, newest(full));
      // Turns pass (the client draws the window meanwhile): the whole view is not read yet.
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(reads.get(RUN_VIEW_FOLD) ?? 0).toBe(0);
      // A page of earlier items needs it: the load starts now, and answers from the whole view.
      const page = await views.window(runId, 0, 500);
      expect(page.view.items).toEqual(full.items.slice(0, 500));
      expect(reads.get(RUN_VIEW_FOLD)).toBe(1);
      // The window snapshot was read once, by the cold window: the load did not read it again.
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(reads.get(RUN_VIEW_TAIL_FOLD)).toBe(1);
      views.close();
    } finally {
      await ledger.close();
    }
  });

  it('by itself, the load starts after the delay and then serves the whole view from memory', async () => {
    const { ledger, runId } = await runWith(3_000, 29);
    try {
      await snapshotNow(ledger, runId);
      const full = fold(readAll(ledger, runId), runId);
      const reads = countReads(ledger);
      const views = new RunViews(ledger, { backgroundLoadDelayMs: 30 });
      await views.window(runId);
      // The background load is waited for as the views' own work, not by a clock.
      await views.idle();
      expect(reads.get(RUN_VIEW_FOLD)).toBe(1);
      expect(await views.view(runId)).toEqual(full);
      // One load: the view came from memory (no second read of the whole snapshot).
      expect(reads.get(RUN_VIEW_FOLD)).toBe(1);
      views.close();
    } finally {
      await ledger.close();
    }
  });
});
