export type DiffLine =
  | { op: 'same'; text: string; oldNo: number; newNo: number }
  | { op: 'del'; text: string; oldNo: number }
  | { op: 'add'; text: string; newNo: number };

export type DiffRow = DiffLine | { op: 'skip'; count: number };

/** Above this many cells (changed old lines x changed new lines) the diff stops looking for common lines. */
const MAX_CELLS = 2_000_000;

const splitLines = (text: string) => {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/**
 * A line diff of two texts: common prefix and suffix, then a longest-common-subsequence
 * alignment of the middle (when it is small enough; otherwise the middle is shown as removed
 * then added). A null old text means a new file.
 */
export function diffLines(oldText: string | null, newText: string): DiffLine[] {
  const a = splitLines(oldText ?? '');
  const b = splitLines(newText);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: DiffLine[] = [];
  for (let i = 0; i < start; i++) out.push({ op: 'same', text: a[i]!, oldNo: i + 1, newNo: i + 1 });
  const n = endA - start;
  const m = endB - start;
  if (n > 0 && m > 0 && n * m <= MAX_CELLS) {
    // lcs[i][j] = LCS length of a[start+i..endA) and b[start+j..endB), one flat table.
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] = a[start + i] === b[start + j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) {
        out.push({ op: 'same', text: a[start + i]!, oldNo: start + i + 1, newNo: start + j + 1 });
        i++;
        j++;
      } else if (j < m && (i === n || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) {
        out.push({ op: 'add', text: b[start + j]!, newNo: start + j + 1 });
        j++;
      } else {
        out.push({ op: 'del', text: a[start + i]!, oldNo: start + i + 1 });
        i++;
      }
    }
  } else {
    for (let i = start; i < endA; i++) out.push({ op: 'del', text: a[i]!, oldNo: i + 1 });
    for (let j = start; j < endB; j++) out.push({ op: 'add', text: b[j]!, newNo: j + 1 });
  }
  for (let k = 0; k < a.length - endA; k++) out.push({ op: 'same', text: a[endA + k]!, oldNo: endA + k + 1, newNo: endB + k + 1 });
  // Deletions before additions within each changed block reads more naturally.
  return groupChanges(out);
}

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
