// @vitest-environment jsdom
// Per-run usage in the run list rows (issue 15 point 25): each row shows its run's usage from the
// run summary (the ledger's runs projection; nothing folded in the list), compactly: tokens,
// cost only when reported, tool calls and time in turns.
import { emptyRunUsage, type RunUsage } from '@keel/core/contract';
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { RunRow } from '../src/components/runs/list/RunRow.js';
import { formatCost } from '../src/lib/usage-format.js';
import { mockClient, renderWithClient, runSummary } from './helpers.js';

afterEach(cleanup);

const NOW = Date.parse('2025-01-01T01:00:00.000Z');

function row(usage: RunUsage | undefined, now = NOW) {
  const run = runSummary('run-1', usage === undefined ? {} : { usage });
  renderWithClient(
    <ul>
      <RunRow run={run} selected={false} now={now} onSelect={() => {}} />
    </ul>,
    mockClient().client,
  );
  return screen.queryByTestId('run-row-usage');
}

const worked: RunUsage = {
  ...emptyRunUsage(),
  tokens: { input: 1_200, output: 34, total: 1_234 },
  cost: [{ amount: 0.42, currency: 'USD' }],
  costBySession: { s: { amount: 0.42, currency: 'USD' } },
  toolCalls: 3,
  durationMs: 45_000,
};

describe('usage in a run list row', () => {
  it('shows tokens (in and out in the tooltip), the reported cost, tool calls and time in turns', () => {
    const line = row(worked)!;
    expect(line.textContent).toBe(`1.23k tokens · ${formatCost({ amount: 0.42, currency: 'USD' })} · 3 tools · 45 s`);
    expect(line.querySelector('[data-usage="tokens"]')!.getAttribute('title')).toMatch(/1,234 tokens as the agent counts them: 1,200 in, 34 out/);
  });

  it('an agent that reports neither tokens nor cost: tool calls and time only, never a made-up number', () => {
    const line = row({ ...emptyRunUsage(), toolCalls: 1, durationMs: 2_500 })!;
    expect(line.textContent).toBe('1 tool · 2.5 s');
    expect(line.querySelector('[data-usage="tokens"]')).toBeNull();
    expect(line.querySelector('[data-usage="cost"]')).toBeNull();
  });

  it('an open turn counts its running time', () => {
    const line = row({ ...emptyRunUsage(), durationMs: 10_000, turnSince: new Date(NOW - 20_000).toISOString() })!;
    expect(line.textContent).toBe('0 tools · 30 s');
  });

  it('nothing for a run that has not worked yet, nor for a summary without usage (an older keel.db)', () => {
    expect(row(emptyRunUsage())).toBeNull();
    cleanup();
    expect(row(undefined)).toBeNull();
  });
});
