// @vitest-environment jsdom
// A reliability run stopped part-way leaves a scorecard marked incomplete (issue 13 follow-up):
// the pane says so beside the verdict, and it reads the scorecard again as each scenario ends.
import { cleanup, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReliabilityOverview, Scorecard } from '@keel/core/contract';
// uPlot (the trend) asks for matchMedia when it loads; jsdom has none.
vi.hoisted(() => {
  window.matchMedia ??= ((query: string) => ({ matches: false, media: query, addEventListener() {}, removeEventListener() {} })) as unknown as typeof window.matchMedia;
});
import { ReliabilityPane } from '../src/components/ReliabilityPane.js';
import { mockClient, renderWithClient } from './helpers.js';

const card = (incomplete?: Scorecard['incomplete']): Scorecard => ({
  schema_version: 1,
  keelVersion: '0.0.0-test',
  gitSha: null,
  createdAt: '2026-12-01T18:00:00.000Z',
  profile: 'full',
  seed: 9,
  durationMs: 1000,
  machine: { cpu: 'test', cores: 2, memoryGiB: 4, os: 'linux', node: '20', load: [0, 0, 0] },
  scenarios: [],
  slos: [],
  verdict: 'pass',
  ...(incomplete ? { incomplete } : {}),
});

const overviewOf = (latest: Scorecard): ReliabilityOverview => ({
  latest,
  history: [{ file: '/data/reliability/scorecard-x.json', createdAt: latest.createdAt, keelVersion: latest.keelVersion, profile: latest.profile, seed: latest.seed, verdict: latest.verdict, slos: [], ...(latest.incomplete ? { incomplete: true } : {}) }],
  unreadable: [],
});

afterEach(cleanup);

describe('an incomplete scorecard in the reliability pane', () => {
  it('says how many scenarios it covers beside the verdict; a complete one says nothing more', async () => {
    let latest = card({ scenariosDone: 3, scenariosPlanned: 9 });
    const { client, streams } = mockClient({ 'reliability.overview': () => overviewOf(latest) });
    renderWithClient(<ReliabilityPane />, client);
    expect((await screen.findByTestId('reliability-incomplete')).textContent).toBe('incomplete: 3 of 9 scenarios');
    expect(screen.getByTestId('reliability-verdict').textContent).toBe('PASS');

    // The next scenario begins: the one before it has been written, so the pane reads again.
    latest = card({ scenariosDone: 4, scenariosPlanned: 9 });
    const progress = streams.find((stream) => stream.stream === 'reliability.progress')!;
    progress.handlers.onEvent?.({ kind: 'running', profile: 'full', seed: 9, scenario: 'host-kill', index: 4, total: 9, done: 0, planned: 10 });
    await waitFor(() => expect(screen.getByTestId('reliability-incomplete').textContent).toBe('incomplete: 4 of 9 scenarios'));

    latest = card();
    progress.handlers.onEvent?.({ kind: 'finished', file: '/data/reliability/scorecard-x.json', verdict: 'pass' });
    await waitFor(() => expect(screen.queryByTestId('reliability-incomplete')).toBeNull());
  });
});
