import type { TranscriptItem } from '@keel/core/contract';

/**
 * The texts of an item that transcript search looks in, in the order its card shows them:
 * what it says in words (message and prompt text, tool titles and output, commands and their
 * output, notes, …), never structural fields (ids, seqs, timestamps).
 */
export function searchableFields(item: TranscriptItem): readonly string[] {
  switch (item.kind) {
    case 'prompt':
    case 'message':
    case 'thought':
    case 'note':
      return [item.text];
    case 'tool':
      return [item.title, item.output, ...item.diffs.map((diff) => diff.path)];
    case 'command':
      return [[item.command, ...item.args].join(' '), item.output];
    case 'approval':
      return item.note ? [item.actionKey, item.reason, item.note] : [item.actionKey, item.reason];
    case 'recovery':
      return item.detail ? [item.text, item.detail] : [item.text];
    case 'checkpoint':
      return [item.text, ...item.files.map((file) => file.path)];
    case 'file_write':
      return [item.path];
    case 'repair':
      return [item.reason];
    default:
      return [];
  }
}

export const searchableText = (item: TranscriptItem): string => searchableFields(item).join('\n');

/** Matches kept for stepping through; the count goes on past it. */
export const MAX_MATCHES = 50_000;

/**
 * Every occurrence of the query in the items, in transcript order: occurrence `n` of item
 * `items[k]` is match `k`'s place. Parallel arrays keep a search with many hits compact.
 */
export interface SearchMatches {
  query: string;
  /** Item index of each kept match. */
  items: Int32Array;
  /** Which occurrence within its item (0-based) each kept match is. */
  occurrences: Int32Array;
  /** Matches kept (at most MAX_MATCHES). */
  kept: number;
  /** All matches, kept or not. */
  total: number;
}

export const NO_MATCHES: SearchMatches = { query: '', items: new Int32Array(0), occurrences: new Int32Array(0), kept: 0, total: 0 };

/** A search in progress, advanced in slices so a long transcript never blocks the page. */
export interface SearchTask {
  /** Scans on until `deadline` (a performance.now() time); true once every item is scanned. */
  step(deadline: number): boolean;
  result(): SearchMatches;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Case-insensitive, non-overlapping, literal. An empty (or blank) query matches nothing.
 * A case-insensitive regular expression over the items' own strings: no lower-cased copies
 * to build or keep.
 */
export function startSearch(items: readonly TranscriptItem[], query: string): SearchTask {
  const blank = query.trim() === '';
  const pattern = new RegExp(escapeRegExp(query), 'gi');
  let capacity = 64;
  let at = new Int32Array(capacity);
  let nth = new Int32Array(capacity);
  let kept = 0;
  let total = 0;
  let next = blank ? items.length : 0;
  const keep = (index: number, occurrence: number) => {
    if (kept === capacity) {
      capacity = Math.min(capacity * 2, MAX_MATCHES);
      const grownAt = new Int32Array(capacity);
      grownAt.set(at);
      at = grownAt;
      const grownNth = new Int32Array(capacity);
      grownNth.set(nth);
      nth = grownNth;
    }
    at[kept] = index;
    nth[kept] = occurrence;
    kept++;
  };
  return {
    step(deadline) {
      while (next < items.length) {
        // Check the clock every 256 items, not on each.
        const stop = Math.min(items.length, next + 256);
        for (; next < stop; next++) {
          let occurrence = 0;
          for (const text of searchableFields(items[next]!)) {
            pattern.lastIndex = 0;
            while (pattern.exec(text) !== null) {
              total++;
              if (kept < MAX_MATCHES) keep(next, occurrence);
              occurrence++;
            }
          }
        }
        if (next < items.length && performance.now() >= deadline) return false;
      }
      return true;
    },
    result: () => ({ query, items: at.subarray(0, kept), occurrences: nth.subarray(0, kept), kept, total }),
  };
}

/** The whole search at once (tests, and Enter pressed before the pause). */
export function findMatches(items: readonly TranscriptItem[], query: string): SearchMatches {
  const task = startSearch(items, query);
  task.step(Number.POSITIVE_INFINITY);
  return task.result();
}

/** The kept match for (item, occurrence), or -1. */
export function matchAt(matches: SearchMatches, index: number, occurrence: number): number {
  const first = firstMatchOf(matches, index);
  if (first === -1) return -1;
  const found = first + occurrence;
  return found < matches.kept && matches.items[found] === index && matches.occurrences[found] === occurrence ? found : -1;
}

/** The first kept match in item `index` or a later item, or -1 (binary search: matches are in order). */
export function firstMatchFrom(matches: SearchMatches, index: number): number {
  let low = 0;
  let high = matches.kept;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (matches.items[mid]! < index) low = mid + 1;
    else high = mid;
  }
  return low < matches.kept ? low : -1;
}

/** The first kept match in item `index` itself, or -1. */
export function firstMatchOf(matches: SearchMatches, index: number): number {
  const found = firstMatchFrom(matches, index);
  return found !== -1 && matches.items[found] === index ? found : -1;
}

/**
 * Where a new search starts: the first match at or below the top of the view, else the last
 * match above it — the one nearest to what the user is looking at.
 */
export function startingMatch(matches: SearchMatches, firstVisibleIndex: number): number {
  if (matches.kept === 0) return -1;
  const below = firstMatchFrom(matches, firstVisibleIndex);
  return below !== -1 ? below : matches.kept - 1;
}

/** "3 of 12", "No results", "1 of 50,000+". */
export function describeCount(matches: SearchMatches, current: number): string {
  if (matches.total === 0) return 'No results';
  const of = matches.total > matches.kept ? `${matches.kept.toLocaleString()}+` : matches.total.toLocaleString();
  return `${current === -1 ? 0 : (current + 1).toLocaleString()} of ${of}`;
}
