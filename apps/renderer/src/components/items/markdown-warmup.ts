import ReactMarkdown from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { whenIdle, type WhenIdle } from '../../lib/idle.js';

/**
 * Small texts that go through the markdown pipeline's common paths (paragraphs, emphasis, inline
 * code, lists, a quote, a fence, a table, autolinks, strikethrough, links), one per idle turn.
 */
export const WARMUP_SAMPLES: readonly string[] = [
  'The agent **reads** a file and then *writes* tests for it. `npm test` passes.\n\n- item one\n- item two\n',
  '1. first step\n2. second step\n\n> a quoted line\n\n```ts\nconst answer = 42;\n```\n',
  '| file | status |\n|---|---|\n| a.ts | ok |\n\nSee https://example.com and ~~old~~ text, or [the docs](https://example.com/docs).\n',
];

/**
 * Puts a few sample texts through the markdown pipeline while the page is idle after start-up,
 * one sample per idle turn, rendering nothing. The first parse in a page also compiles the
 * parser (micromark, mdast, hast: hundreds of functions compiled on first call): measured in
 * Node, the first 1.5 KB message took 77 ms and the next ones of that size 22–30 ms. That first
 * cost is paid here, before anyone opens a run, instead of in the first run's first render.
 * Returns a function that stops it.
 */
export function warmMarkdown(idle: WhenIdle = (run) => whenIdle(run, 5_000), samples: readonly string[] = WARMUP_SAMPLES): () => void {
  let cancel: (() => void) | null = null;
  const next = (index: number) => {
    if (index >= samples.length) {
      cancel = null;
      return;
    }
    cancel = idle(() => {
      ReactMarkdown({ children: samples[index], remarkPlugins: [remarkGfm] });
      next(index + 1);
    });
  };
  next(0);
  return () => cancel?.();
}
