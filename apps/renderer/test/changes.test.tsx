// @vitest-environment jsdom
// The changes view (issue 15, point 19) against the contract client (answers from a stand-in):
// the file list with counts and status, the chosen file's diff unified or side by side (the
// choice remembered), the range selector, and the empty, too-large and error states in plain words.
import { KeelRpcError, RunChangeFile, RunChanges, type ChangesCheckpoint, type RunChangedFile, type RunView } from '@keel/core/contract';
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChangesView } from '../src/components/changes/ChangesView.js';
import { rangeOptions } from '../src/components/changes/changes-range.js';
import { diffLinesWithin, replacementLines, splitRows, withContext } from '../src/lib/diff.js';
import { useRuns } from '../src/stores/runs.js';
import { useTranscript } from '../src/stores/transcript.js';
import { mockClient, renderWithClient } from './helpers.js';

const C = 'c'.repeat(40);
const checkpoints: ChangesCheckpoint[] = [0, 1, 2].map((turn) => ({ turn, commit: C, createdAt: null }));

const file = (path: string, status: RunChangedFile['status'], added: number | null, removed: number | null, extra: Partial<RunChangedFile> = {}): RunChangedFile => ({
  path,
  oldPath: null,
  status,
  added,
  removed,
  binary: added === null,
  similarity: null,
  oldKind: status === 'added' ? null : 'file',
  newKind: status === 'deleted' ? null : 'file',
  ...extra,
});

const summary = (files: RunChangedFile[], extra: Partial<RunChanges> = {}): RunChanges =>
  RunChanges.parse({
    runId: 'run-1',
    checkpoints,
    from: 0,
    to: 2,
    files,
    truncated: false,
    totals: { files: files.length, added: files.reduce((sum, f) => sum + (f.added ?? 0), 0), removed: files.reduce((sum, f) => sum + (f.removed ?? 0), 0) },
    note: null,
    durationMs: 3,
    ...extra,
  });

const FILES = [
  file('hello.txt', 'added', 1, 0),
  file('src/app.ts', 'modified', 2, 1),
  file('docs/manual.md', 'renamed', 1, 0, { oldPath: 'docs/guide.md', similarity: 97 }),
  file('logo.png', 'modified', null, null),
];

const side = (text: string | null, extra: Partial<NonNullable<RunChangeFile['old']>> = {}) => ({ size: text?.length ?? 0, kind: 'file' as const, text, omitted: null, ...extra });

function contentOf(path: string): RunChangeFile {
  const base = { path, oldPath: null, status: 'modified' as const, from: 0, to: 2, maxBytes: 1024 * 1024 };
  if (path === 'hello.txt') return RunChangeFile.parse({ ...base, status: 'added', old: null, new: side('Hello\n') });
  if (path === 'src/app.ts') return RunChangeFile.parse({ ...base, old: side('export const app = 1;\nkeep\n'), new: side('export const app = 3;\nkeep\nmore\n') });
  if (path === 'logo.png') return RunChangeFile.parse({ ...base, old: side(null, { size: 8, omitted: 'binary' }), new: side(null, { size: 9, omitted: 'binary' }) });
  return RunChangeFile.parse({ ...base, old: side(null, { size: 3 * 1024 * 1024, omitted: 'too_large' }), new: side(null, { size: 2 * 1024 * 1024, omitted: 'too_large' }) });
}

beforeEach(() => {
  localStorage.clear();
  act(() => useRuns.setState({ selectedRunId: 'run-1' }));
});
afterEach(() => {
  cleanup();
  act(() => useRuns.setState({ selectedRunId: null }));
});

describe('the changes view', () => {
  it('lists the files with status and counts, shows the first diff unified, and remembers side by side', async () => {
    const calls: unknown[] = [];
    const { client } = mockClient({
      'run.changes': (input) => {
        calls.push(input);
        return summary(FILES);
      },
      'run.changeFile': (input: { path: string }) => contentOf(input.path),
    });
    const view = renderWithClient(<ChangesView />, client);
    const rows = await screen.findAllByTestId('changes-file');
    expect(rows.map((row) => row.getAttribute('data-path'))).toEqual(['hello.txt', 'src/app.ts', 'docs/manual.md', 'logo.png']);
    expect(rows[1]!.textContent).toContain('+2');
    expect(rows[1]!.textContent).toContain('−1');
    expect(rows[2]!.textContent).toContain('docs/guide.md → docs/manual.md');
    expect(rows[3]!.textContent).toContain('binary');
    expect(screen.getByTestId('changes-summary').textContent).toBe('4 files changed · +4 −1');
    expect(calls).toEqual([{ runId: 'run-1' }]);

    // The first file is open: an added file, every line added.
    const first = await screen.findByTestId('changes-diff-table');
    expect(first.getAttribute('data-layout')).toBe('unified');
    expect(first.textContent).toContain('Hello');

    fireEvent.click(rows[1]!);
    await waitFor(() => expect(screen.getByTestId('changes-diff-table').textContent).toContain('export const app = 3;'));
    const unified = screen.getByTestId('changes-diff-table');
    expect(unified.querySelectorAll('.chg-row.del')).toHaveLength(1);
    expect(unified.querySelectorAll('.chg-row.add')).toHaveLength(2);

    fireEvent.click(screen.getByTestId('changes-split'));
    const split = screen.getByTestId('changes-diff-table');
    expect(split.getAttribute('data-layout')).toBe('split');
    // Side by side: the removed line faces the added one; "more" has a blank opposite.
    const pairs = [...split.querySelectorAll('.chg-row.pair')].map((row) => [...row.querySelectorAll('.chg-text')].map((cell) => cell.textContent));
    expect(pairs).toEqual([
      ['export const app = 1;', 'export const app = 3;'],
      ['keep', 'keep'],
      ['', 'more'],
    ]);
    expect(localStorage.getItem('keel.changes.layout')).toBe('split');

    // Remembered: a new view opens side by side.
    view.unmount();
    renderWithClient(<ChangesView />, client);
    expect((await screen.findByTestId('changes-diff-table')).getAttribute('data-layout')).toBe('split');
  });

  it('says why a file has no text diff: binary, or too large with its size', async () => {
    const { client } = mockClient({ 'run.changes': () => summary(FILES), 'run.changeFile': (input: { path: string }) => contentOf(input.path) });
    renderWithClient(<ChangesView />, client);
    const rows = await screen.findAllByTestId('changes-file');
    fireEvent.click(rows[3]!);
    expect((await screen.findByTestId('changes-file-note')).textContent).toBe('Before: a binary file of 8 bytes; no text diff.After: a binary file of 9 bytes; no text diff.');
    fireEvent.click(rows[2]!);
    await waitFor(() => expect(screen.getByTestId('changes-file-note').textContent).toContain('Before: too large to show (3.0 MiB; the limit is 1.0 MiB).'));
  });

  it('offers the whole run, up to now, and each turn; choosing a turn asks for that range', async () => {
    const calls: Array<Record<string, unknown>> = [];
    const { client } = mockClient({
      'run.changes': (input) => {
        calls.push(input);
        return input.to === 2 && input.from === 1 ? summary([FILES[1]!], { from: 1 }) : summary(FILES);
      },
      'run.changeFile': (input: { path: string }) => contentOf(input.path),
    });
    renderWithClient(<ChangesView />, client);
    await screen.findAllByTestId('changes-file');
    const select = screen.getByTestId('changes-range') as HTMLSelectElement;
    expect([...select.options].map((option) => option.textContent)).toEqual(['Whole run (baseline → turn 2)', 'Whole run, up to now (files as they are)', 'Turn 2', 'Turn 1']);
    fireEvent.change(select, { target: { value: 'turn:2' } });
    await waitFor(() => expect(screen.getAllByTestId('changes-file')).toHaveLength(1));
    fireEvent.change(select, { target: { value: 'now' } });
    await waitFor(() => expect(calls.at(-1)).toEqual({ runId: 'run-1', to: 'now' }));
    expect(calls).toContainEqual({ runId: 'run-1', from: 1, to: 2 });
  });

  it('shows "No changes yet" with the reason, and a failure in plain words', async () => {
    const empty = mockClient({ 'run.changes': () => summary([], { checkpoints: [], from: null, to: null, note: 'This run has no checkpoint yet: the first one is taken before its first turn.' }) });
    renderWithClient(<ChangesView />, empty.client);
    const state = await screen.findByTestId('changes-empty');
    expect(within(state).getByText('No changes yet.')).toBeTruthy();
    expect(state.textContent).toContain('no checkpoint yet');
    cleanup();

    const failing = mockClient({
      'run.changes': () => {
        throw new KeelRpcError('not_found', 'This run has no checkpoint for turn 7: it was skipped or not taken yet.');
      },
    });
    renderWithClient(<ChangesView />, failing.client);
    expect((await screen.findByTestId('changes-error')).textContent).toBe('The changes could not be read: This run has no checkpoint for turn 7: it was skipped or not taken yet.');
  });

  it('draws a long diff a page at a time', async () => {
    const big = Array.from({ length: 1600 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const { client } = mockClient({
      'run.changes': () => summary([file('big.txt', 'added', 1600, 0)]),
      'run.changeFile': () => RunChangeFile.parse({ path: 'big.txt', oldPath: null, status: 'added', from: 0, to: 2, old: null, new: side(big), maxBytes: 1024 * 1024 }),
    });
    renderWithClient(<ChangesView />, client);
    const table = await screen.findByTestId('changes-diff-table');
    expect(table.querySelectorAll('.chg-row')).toHaveLength(1500);
    expect(screen.getByTestId('changes-show-more').textContent).toBe('Show the last 100 lines');
    fireEvent.click(screen.getByTestId('changes-show-more'));
    expect(table.querySelectorAll('.chg-row')).toHaveLength(1600);
    expect(screen.queryByTestId('changes-show-more')).toBeNull();
  });
});

describe('the changes view, following the run', () => {
  it('reads the changes again when a checkpoint is taken, and keeps the chosen file', async () => {
    let answers = 0;
    const { client } = mockClient({
      'run.changes': () => (++answers === 1 ? summary([FILES[1]!]) : summary([FILES[0]!, FILES[1]!])),
      'run.changeFile': (input: { path: string }) => contentOf(input.path),
    });
    const item = (turn: number) => ({ kind: 'checkpoint', event: 'created', turn }) as unknown as RunView['items'][number];
    act(() => useTranscript.setState({ runId: 'run-1', view: { items: [item(0), item(1)], turnOpen: false } as unknown as RunView }));
    renderWithClient(<ChangesView />, client);
    await waitFor(() => expect(screen.getAllByTestId('changes-file')).toHaveLength(1));
    act(() => useTranscript.setState({ view: { items: [item(0), item(1), item(2)], turnOpen: false } as unknown as RunView }));
    await waitFor(() => expect(screen.getAllByTestId('changes-file')).toHaveLength(2));
    expect(answers).toBe(2);
    expect(screen.getByRole('button', { pressed: true, name: /src\/app\.ts/ })).toBeTruthy();
    act(() => useTranscript.setState({ runId: null, view: null }));
  });
});

describe('diff helpers', () => {
  it('pairs removed and added lines side by side, keeping skips', () => {
    const old = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
    const rows = withContext(diffLinesWithin(old, old.replace('l10', 'L10').replace('l19', 'L19\nextra'))!);
    const split = splitRows(rows);
    expect(split[0]).toEqual({ op: 'skip', count: 7 });
    const changed = split.filter((row) => row.op === 'pair' && row.left?.op !== 'same');
    expect(changed).toEqual([
      { op: 'pair', left: { no: 11, text: 'l10', op: 'del' }, right: { no: 11, text: 'L10', op: 'add' } },
      { op: 'pair', left: { no: 20, text: 'l19', op: 'del' }, right: { no: 20, text: 'L19', op: 'add' } },
      { op: 'pair', left: null, right: { no: 21, text: 'extra', op: 'add' } },
    ]);
  });

  it('gives up on a diff over its limits instead of freezing; the replacement shows every line', () => {
    const a = Array.from({ length: 300 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 300 }, (_, i) => `b${i}`).join('\n');
    expect(diffLinesWithin(a, b, { maxEditLength: 100 })).toBeNull();
    expect(diffLinesWithin(a, b)).toHaveLength(600);
    const replaced = replacementLines(a, b);
    expect(replaced.filter((line) => line.op === 'del')).toHaveLength(300);
    expect(replaced.at(-1)).toEqual({ op: 'add', text: 'b299', newNo: 300 });
  });

  it('names each turn against the checkpoint before it, a skipped turn included', () => {
    const options = rangeOptions([0, 1, 3].map((turn) => ({ turn, commit: C, createdAt: null })));
    expect(options.map((option) => [option.label, option.from, option.to])).toEqual([
      ['Whole run (baseline → turn 3)', undefined, undefined],
      ['Whole run, up to now (files as they are)', undefined, 'now'],
      ['Turn 3 (since turn 1)', 1, 3],
      ['Turn 1', 0, 1],
    ]);
  });
});
