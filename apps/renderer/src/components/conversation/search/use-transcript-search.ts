import type { TranscriptItem } from '@keel/core/contract';
import { useCallback, useEffect, useRef, useState } from 'react';
import { firstMatchFrom, matchAt, NO_MATCHES, startingMatch, startSearch, type SearchMatches } from './search-index.js';
import { isFindKey, useSearchUi } from './search-ui.js';

/** Quiet time after the last keystroke before searching. */
export const SEARCH_DEBOUNCE_MS = 120;
/** While items stream in, the open search is refreshed at most this often. */
const REFRESH_MS = 300;
/** Longest stretch of searching before the page gets the main thread back. */
const SLICE_MS = 8;

export interface ActiveMatch {
  /** The item's index in the loaded items (the whole transcript's index less `base`). */
  index: number;
  /** Which occurrence within that item. */
  occurrence: number;
}

export interface TranscriptSearch {
  open: boolean;
  query: string;
  matches: SearchMatches;
  /** The whole transcript's index that `matches` count item indexes from (see `base`). */
  matchesBase: number;
  /** Index into matches, -1 when none. */
  current: number;
  active: ActiveMatch | null;
  /** Bumped each time the view should move to the active match (a new search, next, previous). */
  reveal: number;
  /** The query typed is not searched yet. */
  pending: boolean;
  setQuery(query: string): void;
  next(): void;
  previous(): void;
  /** Enter: search now if the query is not searched yet, else go to the next match. */
  enter(backwards: boolean): void;
  close(): void;
}

interface Result {
  matches: SearchMatches;
  /** The whole transcript's index of the first item searched: earlier pages loaded later shift the loaded indexes. */
  base: number;
  current: number;
  reveal: number;
}

/**
 * Search over the transcript's items in the store, not the DOM (rows are virtualized: most are
 * not in it). The search runs in a timer, after the user pauses typing, never during render;
 * while items stream in, an open search is refreshed at most every REFRESH_MS and keeps its
 * place. Ctrl/Cmd+F opens it whenever the conversation is shown, also from the prompt box:
 * the browser's own find cannot see the rows that are not rendered. `base` is the whole
 * transcript's index of `items[0]` (a windowed transcript: earlier items load on top of it).
 */
export function useTranscriptSearch(items: readonly TranscriptItem[], firstVisibleIndex: () => number, base = 0): TranscriptSearch {
  const { open, query, setQuery, openSearch, closeSearch } = useSearchUi();
  const [result, setResult] = useState<Result>({ matches: NO_MATCHES, base: 0, current: -1, reveal: 0 });
  const latest = useRef({ items, query, firstVisibleIndex, base });
  latest.current = { items, query, firstVisibleIndex, base };
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  /** Publishes a finished search: a new query moves to the match nearest the view; a refresh stays put. */
  const settle = useCallback((matches: SearchMatches, base: number, top: number) => {
    setResult((previous) => {
      if (previous.matches.query === matches.query && previous.current !== -1) {
        // The same search over changed items: stay on the same match (the same item, wherever
        // earlier pages put it now), do not move the view.
        const index = previous.matches.items[previous.current]! + previous.base - base;
        const same = matchAt(matches, index, previous.matches.occurrences[previous.current]!);
        const kept = firstMatchFrom(matches, index);
        return { matches, base, current: same !== -1 ? same : kept !== -1 ? kept : matches.kept - 1, reveal: previous.reveal };
      }
      const current = startingMatch(matches, top);
      return { matches, base, current, reveal: current === -1 ? previous.reveal : previous.reveal + 1 };
    });
  }, []);

  /** Searches the latest items for the latest query, a slice at a time; `now` does it in one go. */
  const run = useCallback(
    (now = false) => {
      timer.current = null;
      const { items: current, query: wanted, firstVisibleIndex: top, base } = latest.current;
      const task = startSearch(current, wanted);
      if (now) return settle((task.step(Number.POSITIVE_INFINITY), task.result()), base, top());
      const slice = () => {
        if (task.step(performance.now() + SLICE_MS)) {
          timer.current = null;
          settle(task.result(), base, top());
          // Items that arrived meanwhile get searched too.
          if (latest.current.items !== current) timer.current = setTimeout(() => run(), REFRESH_MS);
        } else timer.current = setTimeout(slice, 0);
      };
      slice();
    },
    [settle],
  );

  const schedule = useCallback(
    (delay: number, restart: boolean) => {
      if (timer.current !== null) {
        if (!restart) return;
        clearTimeout(timer.current);
      }
      timer.current = setTimeout(() => run(), delay);
    },
    [run],
  );

  useEffect(() => {
    if (open) schedule(SEARCH_DEBOUNCE_MS, true);
  }, [open, query, schedule]);
  useEffect(() => {
    if (open && query.trim() !== '') schedule(REFRESH_MS, false);
  }, [items]);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!isFindKey(event) || document.querySelector('[aria-modal="true"]')) return;
      event.preventDefault();
      openSearch();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [openSearch]);

  const step = (by: number) =>
    setResult((previous) => {
      const kept = previous.matches.kept;
      if (kept === 0) return previous;
      const from = previous.current === -1 ? (by > 0 ? -1 : 0) : previous.current;
      return { ...previous, current: (from + by + kept) % kept, reveal: previous.reveal + 1 };
    });

  const { matches, current, reveal } = result;
  const searched = matches.query === query && open;
  const shown = searched ? result : { matches: NO_MATCHES, base, current: -1, reveal };
  // Earlier items loaded since the search ran moved every loaded index by the same amount.
  const shift = shown.base - base;
  const pending = open && !searched && query.trim() !== '';
  return {
    open,
    query,
    matches: shown.matches,
    current: shown.current,
    matchesBase: shown.base,
    active: shown.current === -1 ? null : { index: matches.items[shown.current]! + shift, occurrence: matches.occurrences[shown.current]! },
    reveal,
    pending,
    setQuery,
    next: () => step(1),
    previous: () => step(-1),
    enter(backwards) {
      if (timer.current !== null || pending) {
        if (timer.current !== null) clearTimeout(timer.current);
        run(true);
      } else step(backwards ? -1 : 1);
    },
    close: () => {
      closeSearch();
    },
  };
}
