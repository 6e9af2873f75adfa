// @vitest-environment jsdom
import { act, cleanup } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FACTS_AFTER_OPEN_MS, FACTS_REFRESH_MS, FACTS_WAIT_MS, RunFacts } from '../src/components/reliability/RunFacts.js';
import { useRuns } from '../src/stores/runs.js';
import { useTranscript } from '../src/stores/transcript.js';
import { mockClient, renderWithClient, runSummary } from './helpers.js';

// The host computes a run's facts from all its events on its main thread: asked beside the
// transcript's window, it delayed the window (issue 16, the first render of a long run). So the
// facts wait for the transcript to open, and a moving run is asked again at most every few seconds.

const facts = (runId: string) => ({ runId, restarts: 0, hostRecoveries: 0, recovery: null, approvalsReset: 0, approvalsCarried: 0, remaps: 0, duplicatedPrompts: 0, recoveries: [] });

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  useTranscript.setState({ runId: null, status: 'idle' });
});
beforeEach(() => {
  vi.useFakeTimers();
  useRuns.setState({ runs: [runSummary('run-1', { lastSeq: 10 })], loaded: true, error: null, selectedRunId: 'run-1' });
  useTranscript.setState({ runId: 'run-1', status: 'loading' });
});

const factsCalls = (invoke: ReturnType<typeof mockClient>['invoke']) => invoke.mock.calls.filter(([method]) => method === 'reliability.runFacts').length;

describe('the run facts are asked after the transcript', () => {
  it('not while the transcript window is loading; shortly after it opened', async () => {
    const { client, invoke } = mockClient({ 'reliability.runFacts': ({ runId }) => facts(runId) });
    renderWithClient(<RunFacts />, client);
    await act(async () => vi.advanceTimersByTime(FACTS_WAIT_MS - 100));
    expect(factsCalls(invoke)).toBe(0);
    act(() => useTranscript.setState({ status: 'live' }));
    await act(async () => vi.advanceTimersByTime(FACTS_AFTER_OPEN_MS - 50));
    expect(factsCalls(invoke)).toBe(0);
    await act(async () => vi.advanceTimersByTime(100));
    expect(factsCalls(invoke)).toBe(1);
  });

  it('after FACTS_WAIT_MS even if the transcript never opens', async () => {
    const { client, invoke } = mockClient({ 'reliability.runFacts': ({ runId }) => facts(runId) });
    renderWithClient(<RunFacts />, client);
    await act(async () => vi.advanceTimersByTime(FACTS_WAIT_MS + 10));
    expect(factsCalls(invoke)).toBe(1);
  });

  it('a moving run is asked again at most every FACTS_REFRESH_MS, and its last change is asked', async () => {
    const { client, invoke } = mockClient({ 'reliability.runFacts': ({ runId }) => facts(runId) });
    useTranscript.setState({ status: 'live' });
    renderWithClient(<RunFacts />, client);
    await act(async () => vi.advanceTimersByTime(FACTS_AFTER_OPEN_MS + 10));
    expect(factsCalls(invoke)).toBe(1);
    for (let seq = 11; seq <= 15; seq++) {
      act(() => useRuns.setState({ runs: [runSummary('run-1', { lastSeq: seq })] }));
      await act(async () => vi.advanceTimersByTime(500));
    }
    expect(factsCalls(invoke)).toBe(1);
    await act(async () => vi.advanceTimersByTime(FACTS_REFRESH_MS));
    expect(factsCalls(invoke)).toBe(2);
    await act(async () => vi.advanceTimersByTime(FACTS_REFRESH_MS * 2));
    expect(factsCalls(invoke)).toBe(2);
  });
});
