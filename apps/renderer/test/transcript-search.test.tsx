// @vitest-environment jsdom
import type { ItemOfKind, RunView, TranscriptItem } from '@keel/core/contract';
import { fold } from '@keel/core/replay';
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeCount, findMatches, MAX_MATCHES, searchableText, startingMatch } from '../src/components/conversation/search/search-index.js';
import { useSearchUi } from '../src/components/conversation/search/search-ui.js';
import { Transcript } from '../src/components/conversation/Transcript.js';
import { CommandPalette } from '../src/components/CommandPalette.js';
import { ShortcutsOverlay } from '../src/components/ShortcutsOverlay.js';
import { useRuns } from '../src/stores/runs.js';
import { useUi } from '../src/stores/ui.js';
import { mockClient, renderWithClient, runSummary } from './helpers.js';

const ts = '2025-01-01T00:00:00.000Z';
const message = (seq: number, text: string): ItemOfKind<'message'> => ({ kind: 'message', firstSeq: seq, lastSeq: seq, ts, turn: 1, generation: 1, text, chunks: 1 });
const tool = (seq: number, title: string, output: string): ItemOfKind<'tool'> => ({
  kind: 'tool',
  firstSeq: seq,
  lastSeq: seq,
  ts,
  turn: 1,
  toolCallId: `call-${seq}`,
  title,
  toolKind: 'execute',
  status: 'completed',
  output,
  diffs: [],
});
const command = (seq: number, output: string): ItemOfKind<'command'> => ({
  kind: 'command',
  seq,
  lastSeq: seq,
  ts,
  turn: 1,
  terminalId: `t-${seq}`,
  command: 'npm',
  args: ['test'],
  cwd: '/work/repo',
  output,
  status: 'exited',
  exitCode: 0,
  signal: null,
});

/**
 * A long run's items: prose, tool calls with output, commands, in the proportions of a real
 * run, with the word "needle" placed in exactly the items listed in `needles`.
 */
function bigRun(count: number, needles: Record<number, string> = {}): TranscriptItem[] {
  const items: TranscriptItem[] = [];
  for (let index = 0; index < count; index++) {
    const seq = index + 1;
    const planted = needles[index];
    if (planted !== undefined) items.push(message(seq, planted));
    else if (index % 3 === 0) items.push(message(seq, `Step ${index}: I read the module, updated the parser and reran the suite; everything in src/lib/${index % 97}.ts passes now.`));
    else if (index % 3 === 1) items.push(tool(seq, `Read src/lib/${index % 97}.ts`, `export const value${index} = ${index};\n// ${'lorem ipsum '.repeat(8)}\n`));
    else items.push(command(seq, `> vitest run\n ✓ test/${index % 89}.test.ts (12 tests) ${index % 500}ms\n`));
  }
  return items;
}

const viewOf = (items: TranscriptItem[]): RunView => ({ ...fold([], 'run-1'), items });

describe('transcript search over the items (not the DOM)', () => {
  it('counts every case-insensitive occurrence in messages, tool titles, tool and command output', () => {
    const items: TranscriptItem[] = [
      message(1, 'The Needle is here, and another needle.'),
      tool(2, 'grep needle src/', 'src/a.ts: const needle = 1'),
      command(3, 'NEEDLE found'),
      message(4, 'nothing to see'),
    ];
    const matches = findMatches(items, 'needle');
    expect(matches.total).toBe(5);
    expect([...matches.items]).toEqual([0, 0, 1, 1, 2]);
    expect([...matches.occurrences]).toEqual([0, 1, 0, 1, 0]);
    expect(describeCount(matches, 2)).toBe('3 of 5');
    // Non-overlapping, like a browser's find.
    expect(findMatches([message(1, 'aaaa')], 'aa').total).toBe(2);
    // A blank query finds nothing rather than everything.
    expect(findMatches(items, '   ').total).toBe(0);
    expect(describeCount(findMatches(items, 'absent'), -1)).toBe('No results');
  });

  it('looks at the words an item shows, never its ids or seqs', () => {
    const item = tool(7, 'Run tests', 'ok');
    expect(searchableText(item)).not.toContain('call-7');
    expect(findMatches([item], 'call-7').total).toBe(0);
  });

  it('starts at the first match in or below the view, else the nearest one above it', () => {
    const matches = findMatches(bigRun(100, { 10: 'needle', 40: 'needle', 70: 'needle' }), 'needle');
    expect(startingMatch(matches, 0)).toBe(0);
    expect(startingMatch(matches, 41)).toBe(2);
    expect(startingMatch(matches, 90)).toBe(2);
  });

  it('keeps at most MAX_MATCHES to step through but counts them all', () => {
    const items = Array.from({ length: MAX_MATCHES + 10 }, (_, index) => message(index + 1, 'x'));
    const matches = findMatches(items, 'x');
    expect(matches.kept).toBe(MAX_MATCHES);
    expect(matches.total).toBe(MAX_MATCHES + 10);
    expect(describeCount(matches, 0)).toBe(`1 of ${MAX_MATCHES.toLocaleString()}+`);
  });

  it('searches a 100,000-item run fast enough to run after each pause in typing (measured)', () => {
    const items = bigRun(100_000, { 12: 'a rare needle', 55_555: 'needle and needle', 99_990: 'the last needle' });
    const time = (query: string) => {
      const started = performance.now();
      const matches = findMatches(items, query);
      return { ms: performance.now() - started, matches };
    };
    const cold = time('needle');
    const warm = time('needle');
    const common = time('src/lib');
    const fresh = time('parser and');
    console.log(
      `[transcript search] 100,000 items: first search ${cold.ms.toFixed(1)} ms (cold: JIT warm-up), ` +
        `later searches ${warm.ms.toFixed(1)} ms (rare word), ${common.ms.toFixed(1)} ms (${common.matches.total.toLocaleString()} matches), ` +
        `${fresh.ms.toFixed(1)} ms (${fresh.matches.total.toLocaleString()} matches)`,
    );
    expect(cold.matches.total).toBe(4);
    expect([...warm.matches.items]).toEqual([12, 55_555, 55_555, 99_990]);
    expect(common.matches.total).toBe(items.reduce((sum, item) => sum + searchableText(item).split('src/lib').length - 1, 0));
    // A search once items are lowered must fit well inside a frame budget's order of magnitude
    // even on a loaded two-core machine; the first one lowers 100k texts.
    expect(warm.ms).toBeLessThan(250);
    expect(cold.ms).toBeLessThan(2_000);
  });
});

describe('the search bar in the virtualized transcript', () => {
  let scrollTops: WeakMap<Element, number>;
  beforeEach(() => {
    // jsdom lays nothing out: give the list a 600 px viewport and let it scroll, so the
    // virtualizer renders only the rows in view, as in a browser.
    scrollTops = new WeakMap();
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockImplementation(function (this: HTMLElement) {
      return this.classList.contains('transcript') ? 600 : 0;
    });
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(800);
    // Every row is 50 px tall once measured.
    vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockImplementation(function (this: HTMLElement) {
      return this.classList.contains('transcript-row') ? 50 : 0;
    });
    vi.spyOn(HTMLElement.prototype, 'scrollHeight', 'get').mockImplementation(function (this: HTMLElement) {
      return parseFloat(this.querySelector<HTMLElement>('.transcript-canvas')?.style.height ?? '0') || 0;
    });
    vi.spyOn(HTMLElement.prototype, 'scrollTop', 'get').mockImplementation(function (this: HTMLElement) {
      return scrollTops.get(this) ?? 0;
    });
    vi.spyOn(HTMLElement.prototype, 'scrollTop', 'set').mockImplementation(function (this: HTMLElement, value: number) {
      scrollTops.set(this, value);
    });
    (Element.prototype as unknown as { scrollTo: (options: ScrollToOptions) => void }).scrollTo = function scrollTo(this: HTMLElement, options: ScrollToOptions) {
      scrollTops.set(this, options.top ?? 0);
      this.dispatchEvent(new Event('scroll'));
    };
    globalThis.ResizeObserver ??= class {
      observe() {}
      unobserve() {}
      disconnect() {}
    } as unknown as typeof ResizeObserver;
    useSearchUi.setState({ open: false, query: '' });
  });
  afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
    useUi.setState({ expanded: {} });
  });

  const NEEDLES = { 10: 'first needle', 50_000: 'a needle, then a Needle', 99_990: 'last needle' };
  const renderRun = () => renderWithClient(<Transcript view={viewOf(bigRun(100_000, NEEDLES))} context={{ runId: 'run-1', readOnly: null }} />, mockClient().client);
  const count = () => screen.getByTestId('transcript-search-count').textContent;
  const currentRow = () => document.querySelector<HTMLElement>('.transcript-row.search-current');

  it('Ctrl+F opens it (also from the prompt box), Enter / Shift+Enter step through "n of 4" and the list moves to each match', async () => {
    renderRun();
    const promptBox = document.createElement('textarea');
    document.body.append(promptBox);
    promptBox.focus();
    const event = new KeyboardEvent('keydown', { key: 'f', ctrlKey: true, bubbles: true, cancelable: true });
    act(() => void promptBox.dispatchEvent(event));
    expect(event.defaultPrevented).toBe(true);
    const input = screen.getByTestId<HTMLInputElement>('transcript-search-input');
    expect(document.activeElement).toBe(input);

    fireEvent.change(input, { target: { value: 'needle' } });
    // Matches in transcript order: item 50,000 holds two.
    const order = ['10', '50000', '50000', '99990'];
    await waitFor(() => expect(count()).toMatch(/^[1-4] of 4$/), { timeout: 10_000 });
    let at = Number(count()!.split(' ')[0]) - 1;
    await waitFor(() => expect(currentRow()?.dataset.index).toBe(order[at]));
    expect(currentRow()?.dataset.searchHit).toBe('true');

    const steps: boolean[] = [false, false, false, false, false, true, true, true];
    for (const backwards of steps) {
      fireEvent.keyDown(input, { key: 'Enter', shiftKey: backwards });
      at = (at + (backwards ? 3 : 1)) % 4;
      expect(count()).toBe(`${at + 1} of 4`);
      // The virtualizer scrolls to the match's item and renders it, marked as the current one.
      await waitFor(() => expect(currentRow()?.dataset.index).toBe(order[at]));
    }
    // The ↑ / ↓ buttons do the same.
    fireEvent.click(screen.getByRole('button', { name: 'Next match' }));
    at = (at + 1) % 4;
    expect(count()).toBe(`${at + 1} of 4`);
    fireEvent.click(screen.getByRole('button', { name: 'Previous match' }));
    at = (at + 3) % 4;
    expect(count()).toBe(`${at + 1} of 4`);
    // Only rendered rows that hold the word are marked.
    const shown = [...document.querySelectorAll<HTMLElement>('[data-testid="transcript-item"]')];
    expect(shown.length).toBeLessThan(100);
    for (const row of shown) expect(row.dataset.searchHit === 'true', row.dataset.index).toBe(order.includes(row.dataset.index!));

    // Esc closes it and gives the focus back to the transcript.
    fireEvent.keyDown(input, { key: 'Escape' });
    expect(screen.queryByTestId('transcript-search')).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId('transcript'));
    expect(document.querySelector('.transcript-row.search-current')).toBeNull();
    promptBox.remove();
  });

  it('says "No results" for a word that is not there, and Enter does nothing', async () => {
    renderRun();
    act(() => useSearchUi.getState().openSearch());
    const input = screen.getByTestId<HTMLInputElement>('transcript-search-input');
    fireEvent.change(input, { target: { value: 'zebra' } });
    await waitFor(() => expect(count()).toBe('No results'), { timeout: 10_000 });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(count()).toBe('No results');
    expect(input.className).toContain('no-results');
  });

  it('Enter right after typing searches at once instead of waiting for the pause', async () => {
    renderRun();
    act(() => useSearchUi.getState().openSearch());
    const input = screen.getByTestId<HTMLInputElement>('transcript-search-input');
    fireEvent.change(input, { target: { value: 'last needle' } });
    expect(count()).toBe('Searching…');
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(count()).toBe('1 of 1');
  });

  it('a match in collapsed tool output opens that output when the search moves to it', async () => {
    const items: TranscriptItem[] = [message(1, 'start'), tool(2, 'Run the suite', `${'line\n'.repeat(20)}FAILED: needle.test.ts\n${'line\n'.repeat(5)}`)];
    renderWithClient(<Transcript view={viewOf(items)} context={{ runId: 'run-1', readOnly: null }} />, mockClient().client);
    act(() => useSearchUi.getState().openSearch());
    fireEvent.change(screen.getByTestId('transcript-search-input'), { target: { value: 'FAILED' } });
    await waitFor(() => expect(count()).toBe('1 of 1'));
    await waitFor(() => expect(useUi.getState().expanded['run-1:tool:2:output']).toBe(true));
    await waitFor(() => expect(screen.getByTestId('output').dataset.open).toBe('true'));
  });

  it('the command palette opens it for the selected run', async () => {
    Element.prototype.scrollIntoView = function scrollIntoView() {};
    const summary = runSummary('run-1', { created: ts, updated: ts, workspace: '/w', agent: { kind: 'builtin', script: 'markdown' }, title: 'Report' });
    useRuns.setState({ runs: [summary], selectedRunId: 'run-1' });
    renderWithClient(
      <>
        <CommandPalette />
        <Transcript view={viewOf(bigRun(50, { 20: 'needle' }))} context={{ runId: 'run-1', readOnly: null }} />
      </>,
      mockClient().client,
    );
    fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    fireEvent.click(screen.getByText(/Find in the transcript/));
    expect(screen.queryByTestId('command-palette')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('transcript-search-input')));
    // Ctrl+F is not taken while a modal dialog is open.
    fireEvent.keyDown(screen.getByTestId('transcript-search-input'), { key: 'Escape' });
    fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    const event = new KeyboardEvent('keydown', { key: 'f', ctrlKey: true, bubbles: true, cancelable: true });
    act(() => void window.dispatchEvent(event));
    expect(event.defaultPrevented).toBe(false);
    expect(screen.queryByTestId('transcript-search')).toBeNull();
  });

  it('the ? overlay lists Ctrl+F', () => {
    renderWithClient(<ShortcutsOverlay />, mockClient().client);
    fireEvent.keyDown(window, { key: '?' });
    expect(screen.getByTestId('shortcuts-overlay').textContent).toMatch(/Ctrl\+F.*Find in the transcript/);
  });
});
