// @vitest-environment jsdom
import { MAX_VIEW_WINDOW_ITEMS, VIEW_WINDOW_ITEMS, type KeelClient, type LedgerEvent, type RunView, type RunViewWindow } from '@keel/core/contract';
import { fold } from '@keel/core/replay';
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { Conversation } from '../src/components/conversation/Conversation.js';
import { useSearchUi } from '../src/components/conversation/search/search-ui.js';
import { useConnection } from '../src/stores/connection.js';
import { useRuns } from '../src/stores/runs.js';
import { useUi } from '../src/stores/ui.js';
import { openTranscript, PAGES_IN_FLIGHT, RESYNC_GAP_MS, useTranscript, type TranscriptFeed } from '../src/stores/transcript.js';
import { EventLog, mockClient, renderWithClient, richRun, runSummary, type OpenStream } from './helpers.js';

// A long run opens on a window of its transcript (issue 16): run.viewWindow sends the newest
// items, earlier ones load a page at a time, live events fold on the window.

type WindowInput = { runId: string; itemsFrom?: number; itemsLimit?: number };

/**
 * The host's side, over a run's events: the first `committed` are in its ledger. run.viewWindow
 * answers from core's own fold of them (the host's RunViews does the same: its fold, a slice of
 * the items); `commit` appends the next events and then sends them on the stream, in that order,
 * as the host does. `hold` keeps page answers (itemsFrom given) until released.
 */
function windowHost(events: LedgerEvent[], committed: number) {
  let folded: { upTo: number; view: RunView } | null = null;
  const viewAt = () => {
    if (folded?.upTo !== host.committed) folded = { upTo: host.committed, view: fold(events.slice(0, host.committed), 'run-1') };
    return folded.view;
  };
  const held: (() => void)[] = [];
  const host = {
    committed,
    calls: [] as WindowInput[],
    /** Page asks (itemsFrom given) being answered now, and the most there were at once. */
    pagesInFlight: 0,
    maxPagesInFlight: 0,
    holdPages: false,
    stream: null as OpenStream | null,
    window(input: WindowInput): RunViewWindow {
      const view = viewAt();
      const limit = Math.min(input.itemsLimit ?? VIEW_WINDOW_ITEMS, MAX_VIEW_WINDOW_ITEMS);
      const itemCount = view.items.length;
      const itemsFrom = Math.min(input.itemsFrom ?? Math.max(0, itemCount - limit), itemCount);
      return { view: { ...view, items: view.items.slice(itemsFrom, itemsFrom + limit) }, itemCount, itemsFrom };
    },
    /** Commits events up to `seq` and streams them. */
    commit(seq: number) {
      while (host.committed < seq) {
        const event = events[host.committed]!;
        host.committed++;
        host.stream!.handlers.onEvent(event);
      }
    },
    releasePages() {
      for (const release of held.splice(0)) release();
    },
    heldPages: () => held.length,
  };
  const mock = mockClient({
    'runs.list': () => [],
    'run.viewWindow': async (input: WindowInput) => {
      host.calls.push(input);
      if (input.itemsFrom === undefined) return host.window(input);
      host.maxPagesInFlight = Math.max(host.maxPagesInFlight, ++host.pagesInFlight);
      try {
        if (host.holdPages) await new Promise<void>((resolve) => held.push(resolve));
        else await Promise.resolve(); // answered later, as over a socket: asks made at once overlap
        return host.window(input);
      } finally {
        host.pagesInFlight--;
      }
    },
  });
  return { host, ...mock };
}

async function opened(streams: OpenStream[], host?: { stream: OpenStream | null }) {
  await vi.waitFor(() => expect(streams.some((entry) => entry.stream === 'run.events')).toBe(true));
  const stream = streams.find((entry) => entry.stream === 'run.events')!;
  if (host) host.stream = stream;
  return stream;
}

/** Makes the client's next `count` asks for the newest window (a re-fetch) fail, as a busy host does; counts the asks. */
function failNextWindows(client: KeelClient, count: number): { asked: number } {
  const invoke = client.invoke.bind(client);
  const seen = { asked: 0 };
  (client as { invoke: unknown }).invoke = (method: string, input: WindowInput) => {
    if (method === 'run.viewWindow' && input.itemsFrom === undefined) seen.asked++;
    if (method === 'run.viewWindow' && input.itemsFrom === undefined && count > 0) {
      count--;
      return Promise.reject(Object.assign(new Error('The host is busy.'), { code: 'internal' }));
    }
    return invoke(method as never, input as never);
  };
  return seen;
}

/** What the store shows, as the whole transcript's items from `itemsFrom`. */
const shown = () => {
  const { view, itemsFrom } = useTranscript.getState();
  return { itemsFrom, items: view!.items, view: view! };
};

/** The agent asks to run `npm test`. */
function requestApproval(log: EventLog, approvalId: string): void {
  log.add('approval.requested', {
    approvalId,
    generation: 1,
    turn: 1,
    action: { kind: 'exec', title: 'Run npm test', command: 'npm', args: ['test'], cwd: '/work/repo' },
    actionKey: 'exec:npm test',
    reason: 'Commands ask',
    source: 'agent',
  });
}

/** A run whose old tool call and old approval (item 1, 2) change again after `notes` (2,100) later items. */
function runWithOldUpdates(notes = 2_100): LedgerEvent[] {
  const log = new EventLog('run-1');
  log.add('run.created', { workspace: '/work/repo', agent: { kind: 'builtin', script: 'hello' }, title: 'Old updates' });
  log.add('prompt.sent', { turn: 1, text: 'Start', ik: 'ik:1' });
  log.add('tool.started', { toolCallId: 'old-tool', title: 'Long build', kind: 'execute', input: {} });
  requestApproval(log, 'old-approval');
  for (let i = 0; i < notes; i++) log.add('note', { text: `note ${i}` });
  // Seq 2,105 on: the old call and the old request change.
  log.add('tool.updated', { toolCallId: 'old-tool', status: 'completed', output: 'build done\n' });
  log.add('approval.decided', { approvalId: 'old-approval', decision: 'allow_once', by: 'user' });
  log.add('note', { text: 'after' });
  return log.events;
}

let feed: TranscriptFeed | null = null;
afterEach(() => {
  feed?.close();
  feed = null;
  cleanup();
  useSearchUi.setState({ open: false, query: '' });
});

describe('the transcript store on a window of a long run', () => {
  it('a run of up to 2,000 items opens whole, as before: the window is the fold, nothing earlier', async () => {
    const events = richRun(150); // 1,510 items
    const { host, client, streams, invoke } = windowHost(events, events.length);
    feed = openTranscript(client, 'run-1');
    await opened(streams, host);
    feed.flush();
    expect(invoke).toHaveBeenCalledWith('run.viewWindow', { runId: 'run-1' });
    expect(shown().itemsFrom).toBe(0);
    expect(shown().view).toEqual(fold(events, 'run-1'));
  });

  it('a run of more than 2,000 items opens with the newest 2,000 and the count of earlier ones', async () => {
    const events = richRun(450);
    const whole = fold(events, 'run-1');
    expect(whole.items.length).toBeGreaterThan(4_000);
    const { host, client, streams } = windowHost(events, events.length);
    feed = openTranscript(client, 'run-1');
    const stream = await opened(streams, host);
    feed.flush();
    const { itemsFrom, view } = shown();
    expect(itemsFrom).toBe(whole.items.length - 2_000);
    expect(view.items).toEqual(whole.items.slice(itemsFrom));
    // The head is the whole run's.
    const { items: _items, ...head } = whole;
    expect({ ...view, items: [] }).toEqual({ ...head, items: [] });
    expect(stream.currentParams()).toEqual({ runId: 'run-1', fromSeq: events.length + 1 });
  });

  it('earlier pages load in order, each once, until the whole transcript is there (I9: the same items as the fold)', async () => {
    const events = richRun(450);
    const whole = fold(events, 'run-1');
    const { host, client, streams } = windowHost(events, events.length);
    feed = openTranscript(client, 'run-1');
    await opened(streams, host);
    const first = shown().itemsFrom;
    // Two asks at once are one load.
    const loads = [feed.loadEarlier(), feed.loadEarlier()];
    expect(useTranscript.getState().earlier).toBe('loading');
    await Promise.all(loads);
    expect(host.calls.filter((call) => call.itemsFrom !== undefined)).toEqual([{ runId: 'run-1', itemsFrom: first - 2_000, itemsLimit: 2_000 }]);
    expect(shown().itemsFrom).toBe(first - 2_000);
    expect(shown().items).toEqual(whole.items.slice(first - 2_000));
    await feed.loadEarlier();
    expect(shown().itemsFrom).toBe(0);
    expect(shown().view).toEqual(whole);
    expect(host.calls.at(-1)).toEqual({ runId: 'run-1', itemsFrom: 0, itemsLimit: first - 2_000 });
    // Nothing left to load: no more asks.
    const asked = host.calls.length;
    await feed.loadEarlier();
    expect(host.calls.length).toBe(asked);
    expect(useTranscript.getState().earlier).toBe('idle');
  });

  it('live events fold on the window, with earlier pages loaded meanwhile, to the fold of the whole run', async () => {
    const events = richRun(450);
    const opening = events.length - 400;
    const { host, client, streams } = windowHost(events, opening);
    feed = openTranscript(client, 'run-1');
    const stream = await opened(streams, host);
    expect(stream.currentParams()).toEqual({ runId: 'run-1', fromSeq: opening + 1 });
    host.commit(opening + 200);
    await feed.loadEarlier();
    host.commit(events.length);
    feed.flush();
    const whole = fold(events, 'run-1');
    const { itemsFrom, view } = shown();
    expect(view.lastSeq).toBe(events.length);
    expect({ ...view, items: [] }).toEqual({ ...whole, items: [] });
    expect(view.items).toEqual(whole.items.slice(itemsFrom));
    // No re-fetch was needed: every change was to an item in the window.
    expect(host.calls.filter((call) => call.itemsFrom === undefined)).toHaveLength(1);
  });

  it('an event that changes an item before the window takes the host’s fold again: nothing twice, nothing lost', async () => {
    const events = runWithOldUpdates();
    const updateSeq = events.findIndex((event) => event.type === 'tool.updated') + 1;
    const { host, client, streams } = windowHost(events, updateSeq - 1);
    feed = openTranscript(client, 'run-1');
    await opened(streams, host);
    feed.flush();
    expect(shown().itemsFrom).toBeGreaterThan(0);
    expect(shown().view.pendingApprovals).toEqual(['old-approval']);
    // The old tool call's update: core's fold, knowing only the window, would add a second card.
    host.commit(updateSeq);
    await vi.waitFor(() => expect(useTranscript.getState().lastSeq).toBe(updateSeq));
    await vi.waitFor(() => expect(shown().view.lastSeq).toBe(updateSeq));
    expect(host.calls.filter((call) => call.itemsFrom === undefined)).toHaveLength(2);
    // The old approval decided: the fold would skip it and keep it pending forever. (A second
    // ask of the host within RESYNC_GAP_MS of the first waits for the rest of it.)
    host.commit(events.length);
    await vi.waitFor(() => expect(shown().view.lastSeq).toBe(events.length), { timeout: 5_000 });
    const whole = fold(events, 'run-1');
    expect(shown().view.pendingApprovals).toEqual([]);
    expect({ ...shown().view, items: [] }).toEqual({ ...whole, items: [] });
    expect(shown().items).toEqual(whole.items.slice(shown().itemsFrom));
    expect(shown().items.filter((item) => item.kind === 'tool')).toEqual([]);
    // Loaded, the earlier items hold the updated call once and the decided request once.
    await feed.loadEarlier();
    await feed.loadEarlier();
    expect(shown().itemsFrom).toBe(0);
    expect(shown().view).toEqual(whole);
    const tools = shown().items.filter((item) => item.kind === 'tool');
    expect(tools).toHaveLength(1);
    expect(tools[0]).toMatchObject({ toolCallId: 'old-tool', status: 'completed', output: 'build done\n' });
    expect(shown().items.filter((item) => item.kind === 'approval')).toMatchObject([{ approvalId: 'old-approval', status: 'decided', decision: 'allow_once' }]);
  });

  it('an old item that keeps changing is taken from the host at most once a second, not once per event', async () => {
    const log = new EventLog('run-1');
    log.events.push(...runWithOldUpdates().slice(0, 2_104));
    for (let i = 0; i < 20; i++) log.add('tool.updated', { toolCallId: 'old-tool', status: 'in_progress', output: `line ${i}\n` });
    const events = log.events;
    vi.useFakeTimers();
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const { host, client, streams } = windowHost(events, 2_104);
    feed = openTranscript(client, 'run-1');
    await opened(streams, host);
    const refetches = () => host.calls.filter((call) => call.itemsFrom === undefined).length - 1;
    host.commit(events.length);
    // The first change asks at once (its answer holds that change only); the other 19 wait for one more ask, RESYNC_GAP_MS later.
    await vi.advanceTimersByTimeAsync(0);
    feed.flush();
    expect(refetches()).toBe(1);
    expect(shown().view.lastSeq).toBe(2_105);
    await vi.advanceTimersByTimeAsync(RESYNC_GAP_MS - 10);
    expect(refetches()).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    feed.flush();
    expect(refetches()).toBe(2);
    expect(shown().view.lastSeq).toBe(events.length);
    await feed.loadEarlier();
    await feed.loadEarlier();
    expect(shown().view).toEqual(fold(events, 'run-1'));
    expect(shown().items.filter((item) => item.kind === 'tool')).toMatchObject([{ toolCallId: 'old-tool', output: Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join('') }]);
  });

  it('a re-fetch of more loaded pages than the host takes at once asks for them a few at a time, in order', async () => {
    // 8 pages before the window, all loaded; the old call's update takes them all again.
    const events = runWithOldUpdates(17_000);
    const updateSeq = events.findIndex((event) => event.type === 'tool.updated') + 1;
    const { host, client, streams } = windowHost(events, updateSeq - 1);
    feed = openTranscript(client, 'run-1');
    await opened(streams, host);
    while (useTranscript.getState().itemsFrom > 0) await feed.loadEarlier();
    const loaded = host.calls.length;
    host.commit(updateSeq);
    await vi.waitFor(() => expect(shown().view.lastSeq).toBe(updateSeq), { timeout: 5_000 });
    const pages = host.calls.slice(loaded).filter((call) => call.itemsFrom !== undefined);
    expect(pages.length).toBeGreaterThan(PAGES_IN_FLIGHT);
    expect(pages.map((call) => call.itemsFrom)).toEqual([...pages.map((call) => call.itemsFrom!)].sort((a, b) => a - b));
    expect(host.maxPagesInFlight).toBe(PAGES_IN_FLIGHT);
    expect(shown().itemsFrom).toBe(0);
    expect(shown().view).toEqual(fold(events.slice(0, updateSeq), 'run-1'));
  });

  it('a re-fetch that fails when nothing more is streamed is tried again on a timer; an earlier page it dropped says it failed', async () => {
    vi.useFakeTimers();
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const events = runWithOldUpdates();
    const updateSeq = events.findIndex((event) => event.type === 'tool.updated') + 1;
    const { host, client, streams } = windowHost(events, updateSeq - 1);
    feed = openTranscript(client, 'run-1');
    await opened(streams, host);
    expect(shown().itemsFrom).toBeGreaterThan(0);
    const refetches = failNextWindows(client, 2);
    host.holdPages = true;
    const page = feed.loadEarlier();
    expect(useTranscript.getState().earlier).toBe('loading');
    // The turn's last event changes the old call; the re-fetch fails twice.
    host.commit(updateSeq);
    await vi.advanceTimersByTimeAsync(0);
    expect(refetches.asked).toBe(1);
    expect(useTranscript.getState()).toMatchObject({ earlier: 'failed', earlierError: 'The host is busy.' });
    host.releasePages();
    await page;
    expect(useTranscript.getState().earlier).toBe('failed');
    feed.flush();
    expect(shown().view.lastSeq).toBe(updateSeq - 1);
    await vi.advanceTimersByTimeAsync(RESYNC_GAP_MS);
    // The first retry fails too: the next waits twice as long.
    expect(refetches.asked).toBe(2);
    await vi.advanceTimersByTimeAsync(2 * RESYNC_GAP_MS - 10);
    feed.flush();
    expect(refetches.asked).toBe(2);
    expect(shown().view.lastSeq).toBe(updateSeq - 1);
    await vi.advanceTimersByTimeAsync(10);
    feed.flush();
    expect(refetches.asked).toBe(3);
    expect(shown().view.lastSeq).toBe(updateSeq);
    expect(useTranscript.getState()).toMatchObject({ earlier: 'idle', earlierError: null });
  });

  it('after a failed re-fetch, the top line’s retry asks the host again at once', async () => {
    const events = runWithOldUpdates();
    const updateSeq = events.findIndex((event) => event.type === 'tool.updated') + 1;
    const { host, client, streams } = windowHost(events, updateSeq - 1);
    feed = openTranscript(client, 'run-1');
    await opened(streams, host);
    const refetches = failNextWindows(client, 1);
    host.holdPages = true;
    const page = feed.loadEarlier();
    host.commit(updateSeq);
    await vi.waitFor(() => expect(useTranscript.getState().earlier).toBe('failed'));
    host.releasePages();
    await page;
    host.holdPages = false;
    await feed.loadEarlier();
    expect(refetches.asked).toBe(2);
    await vi.waitFor(() => expect(useTranscript.getState().earlier).toBe('idle'));
    feed.flush();
    expect(shown().view.lastSeq).toBe(updateSeq);
    expect(useTranscript.getState()).toMatchObject({ earlier: 'idle', earlierError: null });
    while (useTranscript.getState().itemsFrom > 0) await feed.loadEarlier();
    expect(shown().view).toEqual(fold(events.slice(0, updateSeq), 'run-1'));
  });

  it('events the host’s re-fetched window already folded are dropped when the stream brings them, not folded again', async () => {
    const events = runWithOldUpdates();
    const updateSeq = events.findIndex((event) => event.type === 'tool.updated') + 1;
    const { host, client, streams } = windowHost(events, updateSeq - 1);
    feed = openTranscript(client, 'run-1');
    const stream = await opened(streams, host);
    // The ledger has the update and the old approval's decision; the stream has sent only the update.
    host.committed = updateSeq + 1;
    stream.handlers.onEvent(events[updateSeq - 1]!);
    await vi.waitFor(() => expect(shown().view.lastSeq).toBe(updateSeq + 1));
    expect(useTranscript.getState().lastSeq).toBe(updateSeq + 1);
    expect(stream.currentParams()).toEqual({ runId: 'run-1', fromSeq: updateSeq + 2 });
    // The decision comes late on the stream: already folded, it neither counts as out of order nor asks again.
    stream.handlers.onEvent(events[updateSeq]!);
    host.commit(events.length);
    feed.flush();
    expect(host.calls.filter((call) => call.itemsFrom === undefined)).toHaveLength(2);
    const whole = fold(events, 'run-1');
    expect(shown().view.ignored).toEqual(whole.ignored);
    expect({ ...shown().view, items: [] }).toEqual({ ...whole, items: [] });
  });

  it('a tool update that embeds a command older than the window takes the host’s fold again, linking that command card', async () => {
    const log = new EventLog('run-1');
    log.add('run.created', { workspace: '/work/repo', agent: { kind: 'builtin', script: 'hello' }, title: 'Old command' });
    log.add('prompt.sent', { turn: 1, text: 'Start', ik: 'ik:1' });
    log.add('terminal.started', { terminalId: 'old-term', command: 'npm', args: ['test'], cwd: '/work/repo' });
    for (let i = 0; i < 2_100; i++) log.add('note', { text: `note ${i}` });
    log.add('tool.started', { toolCallId: 'new-tool', title: 'Run tests', kind: 'execute', input: {} });
    log.add('tool.updated', { toolCallId: 'new-tool', terminalId: 'old-term', status: 'in_progress' });
    const events = log.events;
    const { host, client, streams } = windowHost(events, events.length - 1);
    feed = openTranscript(client, 'run-1');
    await opened(streams, host);
    // Everything loaded before the update, so only a re-fetch can bring the link.
    while (useTranscript.getState().itemsFrom > 0) await feed.loadEarlier();
    host.commit(events.length);
    await vi.waitFor(() => expect(shown().view.lastSeq).toBe(events.length));
    expect(host.calls.filter((call) => call.itemsFrom === undefined)).toHaveLength(2);
    expect(shown().items.filter((item) => item.kind === 'command')).toMatchObject([{ terminalId: 'old-term', toolCallId: 'new-tool' }]);
    expect(shown().view).toEqual(fold(events, 'run-1'));
  });

  it('an earlier page that cannot be loaded says why, and a retry loads it', async () => {
    const events = richRun(450);
    const { host, client, streams } = windowHost(events, events.length);
    let fail = true;
    const invoke = client.invoke.bind(client);
    (client as { invoke: unknown }).invoke = (method: string, input: WindowInput) =>
      fail && input.itemsFrom !== undefined ? Promise.reject(Object.assign(new Error('The host is busy.'), { code: 'internal' })) : invoke(method as never, input as never);
    feed = openTranscript(client, 'run-1');
    await opened(streams, host);
    const before = shown().itemsFrom;
    await feed.loadEarlier();
    expect(useTranscript.getState()).toMatchObject({ earlier: 'failed', earlierError: 'The host is busy.' });
    expect(shown().itemsFrom).toBe(before);
    fail = false;
    await feed.loadEarlier();
    expect(useTranscript.getState().earlier).toBe('idle');
    expect(shown().itemsFrom).toBe(before - 2_000);
  });
});

describe('the conversation pane on a window of a long run', () => {
  const summary = runSummary('run-1', { state: 'idle', workspace: '/work/repo', title: 'Rich run' });
  beforeEach(() => {
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockImplementation(function (this: HTMLElement) {
      return this.classList.contains('transcript') ? 3_000 : 0;
    });
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(800);
    // jsdom lays nothing out: give each row a height, so the list renders a screenful, not every row.
    vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockImplementation(function (this: HTMLElement) {
      return this.classList.contains('transcript-row') ? 40 : 0;
    });
    useRuns.setState({ runs: [summary], loaded: true, error: null, selectedRunId: 'run-1' });
    useConnection.setState({ status: 'connected' });
  });
  afterEach(() => vi.restoreAllMocks());

  /** The pane over a host holding `events`, once its stream is open. */
  async function openPane(events: LedgerEvent[], options: { holdPages?: boolean } = {}) {
    const pane = windowHost(events, events.length);
    pane.host.holdPages = options.holdPages ?? false;
    renderWithClient(<Conversation />, pane.client);
    await opened(pane.streams, pane.host);
    return { host: pane.host, transcript: await screen.findByTestId('transcript') };
  }

  it('a short run shows no earlier-items line, and rows are numbered from 0', async () => {
    const events = richRun(20);
    const { host, transcript } = await openPane(events);
    expect(transcript.dataset.count).toBe(String(fold(events, 'run-1').items.length));
    expect(transcript.dataset.from).toBe('0');
    expect(screen.queryByTestId('transcript-earlier')).toBeNull();
  });

  it('says how many earlier items there are; the button loads them, numbered as in the whole run, until none are left', async () => {
    const events = richRun(450);
    const whole = fold(events, 'run-1');
    const { host, transcript } = await openPane(events);
    const from = whole.items.length - 2_000;
    await waitFor(() => expect(transcript.dataset.from).toBe(String(from)));
    expect(transcript.dataset.count).toBe(String(whole.items.length));
    const line = screen.getByTestId('transcript-earlier');
    expect(line.textContent).toContain(`${from.toLocaleString()} earlier items`);
    // Each row says its place in the whole transcript, and shows that item. (Rows are drawn once
    // the list has reached its end: jsdom sends no scroll event, so after the fallback delay.)
    for (const row of await within(transcript).findAllByTestId('transcript-item')) {
      const item = whole.items[Number(row.dataset.index)]!;
      expect(row.dataset.kind).toBe(item.kind);
      expect(Number(row.dataset.index)).toBeGreaterThanOrEqual(from);
    }
    await act(async () => {
      fireEvent.click(screen.getByTestId('transcript-earlier-load'));
    });
    await waitFor(() => expect(transcript.dataset.from).toBe(String(from - 2_000)));
    expect(screen.getByTestId('transcript-earlier').textContent).toContain(`${(from - 2_000).toLocaleString()} earlier items`);
    await act(async () => {
      fireEvent.click(screen.getByTestId('transcript-earlier-load'));
    });
    await waitFor(() => expect(transcript.dataset.from).toBe('0'));
    expect(screen.queryByTestId('transcript-earlier')).toBeNull();
    expect(useTranscript.getState().view).toEqual(whole);
  });

  it('opens on its newest rows: no row from the start of the window is ever drawn', async () => {
    // jsdom does not scroll: let the list's scrollTo move scrollTop and say so with the next
    // frame, as a browser does (the scroll event is sent when the page next draws).
    const scrollTo = vi.fn(function (this: HTMLElement, options: ScrollToOptions) {
      this.scrollTop = options.top ?? this.scrollTop;
      setTimeout(() => this.dispatchEvent(new Event('scroll')), 16);
    });
    const own = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'scrollTo');
    Object.defineProperty(HTMLElement.prototype, 'scrollTo', { value: scrollTo, configurable: true, writable: true });
    onTestFinished(() => {
      if (own) Object.defineProperty(HTMLElement.prototype, 'scrollTo', own);
      else delete (HTMLElement.prototype as { scrollTo?: unknown }).scrollTo;
    });
    // ...and how far it can scroll: the height the list gives its canvas.
    vi.spyOn(HTMLElement.prototype, 'scrollHeight', 'get').mockImplementation(function (this: HTMLElement) {
      return this.classList.contains('transcript') ? parseFloat(this.querySelector<HTMLElement>('.transcript-canvas')?.style.height ?? '0') : 0;
    });
    // Every set of rows the page ever showed, in order.
    const drawn: number[][] = [];
    const observer = new MutationObserver(() => {
      const rows = [...document.querySelectorAll('[data-testid="transcript-item"]')].map((row) => Number(row.getAttribute('data-index')));
      if (rows.length > 0) drawn.push(rows);
    });
    observer.observe(document.body, { childList: true, subtree: true });
    onTestFinished(() => observer.disconnect());
    const events = richRun(450);
    const count = fold(events, 'run-1').items.length;
    const { transcript } = await openPane(events);
    await waitFor(() => expect(drawn.length).toBeGreaterThan(0));
    expect(Number(transcript.dataset.from)).toBe(count - 2_000);
    // The first rows drawn are the newest: a screenful (3,000 px of rows of 40 px) at the end.
    const first = drawn[0]!;
    expect(Math.max(...first)).toBe(count - 1);
    expect(Math.min(...first)).toBeGreaterThan(count - 100);
    // No row near the start of the window (2,000 items back) was ever drawn.
    expect(Math.min(...drawn.flat())).toBeGreaterThan(count - 200);
  });

  it('scrolling up to the top loads the page before it', async () => {
    const events = richRun(450);
    const { host, transcript } = await openPane(events);
    const from = Number((await waitFor(() => transcript.dataset.from!)) ?? 0);
    expect(from).toBeGreaterThan(0);
    // Opened at the bottom; nothing earlier was asked for.
    expect(host.calls.some((call) => call.itemsFrom !== undefined)).toBe(false);
    await act(async () => {
      transcript.scrollTop = 20_000;
      fireEvent.scroll(transcript);
    });
    await act(async () => {
      transcript.scrollTop = 0;
      fireEvent.scroll(transcript);
    });
    await waitFor(() => expect(transcript.dataset.from).toBe(String(from - 2_000)));
    expect(host.calls.filter((call) => call.itemsFrom !== undefined)).toEqual([{ runId: 'run-1', itemsFrom: from - 2_000, itemsLimit: 2_000 }]);
  });

  it('a carried-over decision’s reference to an approval older than the window loads earlier pages until it is shown', async () => {
    act(() => useUi.setState({ reveal: null }));
    // jsdom does not scroll: let the list's scrollTo move scrollTop and say so, as a browser does.
    const scrollTo = vi.fn(function (this: HTMLElement, options: ScrollToOptions) {
      this.scrollTop = options.top ?? this.scrollTop;
      this.dispatchEvent(new Event('scroll'));
    });
    const own = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'scrollTo');
    Object.defineProperty(HTMLElement.prototype, 'scrollTo', { value: scrollTo, configurable: true, writable: true });
    onTestFinished(() => {
      if (own) Object.defineProperty(HTMLElement.prototype, 'scrollTo', own);
      else delete (HTMLElement.prototype as { scrollTo?: unknown }).scrollTo;
    });
    const events = runWithOldUpdates().slice(0, 2_104);
    const log = new EventLog('run-1');
    log.events.push(...events);
    log.add('approval.decided', { approvalId: 'old-approval', decision: 'allow_run', by: 'user' });
    requestApproval(log, 'new-approval');
    log.add('approval.decided', { approvalId: 'new-approval', decision: 'allow_once', by: 'carryover', ref: 'old-approval' });
    const { transcript } = await openPane(log.events);
    expect(Number(transcript.dataset.from)).toBeGreaterThan(0);
    // What the carried-over card's "approval old-approval" link does (jsdom does not scroll the list to its end, where the card is).
    act(() => useUi.getState().revealApproval('old-approval'));
    await waitFor(() => expect(transcript.dataset.from).toBe('0'));
    const old = await waitFor(() => {
      const row = transcript.querySelector<HTMLElement>('[data-testid="transcript-item"][data-kind="approval"][data-index="2"]');
      expect(row).not.toBeNull();
      return row!;
    });
    expect(old.className).toContain('flash');
  });

  it('a pending approval older than the window is loaded and pinned', async () => {
    const events = runWithOldUpdates().slice(0, 2_104); // the request still waits
    const { host, transcript } = await openPane(events);
    const pinned = await screen.findByTestId('pinned-approvals', undefined, { timeout: 5_000 });
    expect(pinned.textContent).toContain('Run npm test');
    expect(useTranscript.getState().itemsFrom).toBe(0);
  });

  it('search loads the earlier items to search them too, saying so; closing the search stops the loading', async () => {
    const events = richRun(650); // ~6,500 items: three earlier pages
    const whole = fold(events, 'run-1');
    const { host, transcript } = await openPane(events, { holdPages: true });
    const from = whole.items.length - 2_000;
    await waitFor(() => expect(transcript.dataset.from).toBe(String(from)));
    // "Do step 1" is in the first prompt only: far before the window.
    act(() => {
      useSearchUi.getState().openSearch();
      useSearchUi.getState().setQuery('Do step 1');
    });
    const note = await screen.findByTestId('transcript-search-earlier');
    expect(note.textContent).toContain(`${from.toLocaleString()} earlier items`);
    await waitFor(() => expect(host.heldPages()).toBe(1));
    act(() => host.releasePages());
    await waitFor(() => expect(transcript.dataset.from).toBe(String(from - 2_000)));
    await waitFor(() => expect(host.heldPages()).toBe(1));
    // Closing the search: the page asked for arrives, no further page is asked for.
    act(() => screen.getByTestId('transcript-search-close').click());
    // The page arrives inside act: when act returns, its render and effects have run.
    await act(async () => {
      host.releasePages();
      await vi.waitFor(() => expect(useTranscript.getState().itemsFrom).toBe(from - 4_000));
    });
    expect(transcript.dataset.from).toBe(String(from - 4_000));
    expect(host.heldPages()).toBe(0);
    expect(host.calls.filter((call) => call.itemsFrom !== undefined)).toHaveLength(2);
    // Opened again: loading goes on to the first item, and the first prompt is found.
    host.holdPages = false;
    act(() => useSearchUi.getState().openSearch());
    await waitFor(() => expect(transcript.dataset.from).toBe('0'));
    expect(screen.queryByTestId('transcript-search-earlier')).toBeNull();
    const expected = whole.items.filter((item) => item.kind === 'prompt' && /do step 1/i.test(item.text)).length;
    expect(expected).toBeGreaterThan(100); // "Do step 1", "Do step 10", "Do step 100", …
    await waitFor(() => expect(screen.getByTestId('transcript-search-count').textContent).toMatch(new RegExp(` of ${expected.toLocaleString()}$`)));
  });
});
