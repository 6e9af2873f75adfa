import { diffLines as jsdiffLines, type ChangeObject } from 'diff';

type Change = ChangeObject<string>;

export type DiffLine =
  | { op: 'same'; text: string; oldNo: number; newNo: number }
  | { op: 'del'; text: string; oldNo: number }
  | { op: 'add'; text: string; newNo: number };

export type DiffRow = DiffLine | { op: 'skip'; count: number };

/**
 * A line diff of two texts, by jsdiff (a maintained Myers diff), with old and new line numbers.
 * A null old text means a new file.
 */
export function diffLines(oldText: string | null, newText: string): DiffLine[] {
  return toLines(jsdiffLines(withFinalNewline(oldText ?? ''), withFinalNewline(newText)));
}

/** How much work a diff may take before it gives up (jsdiff's own limits). */
export interface DiffLimits {
  /** Milliseconds of diffing at most. */
  timeoutMs?: number;
  /** Lines added plus removed at most. */
  maxEditLength?: number;
}

/**
 * The same line diff, bounded: null when jsdiff gave up within the limits (a huge rewrite), so
 * a caller can say so instead of freezing the window.
 */
export function diffLinesWithin(oldText: string | null, newText: string | null, limits: DiffLimits = {}): DiffLine[] | null {
  const changes = jsdiffLines(withFinalNewline(oldText ?? ''), withFinalNewline(newText ?? ''), {
    timeout: limits.timeoutMs ?? 1500,
    maxEditLength: limits.maxEditLength ?? 50_000,
  });
  return changes ? toLines(changes) : null;
}

/**
 * Every old line removed, then every new line added: what a diff that gave up can still show
 * truthfully (a whole-file replacement), without matching lines up.
 */
export function replacementLines(oldText: string | null, newText: string | null): DiffLine[] {
  const out: DiffLine[] = [];
  splitLines(withFinalNewline(oldText ?? '')).forEach((text, i) => out.push({ op: 'del', text, oldNo: i + 1 }));
  splitLines(withFinalNewline(newText ?? '')).forEach((text, i) => out.push({ op: 'add', text, newNo: i + 1 }));
  return out;
}

function toLines(changes: readonly Change[]): DiffLine[] {
  const out: DiffLine[] = [];
  let oldNo = 1;
  let newNo = 1;
  for (const change of changes) {
    for (const text of splitLines(change.value)) {
      if (change.added) out.push({ op: 'add', text, newNo: newNo++ });
      else if (change.removed) out.push({ op: 'del', text, oldNo: oldNo++ });
      else out.push({ op: 'same', text, oldNo: oldNo++, newNo: newNo++ });
    }
  }
  // Deletions before additions within each changed block reads more naturally.
  return groupChanges(out);
}

const splitLines = (text: string) => {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/** A last line without its newline is still the same line: compare texts as complete lines. */
const withFinalNewline = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);

function groupChanges(lines: DiffLine[]): DiffLine[] {
  const out: DiffLine[] = [];
  let dels: DiffLine[] = [];
  let adds: DiffLine[] = [];
  const flush = () => {
    out.push(...dels, ...adds);
    dels = [];
    adds = [];
  };
  for (const line of lines) {
    if (line.op === 'del') dels.push(line);
    else if (line.op === 'add') adds.push(line);
    else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out;
}

/** Unchanged runs longer than 2 x context collapse into a "skip" row. */
export function withContext(lines: DiffLine[], context = 3): DiffRow[] {
  const rows: DiffRow[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.op !== 'same') {
      rows.push(lines[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j]!.op === 'same') j++;
    const run = j - i;
    const keepHead = i === 0 ? 0 : context;
    const keepTail = j === lines.length ? 0 : context;
    if (run > keepHead + keepTail + 1) {
      for (let k = i; k < i + keepHead; k++) rows.push(lines[k]!);
      rows.push({ op: 'skip', count: run - keepHead - keepTail });
      for (let k = j - keepTail; k < j; k++) rows.push(lines[k]!);
    } else {
      for (let k = i; k < j; k++) rows.push(lines[k]!);
    }
    i = j;
  }
  return rows;
}

/** Lines added and removed, for the file header. */
export function diffStats(lines: readonly DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of lines) {
    if (line.op === 'add') added++;
    else if (line.op === 'del') removed++;
  }
  return { added, removed };
}

/** One row of a side-by-side diff: the old line on the left, the new one on the right (either may be blank). */
export type SplitRow =
  | { op: 'skip'; count: number }
  | { op: 'pair'; left: { no: number; text: string; op: 'same' | 'del' } | null; right: { no: number; text: string; op: 'same' | 'add' } | null };

/**
 * Unified rows as side-by-side rows: an unchanged line on both sides; within a changed block,
 * the removed lines face the added ones in order, the longer side leaving blanks opposite.
 */
export function splitRows(rows: readonly DiffRow[]): SplitRow[] {
  const out: SplitRow[] = [];
  let dels: Array<Extract<DiffRow, { op: 'del' }>> = [];
  let adds: Array<Extract<DiffRow, { op: 'add' }>> = [];
  const flush = () => {
    for (let i = 0; i < Math.max(dels.length, adds.length); i++) {
      const del = dels[i];
      const add = adds[i];
      out.push({
        op: 'pair',
        left: del ? { no: del.oldNo, text: del.text, op: 'del' } : null,
        right: add ? { no: add.newNo, text: add.text, op: 'add' } : null,
      });
    }
    dels = [];
    adds = [];
  };
  for (const row of rows) {
    if (row.op === 'del') dels.push(row);
    else if (row.op === 'add') adds.push(row);
    else {
      flush();
      if (row.op === 'skip') out.push(row);
      else out.push({ op: 'pair', left: { no: row.oldNo, text: row.text, op: 'same' }, right: { no: row.newNo, text: row.text, op: 'same' } });
    }
  }
  flush();
  return out;
}
