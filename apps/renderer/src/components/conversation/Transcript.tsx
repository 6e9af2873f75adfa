import type { RunView, TranscriptItem } from '@keel/core/contract';
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, useState } from 'react';
import { loadEarlierItems, useTranscript } from '../../stores/transcript.js';
import { useUi } from '../../stores/ui.js';
import { itemSeq, TranscriptItemView, type ItemContext } from '../items/TranscriptItemView.js';
import { expandForMatch } from './search/reveal.js';
import { SearchBar } from './search/SearchBar.js';
import { firstMatchOf } from './search/search-index.js';
import { useSearchHighlights } from './search/search-highlights.js';
import { useTranscriptSearch } from './search/use-transcript-search.js';
import { EARLIER_LINE_PX, EarlierItems } from './EarlierItems.js';
import './search/search.css';

/** A first guess per kind; every row is measured once rendered. */
function estimateHeight(item: TranscriptItem | undefined): number {
  switch (item?.kind) {
    case 'turn_end':
    case 'note':
    case 'file_write':
      return 36;
    case 'thought':
      return 44;
    case 'prompt':
      return 72;
    case 'message':
      return Math.min(600, 60 + Math.ceil(item.text.length / 90) * 20);
    case 'approval':
      return 200;
    case 'tool':
    case 'command':
      return 110;
    default:
      return 90;
  }
}

/** Rows rendered beyond the viewport (above and below it). */
const OVERSCAN = 8;
/** The rows wait for the open's scroll to the end at most this long (see `reachedEnd`). */
const ROWS_WITHOUT_SCROLL_MS = 500;
/** Within this many pixels of the bottom counts as "at the bottom": new items keep it there. */
const STICK_PX = 48;
/** Scrolling up to within this many pixels of the top of a windowed transcript loads the page before it. */
const LOAD_EARLIER_PX = 800;

/**
 * The run's transcript, virtualized: only the rows on screen (and a few around them) exist in
 * the DOM, each measured as it renders, so a run of 100,000 events scrolls like a short one.
 * While the view is at the bottom it stays there as items arrive or grow. Ctrl/Cmd+F searches
 * the items (in the store, not the DOM) and moves the list to each match (search/).
 *
 * A long run's transcript is windowed: `view.items` are items `itemsFrom`.. of the whole (the
 * newest, then whatever earlier pages were loaded). A line at the top says how many earlier
 * items there are; scrolling up to it loads them a page at a time. Rows are keyed by their
 * index in the whole transcript, so the virtualizer keeps the row in view where it was when a
 * page is put above it (its `anchorTo: 'end'` anchoring).
 */
export function Transcript({ view, itemsFrom = 0, context }: { view: RunView; itemsFrom?: number; context: ItemContext }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const items = view.items;
  const base = itemsFrom;
  // Stable while the loaded range stays: a new key function makes the virtualizer lay out every loaded item again.
  const getItemKey = useCallback((index: number) => base + index, [base]);
  // No rows until the virtualizer's range has reached the end of the list once (it learns the
  // offset the open's scroll to the end wrote from the scroll event that follows): a pass before
  // that would lay out, and parse the markdown of, the first rows of the window, which the scroll
  // to the end replaces at once. The transcript is keyed by run, so this is once per open. If no
  // scroll event comes (a list that cannot scroll yet), the rows are shown after ROWS_WITHOUT_SCROLL_MS.
  const reachedEnd = useRef(false);
  const [released, setReleased] = useState(false);
  const rangeExtractor = useCallback(
    (range: Range) => {
      if (!reachedEnd.current && !released) {
        if (range.count > 0 && range.endIndex < range.count - 1) return [];
        reachedEnd.current = true;
      }
      return defaultRangeExtractor(range);
    },
    [released],
  );
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => estimateHeight(items[index]),
    getItemKey,
    rangeExtractor,
    overscan: OVERSCAN,
    anchorTo: 'end',
    followOnAppend: true,
    scrollEndThreshold: STICK_PX,
    paddingStart: base > 0 ? 8 + EARLIER_LINE_PX : 8,
    paddingEnd: 16,
    // The virtualizer's own row index (in the loaded items); `data-index` is the whole run's.
    indexAttribute: 'data-row',
  });

  // Open at the bottom, once, when the first items of this run arrive.
  const opened = useRef<string | null>(null);
  useEffect(() => {
    if (items.length > 0 && opened.current !== view.runId) {
      opened.current = view.runId;
      virtualizer.scrollToIndex(items.length - 1, { align: 'end' });
    }
  }, [items.length, view.runId, virtualizer]);
  const hasItems = items.length > 0;
  useEffect(() => {
    if (!hasItems || released) return;
    const timer = setTimeout(() => reachedEnd.current || setReleased(true), ROWS_WITHOUT_SCROLL_MS);
    return () => clearTimeout(timer);
  }, [hasItems, released]);

  // A new turn (a prompt was sent) brings the view back to the end, so the answer streams in
  // sight and is followed again even if the user had scrolled up (e.g. to decide an earlier card).
  const turnSeen = useRef(view.currentTurn);
  useEffect(() => {
    if (view.currentTurn > turnSeen.current && items.length > 0) virtualizer.scrollToIndex(items.length - 1, { align: 'end' });
    turnSeen.current = view.currentTurn;
    // Only a new turn moves the view.
  }, [view.currentTurn]);

  // Scrolled up to the top of a windowed transcript: the page before it loads. Seen in the scroll
  // event itself: the virtualizer's scroll direction is reset ~150 ms after scrolling stops, and a
  // render delayed past that (a busy machine) would never see the move up.
  const earlier = useTranscript((state) => state.earlier);
  const baseNow = useRef(base);
  baseNow.current = base;
  useEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    let previous = element.scrollTop;
    const onScroll = () => {
      const top = element.scrollTop;
      const upward = top < previous;
      previous = top;
      if (upward && top < LOAD_EARLIER_PX && baseNow.current > 0 && useTranscript.getState().earlier === 'idle') void loadEarlierItems();
    };
    element.addEventListener('scroll', onScroll, { passive: true });
    return () => element.removeEventListener('scroll', onScroll);
  }, []);

  // A carry-over reference asked to show an earlier approval: older than the loaded items,
  // earlier pages load until it is there.
  const reveal = useUi((state) => state.reveal);
  const [flash, setFlash] = useState<string | null>(null);
  const revealed = useRef<number | null>(null);
  // A request made before this transcript opened (another run's) loads nothing.
  const openedWith = useRef(reveal?.nonce ?? null);
  useEffect(() => {
    if (!reveal || revealed.current === reveal.nonce) return;
    const index = items.findIndex((item) => item.kind === 'approval' && item.approvalId === reveal.approvalId);
    if (index === -1) {
      if (base > 0 && earlier === 'idle' && reveal.nonce !== openedWith.current) void loadEarlierItems();
      return;
    }
    revealed.current = reveal.nonce;
    virtualizer.scrollToIndex(index, { align: 'center' });
    setFlash(reveal.approvalId);
    // A new reveal request moves the view; loaded earlier pages let a waiting one go on.
  }, [reveal, base, earlier]);
  useEffect(() => {
    if (flash === null) return;
    const timer = setTimeout(() => setFlash(null), 1600);
    return () => clearTimeout(timer);
  }, [flash]);

  // Search: over the items, off the render path; the list moves to the active match. On a
  // windowed transcript the earlier items load while a search is open (closing it stops them).
  const search = useTranscriptSearch(items, () => virtualizer.getVirtualItems()[0]?.index ?? 0, base);
  const { active } = search;
  const searching = search.open && search.query.trim() !== '';
  useEffect(() => {
    if (searching && base > 0 && earlier === 'idle') void loadEarlierItems();
  }, [searching, base, earlier]);
  useEffect(() => {
    if (!active) return;
    const item = items[active.index];
    if (item) expandForMatch(view.runId, item, search.query);
    virtualizer.scrollToIndex(active.index, { align: 'center' });
    // Only a new reveal (a new search, next, previous) moves the view.
  }, [search.reveal]);
  useSearchHighlights(scrollRef, search.open ? search.query : '', active && { ...active, index: base + active.index }, search.reveal);
  const closeSearch = () => {
    search.close();
    scrollRef.current?.focus({ preventScroll: true });
  };

  // From the virtualizer's own numbers: reading the DOM here would force a layout per render.
  const distanceFromEnd = virtualizer.getTotalSize() - (virtualizer.scrollOffset ?? 0) - (virtualizer.scrollRect?.height ?? 0);
  const atEnd = items.length === 0 || distanceFromEnd <= STICK_PX * 2;
  const rows = virtualizer.getVirtualItems();

  return (
    <div className="transcript-wrap">
      <div ref={scrollRef} className="transcript" data-testid="transcript" data-count={base + items.length} data-from={base} tabIndex={-1}>
        {items.length === 0 && <p className="muted transcript-empty">Nothing here yet. Send a prompt to start the agent.</p>}
        <div className="transcript-canvas" style={{ height: virtualizer.getTotalSize() }}>
          {base > 0 && <EarlierItems count={base} />}
          {rows.map((row) => {
            const item = items[row.index]!;
            const hit = search.matches.kept > 0 && firstMatchOf(search.matches, base + row.index - search.matchesBase) !== -1;
            return (
              <div
                key={row.key}
                ref={virtualizer.measureElement}
                data-row={row.index}
                data-index={base + row.index}
                data-testid="transcript-item"
                data-kind={item.kind}
                data-seq={itemSeq(item)}
                data-search-hit={hit || undefined}
                className={`transcript-row${flash && item.kind === 'approval' && item.approvalId === flash ? ' flash' : ''}${active?.index === row.index ? ' search-current' : ''}`}
                style={{ transform: `translateY(${row.start}px)` }}
              >
                <TranscriptItemView item={item} context={context} />
              </div>
            );
          })}
        </div>
      </div>
      {search.open && <SearchBar search={search} notSearched={searching ? base : 0} onClose={closeSearch} />}
      {!atEnd && (
        <button type="button" className="jump-latest" onClick={() => virtualizer.scrollToEnd()} data-testid="transcript-latest">
          ↓ Latest
        </button>
      )}
    </div>
  );
}
