// @vitest-environment jsdom
// Per-run usage in the run header (issue 15 point 25): the fold's numbers (I9) as a person reads
// them; tokens and cost only when the agent reported them, never made up.
import { RunViewFold } from '@keel/core/replay';
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { RunHeader } from '../src/components/conversation/RunHeader.js';
import { formatCost, formatDuration, formatTokens } from '../src/lib/usage-format.js';
import { EventLog, mockClient, renderWithClient } from './helpers.js';

afterEach(cleanup);

function viewOf(log: EventLog) {
  const fold = new RunViewFold();
  for (const event of log.events) fold.push(event);
  return fold.snapshot();
}

const started = () =>
  new EventLog()
    .add('run.created', { workspace: '/repo', agent: { kind: 'acp', command: ['my-agent'] } })
    .add('prompt.sent', { turn: 1, text: 'go', ik: 'ik:1' });

describe('usage in the run header', () => {
  it('shows reported tokens, cost, context, the time of finished turns and the tool calls', () => {
    const log = started()
      .add('tool.started', { toolCallId: 't1', title: 'ls' })
      .add('tool.started', { toolCallId: 't2', title: 'cat' })
      .add('usage.reported', { turn: 1, source: 'acp:prompt_response', tokens: { input: 12_345, output: 678, total: 13_023 } })
      .add('usage.reported', { turn: 1, source: 'acp:usage_update', cost: { session: 's', amount: 0.42, currency: 'USD' }, context: { used: 50_000, size: 200_000 } })
      .add('turn.ended', { turn: 1, stopReason: 'end_turn' });
    renderWithClient(<RunHeader view={viewOf(log)} summary={null} />, mockClient().client);
    expect(screen.getByTestId('run-tokens').textContent).toBe('12.3k in · 678 out');
    expect(screen.getByTestId('run-tokens').parentElement!.title).toMatch(/13,023 tokens as the agent counts them: 12,345 in, 678 out/);
    expect(screen.getByTestId('run-cost').textContent).toBe(formatCost({ amount: 0.42, currency: 'USD' }));
    expect(screen.getByTestId('run-cost').textContent).toMatch(/0\.42/);
    expect(screen.getByTestId('run-context').textContent).toBe('25%');
    // Prompt at seq 2, turn ended at seq 7: EventLog events are one second apart.
    expect(screen.getByTestId('run-duration').textContent).toBe('5 s');
    expect(screen.getByTestId('run-tool-calls').textContent).toBe('2');
  });

  it('an agent that reports nothing: tokens "—", no cost or context line at all', () => {
    const log = started().add('turn.ended', { turn: 1, stopReason: 'end_turn' });
    renderWithClient(<RunHeader view={viewOf(log)} summary={null} />, mockClient().client);
    expect(screen.getByTestId('run-tokens').textContent).toBe('—');
    expect(screen.queryByTestId('run-cost')).toBeNull();
    expect(screen.queryByTestId('run-context')).toBeNull();
    expect(screen.getByTestId('run-tool-calls').textContent).toBe('0');
  });

  it('formats numbers the way they are read', () => {
    expect([formatTokens(950), formatTokens(1_234), formatTokens(12_345), formatTokens(123_456), formatTokens(1_234_567)]).toEqual(['950', '1.23k', '12.3k', '123k', '1.23M']);
    expect([formatDuration(800), formatDuration(42_000), formatDuration(185_000), formatDuration(3_720_000)]).toEqual(['0.8 s', '42 s', '3 min 5 s', '1 h 2 min']);
    expect(formatCost({ amount: 12, currency: 'credits' })).toBe('12 credits');
  });
});
