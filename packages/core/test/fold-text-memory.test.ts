// A run's streamed text is held as its characters, not as one string node per chunk (issue 16:
// peak RSS while a long run is folded). V8 keeps `a + b` as a tree of every piece; the fold makes
// the text flat as it grows (view-items.ts, appended) and when its item ends.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { RunViewFold } from '../src/replay/index.js';
import { appended } from '../src/replay/view-items.js';
import { events, step } from './fixtures/replay-kit.js';

/** A full collection, from a fresh context (the flag set at run time). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

function heapUsed(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** The length of the folded message's text (nothing of the view kept past the call). */
function messageLength(folder: RunViewFold): number {
  const item = folder.snapshot().items.find((each) => each.kind === 'message');
  return item?.kind === 'message' ? item.text.length : -1;
}

/** The heap a fold of `list` holds: what it frees when it goes (the events stay alive throughout). */
function heldByFold(list: ReturnType<typeof events>, length: number): number {
  let folder: RunViewFold | null = new RunViewFold();
  for (const event of list) folder.push(event);
  expect(messageLength(folder)).toBe(length);
  const withFold = heapUsed();
  folder = null;
  return withFold - heapUsed();
}

describe('streamed text in the fold', () => {
  it('appended is plain concatenation, across every power-of-two length', () => {
    let text = '';
    let expected = '';
    for (let i = 0; i < 3_000; i++) {
      const more = i % 7 === 0 ? '' : `${i}ü`;
      text = appended(text, more);
      expected += more;
      expect(text.length).toBe(expected.length);
    }
    expect(text).toBe(expected);
  });

  it('a message streamed in 200,000 chunks holds about its characters, not a node per chunk', () => {
    const chunks = 200_000;
    const list = events([
      step('run.created', { workspace: '/repo', agent: { kind: 'builtin', script: 'demo' } }),
      step('prompt.sent', { turn: 1, text: 'go', ik: 'ik:1' }),
      // Each chunk text from its own JSON parse, as the ledger's reads give them: no shared parent string.
      ...Array.from({ length: chunks }, (_, i) => step('message.chunk', { turn: 1, text: JSON.parse(`"c${i % 10}"`) as string })),
      step('message.chunk', { turn: 1, text: 'end' }),
      step('turn.ended', { turn: 1, stopReason: 'end_turn' }),
    ]);
    // 400 KB of characters: a tree of every chunk holds ~6.4 MB more (a 32-byte node per chunk).
    expect(heldByFold(list, chunks * 2 + 3)).toBeLessThan(3_000_000);
    expect(list.length).toBeGreaterThan(chunks);
  });
});
