// @vitest-environment jsdom
// The replay viewer while the host indexes a long run (seconds for a million events): it says what
// it is doing instead of showing an empty pane, with how far it has got (`replay.progress`), and
// the scrubber replaces the note once the timeline arrives.
import type { ReplayIndexProgress, ReplayTimeline } from '@keel/core/contract';
import { act, cleanup, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReplayViewer } from '../src/components/replay/ReplayViewer.js';
import { useReplay } from '../src/components/replay/replay-store.js';
import { mockClient, renderWithClient } from './helpers.js';

beforeEach(() => useReplay.setState({ source: { runId: 'run-1' }, seq: null }));
afterEach(cleanup);

const emptyTimeline: ReplayTimeline = {
  runId: 'run-1',
  bundleId: null,
  events: 0,
  lastSeq: 0,
  markers: [],
  markersTruncated: false,
  chain: { firstBadSeq: null, redactedSeqs: [] },
  readOnly: false,
};

/** A host whose replay.open answers only when the test says so. */
function slowHost() {
  let answer!: (timeline: ReplayTimeline) => void;
  const mock = mockClient({
    'replay.open': () => new Promise<ReplayTimeline>((resolve) => (answer = resolve)),
    'replay.stateAt': () => ({ seq: 0, view: null, itemCount: 0, itemsFrom: 0 }),
  });
  return { ...mock, answer: (timeline: ReplayTimeline) => answer(timeline) };
}

describe('replay viewer while the run is indexed', () => {
  it('says it is reading and checking the run until the timeline arrives, then shows the scrubber', async () => {
    const { client, answer } = slowHost();
    renderWithClient(<ReplayViewer source={{ runId: 'run-1' }} />, client);
    expect(screen.getByTestId('replay-loading').textContent).toContain('checking their hash chain');
    await act(async () => answer(emptyTimeline));
    expect(screen.queryByTestId('replay-loading')).toBeNull();
    expect(screen.getByRole('slider')).toBeTruthy();
  });

  it('shows the streamed figures as a bar and "Checked N of M events (P %)" under the sentence, and drops them and the subscription when the timeline arrives', async () => {
    const { client, streams, answer } = slowHost();
    const source = { runId: 'run-1' };
    renderWithClient(<ReplayViewer source={source} />, client);
    const progress = streams.find((each) => each.stream === 'replay.progress');
    expect(progress?.params).toEqual(source);
    const send = (event: ReplayIndexProgress) => act(async () => progress!.handlers.onEvent(event));

    await send({ state: 'idle', eventsRead: 0, eventsTotal: 1_000_000 });
    expect(screen.getByTestId('replay-loading').textContent).toBe('Reading the run’s events and checking their hash chain…');
    expect(screen.queryByTestId('replay-progress')).toBeNull();

    await send({ state: 'indexing', eventsRead: 412_000, eventsTotal: 1_000_000 });
    const loading = screen.getByTestId('replay-loading');
    expect(loading.firstElementChild!.textContent).toBe('Reading the run’s events and checking their hash chain…');
    expect(screen.getByTestId('replay-progress-text').textContent).toBe(`Checked ${(412_000).toLocaleString()} of ${(1_000_000).toLocaleString()} events (41 %)`);
    const bar = screen.getByRole('progressbar', { name: 'Events checked' }) as HTMLProgressElement;
    expect(loading.contains(bar)).toBe(true);
    expect([bar.max, bar.value]).toEqual([1_000_000, 412_000]);

    await send({ state: 'indexing', eventsRead: 999_999, eventsTotal: 1_000_000 });
    expect(screen.getByTestId('replay-progress-text').textContent).toContain('(99 %)');
    expect(bar.value).toBe(999_999);

    await act(async () => answer(emptyTimeline));
    expect(screen.queryByTestId('replay-loading')).toBeNull();
    expect(screen.queryByRole('progressbar', { name: 'Events checked' })).toBeNull();
    expect(progress!.closed).toBe(true);
    expect(screen.getByRole('slider')).toBeTruthy();
  });

  it('ends its replay.progress subscription when the viewer closes before the timeline arrives', () => {
    const { client, streams } = slowHost();
    const { unmount } = renderWithClient(<ReplayViewer source={{ runId: 'run-1' }} />, client);
    const progress = streams.find((each) => each.stream === 'replay.progress')!;
    expect(progress.closed).toBe(false);
    unmount();
    expect(progress.closed).toBe(true);
  });
});
