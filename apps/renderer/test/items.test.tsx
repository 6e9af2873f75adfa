// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDiff } from '../src/components/items/DiffView.js';
import { MARKDOWN_LIMIT, Markdown } from '../src/components/items/Markdown.js';
import { RecoveryCard, TurnEndLine } from '../src/components/items/StatusItems.js';
import { ThoughtCard } from '../src/components/items/TextItems.js';
import { diffLines, withContext } from '../src/lib/diff.js';
import { mockClient, renderWithClient } from './helpers.js';

afterEach(cleanup);

describe('agent messages', () => {
  it('render markdown but never raw HTML', () => {
    const { container } = renderWithClient(<Markdown stateKey="m" text={'**bold** and <img src=x onerror="alert(1)"><script>alert(2)</script> [link](javascript:alert(3))'} />, mockClient().client);
    expect(container.querySelector('strong')?.textContent).toBe('bold');
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(container.textContent).toContain('<img src=x');
    // An unsafe target loses its link; a safe one opens outside the app.
    expect(container.querySelector('a')).toBeNull();
    expect(container.querySelector('.md-dead-link')?.textContent).toBe('link');
    cleanup();
    const safe = renderWithClient(<Markdown stateKey="m" text="[docs](https://example.com/docs)" />, mockClient().client);
    expect(safe.container.querySelector('a')?.getAttribute('rel')).toBe('noopener noreferrer');
    expect(safe.container.querySelector('a')?.getAttribute('target')).toBe('_blank');
  });

  it('images are never fetched: a link stands in', () => {
    const { container } = renderWithClient(<Markdown stateKey="m" text="![a chart](https://example.com/chart.png)" />, mockClient().client);
    expect(container.querySelector('img')).toBeNull();
    expect(container.textContent).toContain('[image: a chart]');
  });

  it('a very long message shows its end as plain text until asked for all of it', () => {
    const text = 'x'.repeat(MARKDOWN_LIMIT) + 'THE END';
    const { container } = renderWithClient(<Markdown stateKey="long" text={`START${text}`} />, mockClient().client);
    expect(container.textContent).toContain('THE END');
    expect(container.textContent).not.toContain('START');
    fireEvent.click(screen.getByRole('button', { name: /show all/ }));
    expect(container.textContent).toContain('START');
  });
});

describe('thoughts', () => {
  it('are collapsed to one line by default and expand on click', () => {
    const item = { kind: 'thought' as const, firstSeq: 3, lastSeq: 5, ts: '2025-01-01T00:00:00.000Z', turn: 1, generation: 1, text: 'First I read the file.\nThen I edit it.', chunks: 3 };
    renderWithClient(<ThoughtCard item={item} stateKey="t1" />, mockClient().client);
    const thought = screen.getByTestId('thought');
    expect(thought.dataset.open).toBe('false');
    expect(thought.querySelector('.thought-text')).toBeNull();
    fireEvent.click(screen.getByRole('button', { expanded: false }));
    expect(screen.getByTestId('thought').dataset.open).toBe('true');
    expect(screen.getByTestId('thought').querySelector('.thought-text')?.textContent).toBe(item.text);
  });
});

describe('diffs', () => {
  it('align changed lines between common ones', () => {
    const lines = diffLines('a\nb\nc\nd\n', 'a\nB\nc\nd\ne\n');
    expect(lines.map((line) => `${line.op}:${line.text}`)).toEqual(['same:a', 'del:b', 'add:B', 'same:c', 'same:d', 'add:e']);
  });

  it('a new file is all additions; long unchanged runs collapse', () => {
    expect(diffLines(null, 'x\ny').map((line) => line.op)).toEqual(['add', 'add']);
    const old = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const rows = withContext(diffLines(old, old.replace('line 15', 'LINE 15')));
    expect(rows.filter((row) => row.op === 'skip')).toHaveLength(2);
    expect(rows.filter((row) => row.op !== 'skip' && row.op !== 'same')).toHaveLength(2);
  });

  it('render per file with counts', () => {
    renderWithClient(<FileDiff stateKey="d" diff={{ path: 'src/a.ts', oldText: 'a\nb\n', newText: 'a\nc\n', seq: 4 }} />, mockClient().client);
    const diff = screen.getByTestId('file-diff');
    expect(diff.textContent).toContain('src/a.ts');
    expect(diff.textContent).toContain('+1');
    expect(diff.textContent).toContain('−1');
    expect(diff.querySelectorAll('.diff-row.add')).toHaveLength(1);
    expect(diff.querySelectorAll('.diff-row.del')).toHaveLength(1);
  });
});

describe('status items', () => {
  it('a turn end shows the registry diagnosis for a stop that needs one', () => {
    renderWithClient(<TurnEndLine item={{ kind: 'turn_end', seq: 9, ts: '2025-01-01T00:00:00.000Z', turn: 2, stopReason: 'max_tokens' }} />, mockClient().client);
    expect(document.body.textContent).toContain('The agent reached its output token limit; ask it to continue.');
  });

  it('a recovery card shows the fold’s text, and the restart button only when offered', () => {
    const item = { kind: 'recovery' as const, seq: 20, ts: '2025-01-01T00:00:00.000Z', recovery: 'session' as const, generation: 2, text: 'Session restored (session/load).', outcome: 'restored', detail: null };
    renderWithClient(<RecoveryCard item={item} stateKey="r" onRestart={() => {}} />, mockClient().client);
    const card = screen.getByTestId('recovery-card');
    expect(card.dataset.recovery).toBe('session');
    expect(card.textContent).toContain('Session restored (session/load).');
    expect(screen.queryByTestId('recovery-restart')).toBeNull();
  });
});
