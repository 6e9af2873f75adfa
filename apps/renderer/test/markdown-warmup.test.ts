// @vitest-environment jsdom
// The markdown warm-up (issue 16: first render of a long run): the parser compiles on first use,
// so the page puts a few samples through it while idle after start-up, one per idle turn.
import { describe, expect, it, vi } from 'vitest';

const parsed = vi.hoisted(() => [] as Array<{ text: string; plugins: number }>);
vi.mock('react-markdown', async (importOriginal) => {
  const actual = await importOriginal<typeof import('react-markdown')>();
  return {
    ...actual,
    default: (options: Parameters<typeof actual.default>[0]) => {
      parsed.push({ text: String(options.children), plugins: options.remarkPlugins?.length ?? 0 });
      return actual.default(options);
    },
  };
});

const { warmMarkdown, WARMUP_SAMPLES } = await import('../src/components/items/markdown-warmup.js');

/** An idle scheduler the test runs by hand: the callbacks waiting, and how many were cancelled. */
function manualIdle() {
  const waiting: Array<() => void> = [];
  let cancelled = 0;
  const idle = (run: () => void) => {
    waiting.push(run);
    return () => {
      const at = waiting.indexOf(run);
      if (at !== -1) {
        waiting.splice(at, 1);
        cancelled += 1;
      }
    };
  };
  return { idle, waiting, cancelled: () => cancelled };
}

describe('warming the markdown parser', () => {
  it('parses each sample with the GFM plugin in its own idle turn, and nothing before the page is idle', () => {
    parsed.length = 0;
    const { idle, waiting } = manualIdle();
    warmMarkdown(idle);
    expect(parsed).toEqual([]);
    for (let turn = 0; turn < WARMUP_SAMPLES.length; turn++) {
      expect(waiting).toHaveLength(1);
      waiting.shift()!();
      expect(parsed).toHaveLength(turn + 1);
    }
    expect(waiting).toEqual([]);
    expect(parsed).toEqual(WARMUP_SAMPLES.map((text) => ({ text, plugins: 1 })));
    // It renders nothing into the page.
    expect(document.body.innerHTML).toBe('');
  });

  it('stops when asked: the idle turn waiting is cancelled and no later sample is parsed', () => {
    parsed.length = 0;
    const { idle, waiting, cancelled } = manualIdle();
    const stop = warmMarkdown(idle);
    waiting.shift()!();
    stop();
    expect(cancelled()).toBe(1);
    expect(waiting).toEqual([]);
    expect(parsed).toHaveLength(1);
  });
});
