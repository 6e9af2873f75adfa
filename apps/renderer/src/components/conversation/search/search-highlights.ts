import { useEffect, useRef, type RefObject } from 'react';
import type { ActiveMatch } from './use-transcript-search.js';

const ALL = 'keel-search';
const CURRENT = 'keel-search-current';

type HighlightRegistry = { set(name: string, value: unknown): void; delete(name: string): void };
type HighlightConstructor = new (...ranges: Range[]) => unknown;

/** The CSS Custom Highlight API, where the browser has it (Chromium does; jsdom does not). */
function highlightApi(): { registry: HighlightRegistry; Highlight: HighlightConstructor } | null {
  const registry = (globalThis.CSS as unknown as { highlights?: HighlightRegistry } | undefined)?.highlights;
  const Highlight = (globalThis as unknown as { Highlight?: HighlightConstructor }).Highlight;
  return registry && Highlight ? { registry, Highlight } : null;
}

/** Every case-insensitive occurrence of `needle` in the text under `root`, in document order. */
export function rangesIn(root: Node, needle: string): Range[] {
  const ranges: Range[] = [];
  const doc = root.ownerDocument ?? document;
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = (node.nodeValue ?? '').toLowerCase();
    if (text.length !== (node.nodeValue ?? '').length) continue; // lower-casing changed offsets: skip rather than mark the wrong letters
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
      const range = doc.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + needle.length);
      ranges.push(range);
    }
  }
  return ranges;
}

/**
 * Marks the query in the rows on screen (CSS highlights: no DOM changes, so React's tree is
 * untouched) and the active match in a stronger colour. The active match's row is scrolled to
 * by the caller; once that row is rendered, a match still outside the view (in a tall row) is
 * brought into it, once per `reveal`. Repaints after every render and on DOM changes under
 * the list (a row expanding, a code block being coloured).
 */
export function useSearchHighlights(scrollRef: RefObject<HTMLElement | null>, query: string, active: ActiveMatch | null, reveal: number) {
  const revealed = useRef(reveal);
  const paint = useRef<() => void>(() => {});
  paint.current = () => {
    const api = highlightApi();
    const root = scrollRef.current;
    const needle = query.toLowerCase();
    if (!root || needle.trim() === '') {
      api?.registry.delete(ALL);
      api?.registry.delete(CURRENT);
      return;
    }
    let current: Range | null = null;
    const all: Range[] = [];
    for (const row of root.querySelectorAll<HTMLElement>('[data-index]')) {
      const ranges = rangesIn(row, needle);
      all.push(...ranges);
      if (active && Number(row.dataset.index) === active.index) {
        current = ranges[Math.min(active.occurrence, ranges.length - 1)] ?? null;
        if (revealed.current !== reveal) {
          revealed.current = reveal;
          if (current) bringIntoView(root, current);
        }
      }
    }
    if (api) {
      api.registry.set(ALL, new api.Highlight(...all));
      if (current) api.registry.set(CURRENT, new api.Highlight(current));
      else api.registry.delete(CURRENT);
    }
  };

  useEffect(() => paint.current());
  useEffect(() => {
    const root = scrollRef.current;
    if (!root || typeof MutationObserver === 'undefined') return;
    let frame: number | null = null;
    const observer = new MutationObserver(() => {
      if (frame !== null) return;
      frame = requestAnimationFrame(() => {
        frame = null;
        paint.current();
      });
    });
    observer.observe(root, { childList: true, subtree: true, characterData: true });
    return () => {
      observer.disconnect();
      if (frame !== null) cancelAnimationFrame(frame);
      const api = highlightApi();
      api?.registry.delete(ALL);
      api?.registry.delete(CURRENT);
    };
  }, [scrollRef]);
}

/** Scrolls `root` so `range` sits in its middle third, if it is not in view already. */
function bringIntoView(root: HTMLElement, range: Range) {
  if (typeof range.getBoundingClientRect !== 'function') return; // no layout (jsdom)
  const box = range.getBoundingClientRect();
  const view = root.getBoundingClientRect();
  if (view.height === 0) return;
  if (box.top >= view.top + 24 && box.bottom <= view.bottom - 24) return;
  root.scrollTop += box.top - view.top - view.height / 3;
}
