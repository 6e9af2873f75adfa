// @vitest-environment jsdom
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act } from '@testing-library/react';
import { appendBlocks, BLOCKS_FROM, GROWING_QUIET_MS, LIVE_PLAIN_FROM, markdownBlocks, PLAIN_CHUNK, plainChunkStarts, plainTail } from '../src/components/items/markdown-blocks.js';
import { Markdown, MARKDOWN_LIMIT } from '../src/components/items/Markdown.js';
import { mockClient, renderWithClient } from './helpers.js';

// Long agent text renders in parts so a streamed message re-parses and re-lays out only its end
// (issue 16: the longest main-thread task while a run streams ~2,000 events/s).

afterEach(cleanup);

const SAMPLE = [
  '# Title',
  '',
  'Para one with **bold** and `code`, see https://example.com.',
  '',
  '- a',
  '- b',
  '',
  '  continued in b',
  '',
  '- c',
  '',
  '```ts',
  'const x = 1;',
  '',
  'const y = 2;',
  '```',
  '',
  '| a | b |',
  '|---|---|',
  '| 1 | 2 |',
  '',
  '> quote',
  '',
  'Setext',
  '===',
  '',
  '1. one',
  '2. two',
  '',
].join('\n');

describe('markdown blocks', () => {
  it('a short text is one block', () => {
    expect(markdownBlocks(SAMPLE)).toEqual([SAMPLE]);
  });

  it('a long text splits between top-level blocks that concatenate back to it; a list, a fence and a table stay whole', () => {
    const text = SAMPLE.repeat(Math.ceil(BLOCKS_FROM / SAMPLE.length) + 1);
    const blocks = markdownBlocks(text);
    expect(blocks.join('')).toBe(text);
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks).toContain('- a\n- b\n\n  continued in b\n\n- c\n\n');
    expect(blocks).toContain('```ts\nconst x = 1;\n\nconst y = 2;\n```\n\n');
    expect(blocks).toContain('| a | b |\n|---|---|\n| 1 | 2 |\n\n');
  });

  it('appending text changes only the last blocks', () => {
    const text = SAMPLE.repeat(20);
    const before = markdownBlocks(text);
    const after = markdownBlocks(`${text}More text in a new paragraph.`);
    expect(after.slice(0, before.length - 1)).toEqual(before.slice(0, -1));
  });

  it('reference definitions and footnotes keep the text whole (they resolve across blocks)', () => {
    const body = SAMPLE.repeat(10);
    expect(markdownBlocks(`${body}\nSee [the docs][d].\n\n[d]: https://example.com\n`)).toHaveLength(1);
    expect(markdownBlocks(`${body}\nA claim.[^1]\n\n[^1]: The source.\n`)).toHaveLength(1);
  });

  it('renders the same markdown as the whole text', () => {
    const text = SAMPLE.repeat(Math.ceil(BLOCKS_FROM / SAMPLE.length) + 1);
    const parts = renderWithClient(<Markdown stateKey="parts" text={text} />, mockClient().client).container;
    const whole = renderWithClient(<Markdown stateKey="whole" text={text} blocksFrom={Number.MAX_SAFE_INTEGER} />, mockClient().client).container;
    expect(parts.querySelectorAll('[data-md-block]').length).toBeGreaterThan(10);
    expect(whole.querySelectorAll('[data-md-block]').length).toBe(1);
    for (const selector of ['h1', 'ul', 'ol', 'li', 'table', 'blockquote', 'pre', 'strong', 'a']) {
      expect(parts.querySelectorAll(selector).length, selector).toBe(whole.querySelectorAll(selector).length);
    }
    // The same text; only the newlines react-markdown puts between block elements differ at a boundary.
    const text_ = (element: Element) => (element.textContent ?? '').replace(/\n/g, '');
    expect(text_(parts)).toBe(text_(whole));
  });
});

describe('plain-text chunks', () => {
  it('cut after line ends, at positions that do not move as text is appended', () => {
    const text = 'Streamed line of text\n'.repeat(1_000);
    const starts = plainChunkStarts(text);
    expect(starts[0]).toBe(0);
    for (const at of starts.slice(1)) expect(text[at - 1]).toBe('\n');
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeLessThanOrEqual(PLAIN_CHUNK);
    const longer = plainChunkStarts(`${text}more\nand more`);
    expect(longer.slice(0, starts.length - 1)).toEqual(starts.slice(0, -1));
  });

  it('a text without line ends is cut every PLAIN_CHUNK characters', () => {
    expect(plainChunkStarts('x'.repeat(PLAIN_CHUNK * 2 + 5))).toEqual([0, PLAIN_CHUNK, PLAIN_CHUNK * 2]);
  });

  it('the tail is whole chunks holding at most the limit, ending with the text', () => {
    const text = 'Benchmark line\n'.repeat(10_000);
    const tail = plainTail(text, MARKDOWN_LIMIT);
    const shown = tail.chunks.map((chunk) => chunk.text).join('');
    expect(shown).toBe(text.slice(tail.from));
    expect(shown.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(shown.length).toBeGreaterThan(MARKDOWN_LIMIT - PLAIN_CHUNK);
  });
});

describe('a streamed message', () => {
  it('appending splits again only from the last block, with the same blocks as splitting the whole', () => {
    let text = SAMPLE.repeat(8);
    let split = { text, blocks: markdownBlocks(text) };
    for (const more of ['More words', ' in the same paragraph.\n\n', '- a new list\n', '- item two\n\n```\ncode\n', '```\n\nEnd.']) {
      text += more;
      const blocks = appendBlocks(split, text);
      expect(blocks).toEqual(markdownBlocks(text));
      split = { text, blocks };
    }
  });

  it('a text that is not the last one with more appended is split from scratch', () => {
    const text = SAMPLE.repeat(8);
    const split = { text, blocks: markdownBlocks(text) };
    const other = `Changed. ${text}`;
    expect(appendBlocks(split, other)).toEqual(markdownBlocks(other));
  });

  /** One streamed paragraph line, and a paragraph of them just long enough to be split and shown plain while it grows. */
  const line = (i: number) => `Streamed **line** ${i}.\n`;
  const longParagraph = () => {
    let text = '';
    for (let i = 0; text.length < Math.max(LIVE_PLAIN_FROM, BLOCKS_FROM) + 100; i++) text += line(i);
    return text;
  };

  it('a long last block shows as plain text while it grows, and as markdown once it stops', () => {
    vi.useFakeTimers();
    try {
      let text = longParagraph();
      const head = `# Answer\n\nFirst paragraph.\n\n`;
      const view = render(<Markdown stateKey="s" text={head + text} />);
      // Opened whole: markdown.
      expect(view.container.querySelector('[data-growing]')).toBeNull();
      expect(view.container.querySelectorAll('strong').length).toBe(text.split('\n').filter(Boolean).length);
      text += line(9_999);
      view.rerender(<Markdown stateKey="s" text={head + text} />);
      const growing = view.container.querySelector('[data-growing]');
      expect(growing).not.toBeNull();
      expect(growing!.textContent).toBe(text);
      // The blocks before it stay markdown.
      expect(view.container.querySelector('h1')?.textContent).toBe('Answer');
      act(() => vi.advanceTimersByTime(GROWING_QUIET_MS + 10));
      expect(view.container.querySelector('[data-growing]')).toBeNull();
      expect(view.container.textContent).toContain('Streamed line 9999.');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a growing message mounted again (or its text replaced) while it streams stays plain text, not parsed whole; quiet, it is markdown', () => {
    vi.useFakeTimers();
    try {
      let text = longParagraph();
      const first = render(<Markdown stateKey="remounted" text={text} />);
      text += line(9_998);
      first.rerender(<Markdown stateKey="remounted" text={text} />);
      expect(first.container.querySelector('[data-growing]')).not.toBeNull();
      first.unmount();
      // The virtualizer mounts the row again a moment later, with a little more text.
      act(() => vi.advanceTimersByTime(500));
      text += line(9_999);
      const again = render(<Markdown stateKey="remounted" text={text} />);
      expect(again.container.querySelector('[data-growing]')).not.toBeNull();
      expect(again.container.querySelectorAll('strong').length).toBe(0);
      // A copy that is not an append of the shown text (a refetched window) while it streams: still plain.
      again.rerender(<Markdown stateKey="remounted" text={`${text.slice(0, -4)}xy.\n`} />);
      expect(again.container.querySelector('[data-growing]')).not.toBeNull();
      act(() => vi.advanceTimersByTime(GROWING_QUIET_MS + 10));
      expect(again.container.querySelector('[data-growing]')).toBeNull();
      expect(again.container.querySelectorAll('strong').length).toBeGreaterThan(0);
      // Another message never seen growing opens as markdown at once.
      const other = render(<Markdown stateKey="never-grew" text={text} />);
      expect(other.container.querySelector('[data-growing]')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
