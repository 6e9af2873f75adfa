// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isCodeBlockComplete, languageOf } from '../src/components/items/code/fence.js';
import { HIGHLIGHT_LIMIT, loadHighlighter, setHighlighterSourceForTests } from '../src/components/items/code/highlighter.js';
import { Markdown } from '../src/components/items/Markdown.js';
import { mockClient, renderWithClient } from './helpers.js';

afterEach(() => {
  cleanup();
  setHighlighterSourceForTests(null);
  vi.unstubAllGlobals();
});

const show = (text: string) => renderWithClient(<Markdown stateKey="m" text={text} />, mockClient().client);

const TABLE = ['| Check | Result | Time |', '| :--- | :---: | ---: |', '| lint | pass | 1.2 s |', '| tests | **fail** | 38 s |'].join('\n');
const TS_BLOCK = ['```ts', 'const answer: number = 42;', 'export function twice(x: number) {', '  return x * 2;', '}', '```'].join('\n');

describe('GFM tables', () => {
  it('render as a real table inside a horizontally scrolling wrapper, with alignment and inline markdown', () => {
    const { container } = show(`Results:\n\n${TABLE}\n`);
    const wrap = screen.getByTestId('md-table');
    const table = wrap.querySelector('table')!;
    expect([...table.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['Check', 'Result', 'Time']);
    expect(table.querySelectorAll('tbody tr')).toHaveLength(2);
    expect(table.querySelector('tbody tr:nth-child(2) td:nth-child(2) strong')?.textContent).toBe('fail');
    expect((table.querySelector('th:nth-child(3)') as HTMLElement).style.textAlign).toBe('right');
    expect(container.textContent).not.toContain('| :---');
  });

  it('other GFM extensions work and raw HTML inside a table cell is still not rendered', () => {
    const { container } = show('~~old~~ new\n\n- [x] done\n- [ ] todo\n\n| a |\n| - |\n| <img src=x onerror=alert(1)> |\n');
    expect(container.querySelector('del')?.textContent).toBe('old');
    const boxes = container.querySelectorAll('input[type="checkbox"]');
    expect(boxes).toHaveLength(2);
    expect((boxes[0] as HTMLInputElement).checked).toBe(true);
    expect((boxes[0] as HTMLInputElement).disabled).toBe(true);
    expect(container.querySelector('img')).toBeNull();
  });
});

describe('code blocks', () => {
  it('are plain text at once, then coloured by the lazily loaded highlighter with exactly the same text', async () => {
    show(TS_BLOCK);
    const block = screen.getByTestId('code-block');
    // First paint: no highlighter yet, the code is there as plain text.
    expect(block.dataset.highlighted).toBe('false');
    const plain = block.querySelector('pre')!.textContent;
    expect(plain).toBe('const answer: number = 42;\nexport function twice(x: number) {\n  return x * 2;\n}');
    await waitFor(() => expect(block.dataset.highlighted).toBe('true'), { timeout: 10_000 });
    expect(block.querySelector('pre')!.textContent).toBe(plain);
    const keyword = [...block.querySelectorAll<HTMLElement>('.tok')].find((span) => span.textContent === 'const')!;
    expect(keyword.style.color).not.toBe('');
    // Both themes' colours are carried; the CSS picks the dark one in dark mode.
    expect(keyword.style.getPropertyValue('--tok-dark')).toMatch(/^#/);
    expect(keyword.style.getPropertyValue('--tok-dark')).not.toBe(keyword.style.color);
  });

  it('a block whose closing fence has not streamed in yet stays plain; it is coloured once complete', async () => {
    await loadHighlighter('ts');
    const open = TS_BLOCK.slice(0, TS_BLOCK.lastIndexOf('```'));
    const view = show(open);
    expect(screen.getByTestId('code-block').dataset.highlighted).toBe('false');
    view.rerender(<Markdown stateKey="m" text={TS_BLOCK} />);
    await waitFor(() => expect(screen.getByTestId('code-block').dataset.highlighted).toBe('true'));
  });

  it('each language loads its own grammar, also after another language was loaded', async () => {
    await loadHighlighter('ts');
    show(`${TS_BLOCK}\n\n\`\`\`python\ndef twice(x):\n    return x * 2\n\`\`\`\n`);
    const [ts, python] = screen.getAllByTestId('code-block');
    // The TypeScript grammar is already there: coloured on the first render, no plain flash.
    expect(ts!.dataset.highlighted).toBe('true');
    await waitFor(() => expect(python!.dataset.highlighted).toBe('true'), { timeout: 10_000 });
    expect(python!.querySelector('pre')!.textContent).toBe('def twice(x):\n    return x * 2');
  });

  it('unknown languages, untagged blocks and very long blocks stay plain but copyable', async () => {
    await loadHighlighter('json');
    show(['```brainfuck', '++[>+<-]', '```', '', '```', 'just text', '```', '', '```json', `{"x": "${'a'.repeat(HIGHLIGHT_LIMIT)}"}`, '```'].join('\n'));
    const blocks = screen.getAllByTestId('code-block');
    expect(blocks.map((block) => block.dataset.lang)).toEqual(['brainfuck', '', 'json']);
    expect(blocks.map((block) => block.dataset.highlighted)).toEqual(['false', 'false', 'false']);
    expect(blocks.every((block) => block.querySelector('[data-testid="code-copy"]'))).toBe(true);
  });

  it('when the highlighter cannot be loaded, code blocks stay plain and readable', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    setHighlighterSourceForTests(() => Promise.reject(new Error('chunk failed to load')));
    show(TS_BLOCK);
    expect(await loadHighlighter('ts')).toBeNull();
    await act(async () => {});
    const block = screen.getByTestId('code-block');
    expect(block.dataset.highlighted).toBe('false');
    expect(block.textContent).toContain('export function twice');
    expect(warn).toHaveBeenCalled();
  });

  it('Copy puts the block text on the clipboard and says "Copied"; a refused clipboard says so', async () => {
    const writes: string[] = [];
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText: async (text: string) => void writes.push(text) } });
    show(TS_BLOCK);
    const button = screen.getByTestId('code-copy');
    expect(button.textContent).toBe('Copy');
    fireEvent.click(button);
    await waitFor(() => expect(button.textContent).toBe('Copied'));
    expect(writes).toEqual(['const answer: number = 42;\nexport function twice(x: number) {\n  return x * 2;\n}']);
    await waitFor(() => expect(button.textContent).toBe('Copy'), { timeout: 3000 });

    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText: () => Promise.reject(new DOMException('denied', 'NotAllowedError')) } });
    fireEvent.click(button);
    await waitFor(() => expect(button.textContent).toBe('Copy failed'));
  });
});

describe('code block completeness', () => {
  it('a fenced block is complete only with a closing fence at least as long as the opener', () => {
    const src = '```ts\nlet x = 1;\n```';
    expect(isCodeBlockComplete(src, 0, src.length)).toBe(true);
    const open = '```ts\nlet x = 1;\n';
    expect(isCodeBlockComplete(open, 0, open.length)).toBe(false);
    const short = '````\nx\n```';
    expect(isCodeBlockComplete(short, 0, short.length)).toBe(false);
    const tilde = '~~~\nx\n~~~';
    expect(isCodeBlockComplete(tilde, 0, tilde.length)).toBe(true);
    expect(isCodeBlockComplete('```', 0, 3)).toBe(false);
  });

  it('an indented block is complete once something follows it', () => {
    const src = 'a\n\n    code\n\nafter';
    const start = src.indexOf('    code');
    expect(isCodeBlockComplete(src, start, start + 8)).toBe(true);
    expect(isCodeBlockComplete('a\n\n    code', 3, 11)).toBe(false);
  });

  it('reads the language from the info string class', () => {
    expect(languageOf(['language-tsx'])).toBe('tsx');
    expect(languageOf('hljs language-py')).toBe('py');
    expect(languageOf(undefined)).toBeNull();
  });
});
