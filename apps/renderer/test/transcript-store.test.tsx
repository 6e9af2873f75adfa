// @vitest-environment jsdom
import { EventBody, RunView } from '@keel/core/contract';
import { fold } from '@keel/core/replay';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Conversation } from '../src/components/conversation/Conversation.js';
import type { FrameScheduler } from '../src/lib/frames.js';
import { useConnection } from '../src/stores/connection.js';
import { useRuns } from '../src/stores/runs.js';
import { openTranscript, useTranscript } from '../src/stores/transcript.js';
import { mockClient, renderWithClient, richRun, runSummary } from './helpers.js';

/** Frames the test advances by hand. */
function manualFrames() {
  const tasks = new Set<() => void>();
  const scheduler: FrameScheduler = {
    coalesce(task) {
      let pending = false;
      const run = () => {
        if (!pending) return;
        pending = false;
        tasks.delete(run);
        task();
      };
      const scheduled = Object.assign(
        () => {
          if (pending) return;
          pending = true;
          tasks.add(run);
        },
        { flush: run, cancel: () => ((pending = false), tasks.delete(run)) },
      );
      return scheduled;
    },
  };
  return { scheduler, frame: () => [...tasks].forEach((run) => run()) };
}

/** The store asks the host for a snapshot first; wait until it has opened the event stream. */
async function streamOpened(streams: ReturnType<typeof mockClient>['streams'], count = 1) {
  await vi.waitFor(() => expect(streams.filter((entry) => entry.stream === 'run.events').length).toBeGreaterThanOrEqual(count));
  return streams.filter((entry) => entry.stream === 'run.events')[count - 1]!;
}

/**
 * Resolves once the store has published a view up to `seq` (the pane's feed folds events as they
 * come and publishes on the next frame). Awaited inside act(), which then renders that view.
 */
async function publishedUpTo(seq: number) {
  await vi.waitFor(() => expect(useTranscript.getState().view?.lastSeq).toBe(seq));
}

afterEach(() => {
  cleanup();
  useTranscript.setState({ runId: null, folder: null, lastSeq: 0, view: null, status: 'idle', error: null });
});

describe('the transcript store', () => {
  it('holds exactly what core’s fold makes of the same events (I9: same input as keel replay --json, same view)', async () => {
    const events = richRun(5);
    // The generated run is valid ledger data (but for the deliberate event from the future).
    for (const event of events) {
      if (event.type !== 'future.event') expect(EventBody.safeParse({ type: event.type, payload: event.payload }).success, event.type).toBe(true);
    }
    const { client, streams } = mockClient();
    const frames = manualFrames();
    const feed = openTranscript(client, 'run-1', { frames: frames.scheduler });
    const stream = await streamOpened(streams);
    for (const event of events) stream.handlers.onEvent(event);
    frames.frame();

    const expected = fold(events, 'run-1');
    const { view, lastSeq } = useTranscript.getState();
    expect(view).toEqual(expected);
    expect(RunView.parse(view)).toEqual(expected);
    expect(lastSeq).toBe(events.length);
    // The fold knows every kind this run holds.
    expect(new Set(view!.items.map((item) => item.kind))).toEqual(new Set(expected.items.map((item) => item.kind)));
    feed.close();
  });

  it('snapshots once per animation frame however many events arrive', async () => {
    const events = richRun(20);
    const { client, streams } = mockClient();
    const frames = manualFrames();
    openTranscript(client, 'run-1', { frames: frames.scheduler });
    await streamOpened(streams);
    const views: unknown[] = [];
    const unsubscribe = useTranscript.subscribe((state, previous) => {
      if (state.view !== previous.view) views.push(state.view);
    });
    for (const event of events.slice(0, 100)) streams[0]!.handlers.onEvent(event);
    expect(views).toHaveLength(0);
    frames.frame();
    expect(views).toHaveLength(1);
    for (const event of events.slice(100)) streams[0]!.handlers.onEvent(event);
    frames.frame();
    expect(views).toHaveLength(2);
    expect(useTranscript.getState().view).toEqual(fold(events, 'run-1'));
    unsubscribe();
  });

  it('resumes after a reconnect from the last seq + 1, and a repeated event changes nothing', async () => {
    const events = richRun(2);
    const { client, streams } = mockClient();
    const feed = openTranscript(client, 'run-1', { frames: manualFrames().scheduler });
    const stream = await streamOpened(streams);
    expect(stream.currentParams()).toEqual({ runId: 'run-1', fromSeq: 1 });
    for (const event of events.slice(0, 10)) stream.handlers.onEvent(event);
    // What the socket transport sends when it re-subscribes after a reconnect:
    expect(stream.currentParams()).toEqual({ runId: 'run-1', fromSeq: 11 });
    // A resumed stream that overlaps by one event (a duplicate) and then goes on: the
    // duplicate is the transport's, not the ledger's, so it never reaches the fold.
    for (const event of events.slice(9)) stream.handlers.onEvent(event);
    feed.flush();
    expect(useTranscript.getState().view).toEqual(fold(events, 'run-1'));
    expect(useTranscript.getState().view!.ignored.outOfOrder).toBe(0);
    feed.close();
    expect(stream.closed).toBe(true);
  });

  it('opening another run closes the first and starts from an empty fold', async () => {
    const { client, streams } = mockClient();
    openTranscript(client, 'run-1', { frames: manualFrames().scheduler });
    (await streamOpened(streams)).handlers.onEvent(richRun(1)[0]!);
    const second = openTranscript(client, 'run-2', { frames: manualFrames().scheduler });
    await streamOpened(streams, 2);
    expect(streams[0]!.closed).toBe(true);
    // A late event of the closed run is ignored.
    streams[0]!.handlers.onEvent(richRun(1)[1]!);
    second.flush();
    expect(useTranscript.getState().runId).toBe('run-2');
    expect(useTranscript.getState().view!.eventCount).toBe(0);
    second.close();
  });

  it('says why when the host ends the stream with an error', async () => {
    const { client, streams } = mockClient();
    openTranscript(client, 'nope', { frames: manualFrames().scheduler });
    (await streamOpened(streams)).handlers.onEnd?.(Object.assign(new Error('No run nope.'), { code: 'not_found' }) as never);
    expect(useTranscript.getState()).toMatchObject({ status: 'error', error: 'No run nope.' });
  });

  it('starts from the host’s folded snapshot (run.viewWindow) and streams only what follows it', async () => {
    const events = richRun(5);
    const head = fold(events.slice(0, 60), 'run-1');
    // A short run: the host's window is its whole transcript.
    const { client, streams, invoke } = mockClient({ 'run.viewWindow': () => ({ view: head, itemCount: head.items.length, itemsFrom: 0 }) });
    const feed = openTranscript(client, 'run-1', { frames: manualFrames().scheduler });
    const stream = await streamOpened(streams);
    expect(invoke).toHaveBeenCalledWith('run.viewWindow', { runId: 'run-1' });
    expect(stream.currentParams()).toEqual({ runId: 'run-1', fromSeq: 61 });
    for (const event of events.slice(60)) stream.handlers.onEvent(event);
    feed.flush();
    // Snapshot + the rest = the fold of everything (I9).
    expect(useTranscript.getState().view).toEqual(fold(events, 'run-1'));
    feed.close();
  });
});

describe('the conversation pane', () => {
  const summary = runSummary('run-1', {
    state: 'stopped',
    created: '2025-01-01T00:00:01.000Z',
    updated: '2025-01-01T00:01:00.000Z',
    lastSeq: 0,
    workspace: '/work/repo',
    agent: { kind: 'builtin', script: 'edit-and-test' },
    title: 'Rich run',
    stopReason: 'runtime_stopped',
  });

  beforeEach(() => {
    // The virtualizer renders what fits in the scroll box: give jsdom a tall one.
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockImplementation(function (this: HTMLElement) {
      return this.classList.contains('transcript') ? 100_000 : 0;
    });
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(800);
    useRuns.setState({ runs: [summary], loaded: true, error: null, selectedRunId: 'run-1' });
    useConnection.setState({ status: 'connected' });
  });
  afterEach(() => vi.restoreAllMocks());

  it('renders, in order, the items the fold says, with their kind and seq', async () => {
    const events = richRun(2);
    const { client, streams } = mockClient({ 'runs.list': () => [summary] });
    renderWithClient(<Conversation />, client);
    const stream = await streamOpened(streams);
    const expected = fold(events, 'run-1');
    await act(async () => {
      for (const event of events) stream.handlers.onEvent(event);
      await publishedUpTo(expected.lastSeq);
    });
    const rows = within(screen.getByTestId('transcript')).getAllByTestId('transcript-item');
    expect(rows.length).toBeGreaterThan(10);
    const shown = rows.map((row) => [Number(row.dataset.index), row.dataset.kind, Number(row.dataset.seq)]);
    const wanted = shown.map(([index]) => {
      const item = expected.items[index as number]!;
      return [index, item.kind, 'seq' in item ? item.seq : item.firstSeq];
    });
    expect(shown).toEqual(wanted);
    // Header numbers come from the view, not from the UI.
    expect(screen.getByTestId('run-state').dataset.state).toBe(expected.state);
    expect(screen.getByTestId('run-generation').textContent).toBe(`#${expected.generation}`);
    expect(screen.getByTestId('run-restarts').textContent).toBe(String(expected.restarts));
    expect(screen.getByTestId('run-progress').getAttribute('aria-valuenow')).toBe(String(expected.progress.percent));
    expect(screen.getByTestId('run-stop-reason').textContent).toContain('Check its stderr log');
  });

  it('a stopped runtime shows a recovery card whose button restarts it, and the composer says why it waits', async () => {
    const events = richRun(1);
    const { client, streams, invoke } = mockClient({ 'runs.list': () => [summary], 'runtime.restart': () => ({}) });
    renderWithClient(<Conversation />, client);
    const stream = await streamOpened(streams);
    await act(async () => {
      for (const event of events) stream.handlers.onEvent(event);
      await publishedUpTo(fold(events, 'run-1').lastSeq);
    });
    expect(fold(events, 'run-1').runtimeStopped).toBe(true);
    const cards = screen.getAllByTestId('recovery-card');
    const kinds = cards.map((card) => card.dataset.recovery);
    expect(kinds).toContain('runtime_stopped');
    expect(kinds).toContain('session');
    const stopped = cards.find((card) => card.dataset.recovery === 'runtime_stopped')!;
    await act(async () => {
      fireEvent.click(within(stopped).getByTestId('recovery-restart'));
    });
    expect(invoke).toHaveBeenCalledWith('runtime.restart', { runId: 'run-1' });
    expect(screen.getByTestId('composer-reason').textContent).toBe('The runtime is stopped — restart it');
    expect(screen.getByTestId('runtime-stopped')).toBeTruthy();
  });
});
