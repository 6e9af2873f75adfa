// @vitest-environment jsdom
// The replay viewer while the host indexes a long run (seconds for a million events): it says what
// it is doing instead of showing an empty pane, and the scrubber replaces the note once the
// timeline arrives.
import type { ReplayTimeline } from '@keel/core/contract';
import { act, cleanup, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReplayViewer } from '../src/components/replay/ReplayViewer.js';
import { useReplay } from '../src/components/replay/replay-store.js';
import { mockClient, renderWithClient } from './helpers.js';

beforeEach(() => useReplay.setState({ source: { runId: 'run-1' }, seq: null }));
afterEach(cleanup);

describe('replay viewer while the run is indexed', () => {
  it('says it is reading and checking the run until the timeline arrives, then shows the scrubber', async () => {
    let answer!: (timeline: ReplayTimeline) => void;
    const timeline: ReplayTimeline = {
      runId: 'run-1',
      bundleId: null,
      events: 0,
      lastSeq: 0,
      markers: [],
      markersTruncated: false,
      chain: { firstBadSeq: null, redactedSeqs: [] },
      readOnly: false,
    };
    const { client } = mockClient({
      'replay.open': () => new Promise<ReplayTimeline>((resolve) => (answer = resolve)),
      'replay.stateAt': () => ({ seq: 0, view: null, itemCount: 0, itemsFrom: 0 }),
    });
    renderWithClient(<ReplayViewer source={{ runId: 'run-1' }} />, client);
    expect(screen.getByTestId('replay-loading').textContent).toContain('checking their hash chain');
    await act(async () => answer(timeline));
    expect(screen.queryByTestId('replay-loading')).toBeNull();
    expect(screen.getByRole('slider')).toBeTruthy();
  });
});
