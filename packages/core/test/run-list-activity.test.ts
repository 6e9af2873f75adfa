// The run list orders by activity (issue 15, point 12): an agent Keel stopped on purpose (server
// shutdown, idle stop) does not count as activity, so a restart does not reorder the list; an
// agent that died on its own does.
import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../src/contract/index.js';
import { foldProjection } from '../src/ledger/projection.js';
import { toolCallsInMemory } from '../src/ledger/usage-projection.js';
import { events, step } from './fixtures/replay-kit.js';

const projectionOf = (all: LedgerEvent[], isNewToolCall = toolCallsInMemory()) =>
  all.reduce<ReturnType<typeof foldProjection> | null>((row, event) => foldProjection(row, event, isNewToolCall), null)!;

describe('run list activity time', () => {
  const base = [
    step('run.created', { workspace: '/repo', agent: { kind: 'builtin', script: 'hello' } }),
    step('prompt.sent', { turn: 1, text: 'hi', ik: 'ik:1' }),
  ];

  it('an expected stop (shutdown, idle stop) keeps the last activity time; seq still advances', () => {
    const all = events([...base, step('runtime.exited', { generation: 1, code: 0, signal: null, expected: true })]);
    const row = projectionOf(all);
    expect(row.updated).toBe(all[1]!.ts);
    expect(row.last_seq).toBe(3);
  });

  it('an agent that died by itself is activity', () => {
    const all = events([...base, step('runtime.exited', { generation: 1, code: null, signal: 'SIGKILL', expected: false })]);
    expect(projectionOf(all).updated).toBe(all[2]!.ts);
  });
});
