// @vitest-environment jsdom
// The checkpoint timeline of a long run (issue 16, ADR 0023): the transcript is a window of the
// newest items, so the marks of earlier checkpoints come from the host's listing
// (checkpoints.list), and choosing one loads earlier pages until its checkpoint item is there.
// The real transcript store over a stand-in host transport answering from core's own fold.
import { KeelRpcError, MAX_VIEW_WINDOW_ITEMS, VIEW_WINDOW_ITEMS, type CheckpointListingEntry, type LedgerEvent, type RunView, type RunViewWindow } from '@keel/core/contract';
import { fold } from '@keel/core/replay';
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointTimeline } from '../src/components/runs/checkpoints/CheckpointTimeline.js';
import { checkpointsOf, timelineMarks } from '../src/components/runs/checkpoints/timeline-marks.js';
import { openTranscript, useTranscript, type TranscriptFeed } from '../src/stores/transcript.js';
import { EventLog, mockClient, renderWithClient, type OpenStream } from './helpers.js';

type WindowInput = { runId: string; itemsFrom?: number; itemsLimit?: number };
const C = 'c'.repeat(40);

/** The files turn N's checkpoint lists: one of its own and, from turn 2 on, one shared with turn 1. */
const filesOf = (turn: number) => (turn === 0 ? [] : [`src/turn-${turn}.ts`, ...(turn > 1 ? ['shared.ts'] : [])]);

function checkpointCreated(log: EventLog, turn: number): void {
  const files = filesOf(turn);
  log.add('checkpoint.created', {
    turn,
    ref: `refs/keel/checkpoints/run-1/${turn}`,
    commit: C,
    tree: C,
    parent: turn === 0 ? null : C,
    repo: 'git',
    filesChanged: files.length,
    diffstat: { files: files.length, insertions: files.length, deletions: 0 },
    files: files.map((path) => ({ path, status: 'added' as const, insertions: 1, deletions: 0 })),
    truncated: false,
    hashedBytes: 1,
    durationMs: 5,
  });
}

/**
 * A run with a baseline and `turns` turns, each of `notes` notes (one transcript item each) and a
 * checkpoint at its end; turn `skipped` (if any) has a skipped checkpoint instead.
 */
function longRun(turns: number, notes: number, skipped: number | null = null, oldTool = false): LedgerEvent[] {
  const log = new EventLog('run-1');
  log.add('run.created', { workspace: '/work/repo', agent: { kind: 'builtin', script: 'edit-and-test' }, title: 'Long run' });
  checkpointCreated(log, 0);
  for (let turn = 1; turn <= turns; turn++) {
    log.add('prompt.sent', { turn, text: `Task ${turn}`, ik: `ik:${turn}` });
    if (oldTool && turn === 1) log.add('tool.started', { toolCallId: 'old-tool', title: 'Long build', kind: 'execute', input: {} });
    for (let i = 0; i < notes; i++) log.add('note', { text: `turn ${turn} note ${i}` });
    log.add('turn.ended', { turn, stopReason: 'end_turn' });
    if (turn === skipped) {
      log.add('checkpoint.skipped', { turn, reason: 'over_byte_budget', detail: 'too big', budget: { timeMs: 1000, maxBytes: 10 }, bytes: 99, durationMs: 3 });
    } else checkpointCreated(log, turn);
  }
  // The old call finishes after everything else (committed later by the test).
  if (oldTool) log.add('tool.updated', { toolCallId: 'old-tool', status: 'completed', output: 'build done\n' });
  return log.events;
}

/** The listing the host makes from refs and sidecars, here from the committed checkpoint events. */
function listingOf(events: readonly LedgerEvent[]): CheckpointListingEntry[] {
  const entries: CheckpointListingEntry[] = [];
  for (const event of events) {
    if (event.type !== 'checkpoint.created' && event.type !== 'checkpoint.skipped') continue;
    const payload = event.payload as { turn: number; filesChanged?: number; diffstat?: { insertions: number; deletions: number }; reason?: string };
    const made = event.type === 'checkpoint.created';
    entries.push({
      turn: payload.turn,
      status: made ? 'created' : 'skipped',
      ref: made ? `refs/keel/checkpoints/run-1/${payload.turn}` : null,
      commit: made ? C : null,
      createdAt: event.ts,
      filesChanged: payload.filesChanged ?? null,
      insertions: payload.diffstat?.insertions ?? null,
      deletions: payload.diffstat?.deletions ?? null,
      durationMs: 5,
      skipReason: payload.reason ?? null,
      mismatch: false,
    });
  }
  return entries;
}

/**
 * The host's side over a run's events, of which the first `committed` are in its ledger:
 * run.viewWindow answers from core's fold of them (pages later, as over a socket),
 * checkpoints.list from their checkpoint events; `failPages` / `failListing` make the next asks
 * fail as a busy host does; `commit` appends events and streams them.
 */
function host(events: LedgerEvent[], committed = events.length) {
  let folded: { upTo: number; view: RunView } | null = null;
  const state = {
    committed,
    pageCalls: [] as WindowInput[],
    listCalls: 0,
    failPages: 0,
    failListing: 0,
    /** While set, asks for the newest window wait for it to resolve. */
    windowGate: null as Promise<void> | null,
    windowCalls: 0,
    stream: null as OpenStream | null,
    commit(count: number) {
      for (let n = 0; n < count; n++) state.stream!.handlers.onEvent(events[state.committed++]!);
    },
  };
  const window = (input: WindowInput): RunViewWindow => {
    if (folded?.upTo !== state.committed) folded = { upTo: state.committed, view: fold(events.slice(0, state.committed), 'run-1') };
    const view = folded.view;
    const limit = Math.min(input.itemsLimit ?? VIEW_WINDOW_ITEMS, MAX_VIEW_WINDOW_ITEMS);
    const itemsFrom = Math.min(input.itemsFrom ?? Math.max(0, view.items.length - limit), view.items.length);
    return { view: { ...view, items: view.items.slice(itemsFrom, itemsFrom + limit) }, itemCount: view.items.length, itemsFrom };
  };
  const mock = mockClient({
    'run.viewWindow': async (input: WindowInput) => {
      if (input.itemsFrom === undefined) {
        state.windowCalls++;
        if (state.windowGate) await state.windowGate;
        return window(input);
      }
      state.pageCalls.push(input);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (state.failPages > 0) {
        state.failPages--;
        throw new KeelRpcError('internal', 'The host is busy.');
      }
      return window(input);
    },
    'checkpoints.list': async () => {
      state.listCalls++;
      await Promise.resolve();
      if (state.failListing > 0) {
        state.failListing--;
        throw new KeelRpcError('internal', 'The checkpoint repository could not be read.');
      }
      return { runId: 'run-1', repo: null, checkpoints: listingOf(events.slice(0, state.committed)), problems: [] };
    },
  });
  return { state, ...mock };
}

/** The timeline as the run header has it: over the open transcript's view. */
function Timeline() {
  const view = useTranscript((s) => s.view);
  return view ? <CheckpointTimeline view={view} /> : null;
}

let feed: TranscriptFeed | null = null;
afterEach(() => {
  feed?.close();
  feed = null;
  cleanup();
});

async function openOver(setup: ReturnType<typeof host>) {
  feed = openTranscript(setup.client, 'run-1');
  await vi.waitFor(() => expect(setup.streams.some((entry) => entry.stream === 'run.events')).toBe(true));
  setup.state.stream = setup.streams.find((entry) => entry.stream === 'run.events')!;
  act(() => feed!.flush());
  renderWithClient(<Timeline />, setup.client);
}

const dots = () => screen.queryAllByTestId('checkpoint-dot') as HTMLButtonElement[];
const marks = () => dots().map((dot) => `${dot.textContent}${dot.dataset.loaded === 'true' ? '' : '*'}`);
const confirmFiles = () => [...screen.getByTestId('checkpoint-restore-confirm').querySelectorAll('li code')].map((node) => node.textContent);
/** What a restore to `turn` puts back: the files every later checkpoint lists. */
const filesAfterTurn = (turn: number, last: number) => [...new Set(Array.from({ length: last - turn }, (_, i) => filesOf(turn + 1 + i)).flat())].sort();

describe('the checkpoint timeline of a windowed run', () => {
  it('shows a mark for every checkpoint of the run: loaded ones from the transcript, the others from checkpoints.list, with their status', async () => {
    // 6 turns of 900 notes: ~5,400 items, the newest 2,000 loaded (turns 4 to 6), turn 2 skipped.
    const setup = host(longRun(6, 900, 2));
    await openOver(setup);
    expect(useTranscript.getState().itemsFrom).toBeGreaterThan(3_000);
    await waitFor(() => expect(marks()).toEqual(['B*', '1*', '2*', '3*', '4', '5', '6']));
    expect(setup.state.listCalls).toBe(1);
    const skipped = dots()[2]!;
    expect(skipped.disabled).toBe(true);
    expect(skipped.className).toContain('skipped');
    expect(skipped.getAttribute('aria-label')).toBe('turn 2: No checkpoint for turn 2: over byte budget.');
    expect(dots()[3]!.getAttribute('aria-label')).toBe('turn 3: Checkpoint of turn 3: 2 files changed (+2 −0).');
    // Every checkpoint has its mark: no "…" to load more is left.
    expect(screen.queryByTestId('checkpoint-earlier')).toBeNull();
    expect(setup.state.pageCalls).toEqual([]);
  });

  it('asks again when a checkpoint arrives in the window, never on a timer', async () => {
    const events = longRun(7, 900);
    const setup = host(events, events.length - 903); // turn 7 not yet committed
    await openOver(setup);
    await waitFor(() => expect(marks()).toEqual(['B*', '1*', '2*', '3*', '4', '5', '6']));
    expect(setup.state.listCalls).toBe(1);
    // Notes of turn 7 arrive: nothing to ask.
    act(() => {
      setup.state.commit(500);
      feed!.flush();
    });
    expect(setup.state.listCalls).toBe(1);
    // Its checkpoint arrives: the listing is asked for again.
    act(() => {
      setup.state.commit(403);
      feed!.flush();
    });
    await waitFor(() => expect(setup.state.listCalls).toBe(2));
    await waitFor(() => expect(marks().at(-1)).toBe('7'));
  });

  it('choosing an unloaded mark loads earlier pages until its checkpoint is there, then confirms with the exact files', async () => {
    const setup = host(longRun(6, 900));
    await openOver(setup);
    await waitFor(() => expect(marks()).toEqual(['B*', '1*', '2*', '3*', '4', '5', '6']));
    const from = useTranscript.getState().itemsFrom;
    fireEvent.click(dots()[1]!); // turn 1
    const preparing = screen.getByTestId('checkpoint-restore-preparing');
    expect(preparing.dataset.state).toBe('loading');
    expect(preparing.textContent).toMatch(/^Loading earlier transcript items \([\d,]+ not loaded yet\) to list the files a restore to turn 1 puts back…/);
    expect(screen.queryByTestId('checkpoint-restore-confirm')).toBeNull();
    await waitFor(() => expect(screen.getByTestId('checkpoint-restore-confirm')).toBeTruthy());
    // Turn 1's checkpoint item is ~900 items in: two pages back, and no more.
    expect(setup.state.pageCalls.map((call) => call.itemsFrom)).toEqual([from - 2_000, Math.max(0, from - 4_000)]);
    expect(useTranscript.getState().view!.items.some((item) => item.kind === 'checkpoint' && item.turn === 1)).toBe(true);
    expect(confirmFiles()).toEqual(filesAfterTurn(1, 6));
    expect(screen.getByTestId('checkpoint-restore-confirm').textContent).toContain('These files go back, and');
    expect(marks()).toEqual(['B', '1', '2', '3', '4', '5', '6']);
  });

  it('a page that fails to load says so in plain words; trying again loads it and confirms', async () => {
    const setup = host(longRun(6, 900));
    await openOver(setup);
    await waitFor(() => expect(marks()).toEqual(['B*', '1*', '2*', '3*', '4', '5', '6']));
    const from = useTranscript.getState().itemsFrom;
    setup.state.failPages = 1;
    fireEvent.click(dots()[3]!); // turn 3: one page back
    await waitFor(() => expect(screen.getByTestId('checkpoint-restore-preparing').dataset.state).toBe('failed'));
    expect(screen.getByTestId('checkpoint-restore-preparing').textContent).toContain('Could not load the earlier transcript items to list the files a restore puts back. The host is busy.');
    expect(screen.queryByTestId('checkpoint-restore-confirm')).toBeNull();
    fireEvent.click(screen.getByTestId('checkpoint-preparing-retry'));
    await waitFor(() => expect(screen.getByTestId('checkpoint-restore-confirm')).toBeTruthy());
    expect(screen.queryByTestId('checkpoint-restore-preparing')).toBeNull();
    expect(confirmFiles()).toEqual(filesAfterTurn(3, 6));
    // The failed ask and its retry, for the one page that holds turn 3's checkpoint; nothing earlier.
    expect(setup.state.pageCalls.map((call) => call.itemsFrom)).toEqual([from - 2_000, from - 2_000]);
    expect(useTranscript.getState().itemsFrom).toBe(from - 2_000);
    expect(marks()).toEqual(['B*', '1*', '2', '3', '4', '5', '6']);
  });

  it("choosing an unloaded mark while the store takes the host's fold again waits for it, then loads the pages", async () => {
    const events = longRun(6, 900, null, true);
    const setup = host(events, events.length - 1);
    await openOver(setup);
    await waitFor(() => expect(marks()).toEqual(['B*', '1*', '2*', '3*', '4', '5', '6']));
    const from = useTranscript.getState().itemsFrom;
    // The old call (before the window) changes: the store holds the stream and asks for the newest window again (held here).
    let open!: () => void;
    setup.state.windowGate = new Promise<void>((resolve) => (open = resolve));
    act(() => setup.state.commit(1));
    expect(setup.state.windowCalls).toBe(2);
    fireEvent.click(dots()[3]!); // turn 3: one page back
    expect(screen.getByTestId('checkpoint-restore-preparing').dataset.state).toBe('loading');
    await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
    expect(setup.state.pageCalls).toEqual([]); // no page asked for while the loaded range is being replaced
    setup.state.windowGate = null;
    open();
    await waitFor(() => expect(screen.getByTestId('checkpoint-restore-confirm')).toBeTruthy());
    expect(setup.state.pageCalls.map((call) => call.itemsFrom)).toEqual([from - 2_000]);
    expect(confirmFiles()).toEqual(filesAfterTurn(3, 6));
  });

  it('a failed checkpoints.list says so, keeps the loaded marks usable and the "…" that loads earlier items; trying again lists them', async () => {
    const setup = host(longRun(6, 900));
    setup.state.failListing = 1;
    await openOver(setup);
    await waitFor(() => expect(screen.getByTestId('checkpoint-listing-failed').textContent).toContain("Could not list this run's earlier checkpoints: The checkpoint repository could not be read. The marks shown still work."));
    expect(marks()).toEqual(['4', '5', '6']);
    // A loaded mark still offers its restore at once.
    fireEvent.click(dots()[0]!);
    expect(confirmFiles()).toEqual(filesAfterTurn(4, 6));
    fireEvent.click(dots()[0]!);
    // The "…" loads a page of earlier items, with their checkpoints.
    fireEvent.click(screen.getByTestId('checkpoint-earlier'));
    await waitFor(() => expect(marks()).toEqual(['2', '3', '4', '5', '6']));
    expect(setup.state.pageCalls).toHaveLength(1);
    fireEvent.click(screen.getByTestId('checkpoint-listing-retry'));
    await waitFor(() => expect(marks()).toEqual(['B*', '1*', '2', '3', '4', '5', '6']));
    expect(screen.queryByTestId('checkpoint-listing-failed')).toBeNull();
    expect(screen.queryByTestId('checkpoint-earlier')).toBeNull();
  });

  it('a run that is not windowed never asks the host for its checkpoints', async () => {
    const setup = host(longRun(3, 100));
    await openOver(setup);
    expect(useTranscript.getState().itemsFrom).toBe(0);
    await waitFor(() => expect(marks()).toEqual(['B', '1', '2', '3']));
    fireEvent.click(dots()[0]!);
    expect(confirmFiles()).toEqual(filesAfterTurn(0, 3));
    await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
    expect(setup.state.listCalls).toBe(0);
    expect(setup.invoke.mock.calls.map(([method]) => method)).toEqual(['run.viewWindow']);
  });
});

describe('the marks of the timeline', () => {
  const listed = (turn: number, status: CheckpointListingEntry['status'], extra: Partial<CheckpointListingEntry> = {}): CheckpointListingEntry => ({
    turn,
    status,
    ref: status === 'ref_missing' || status === 'skipped' ? null : `refs/keel/checkpoints/run-1/${turn}`,
    commit: null,
    createdAt: null,
    filesChanged: null,
    insertions: null,
    deletions: null,
    durationMs: null,
    skipReason: null,
    mismatch: false,
    ...extra,
  });

  it('a loaded item wins over its listing; listed ones say their status, and the unrestorable ones say why', () => {
    const loaded = checkpointsOf(fold(longRun(4, 1), 'run-1')).filter((item) => (item.turn ?? 0) >= 3);
    const marks = timelineMarks(loaded, [
      listed(0, 'created'),
      listed(1, 'ref_only'),
      listed(2, 'ref_missing'),
      listed(3, 'ref_missing'), // loaded: the transcript's item is shown as today
      listed(4, 'created', { filesChanged: 9 }),
      listed(5, 'skipped', { skipReason: 'over_time_budget' }),
    ]);
    expect(marks.map((mark) => [mark.turn, mark.status, mark.item !== null, mark.unavailable, mark.text])).toEqual([
      [0, 'created', false, null, 'Baseline checkpoint: the workspace as it was before turn 1.'],
      [1, 'ref_only', false, null, 'Checkpoint of turn 1 (its description could not be read; it can still be restored).'],
      [2, 'ref_missing', false, 'Its git ref is missing.', 'Checkpoint of turn 2: its git ref is missing, so it cannot be restored.'],
      [3, 'created', true, null, 'Checkpoint of turn 3: 2 files changed (+2 −0).'],
      [4, 'created', true, null, 'Checkpoint of turn 4: 2 files changed (+2 −0).'],
      [5, 'skipped', false, 'No checkpoint was taken.', 'No checkpoint for turn 5: over time budget.'],
    ]);
  });
});
