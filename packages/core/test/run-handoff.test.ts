// The handoff a fresh session gets: built from the run view alone, newest facts kept, bounded.
import { describe, expect, it } from 'vitest';
import { fold } from '../src/replay/index.js';
import { buildHandoff } from '../src/runs/handoff.js';
import { events, step } from './fixtures/replay-kit.js';

const story = (turns: number) =>
  events([
    step('run.created', { workspace: '/ws', agent: { kind: 'builtin' } }),
    ...Array.from({ length: turns }, (_, i) => [
      step('prompt.sent', { turn: i + 1, text: `task number ${i + 1}`, ik: `ik:${i + 1}` }, 1),
      step('tool.started', { toolCallId: `t${i + 1}`, title: `Edit file ${i + 1}` }, 1),
      step('tool.updated', { toolCallId: `t${i + 1}`, status: 'completed' as const }, 1),
      step('fs.written', { path: `/ws/f${i + 1}.txt`, bytes: 10, sha256: 'x', created: true }, 1),
      step('message.chunk', { turn: i + 1, text: `done with ${i + 1}` }, 1),
      step('turn.ended', { turn: i + 1, stopReason: 'end_turn' }, 1),
    ]).flat(),
  ]);

describe('buildHandoff', () => {
  it('lists the prompts, what was done, the last agent message and the request in progress, in order', () => {
    const view = fold(story(2));
    const { text, truncated } = buildHandoff(view, { turn: 3, text: 'the new task', ik: 'ik:3' });
    expect(truncated).toBe(false);
    const order = ['The user asked (turn 1): task number 1', 'Tool call "Edit file 1": completed', 'Created /ws/f1.txt', 'Turn 1 ended: end_turn', 'The user asked (turn 2)', 'Your last message was:\ndone with 2', 'The request in progress (turn 3)'];
    const positions = order.map((part) => text.indexOf(part));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(text).not.toContain('the new task'); // The open prompt follows the handoff; it is not repeated in it.
  });

  it('stays within its limit on a long run by cutting the oldest facts first, and says so', () => {
    const { text, truncated } = buildHandoff(fold(story(400)), null, 4_000);
    expect(truncated).toBe(true);
    expect(text.length).toBeLessThanOrEqual(4_000);
    expect(text).toContain('(older history cut)');
    expect(text).toContain('task number 400');
    expect(text).not.toContain('task number 1\n');
  });
});
