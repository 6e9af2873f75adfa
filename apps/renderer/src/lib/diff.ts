import { diffLines as jsdiffLines } from 'diff';

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
  const out: DiffLine[] = [];
  let oldNo = 1;
  let newNo = 1;
  for (const change of jsdiffLines(withFinalNewline(oldText ?? ''), withFinalNewline(newText))) {
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
