import { create } from 'zustand';

/**
 * Whether the transcript's search bar is open and what it looks for. A store (not component
 * state) so the command palette can open it, and the query survives closing and reopening, as
 * in a browser's find bar.
 */
interface SearchUiState {
  open: boolean;
  query: string;
  /** Bumped on every open request: the bar focuses (and selects) its field again. */
  focusRequest: number;
  openSearch(): void;
  closeSearch(): void;
  setQuery(query: string): void;
}

export const useSearchUi = create<SearchUiState>((set) => ({
  open: false,
  query: '',
  focusRequest: 0,
  openSearch: () => set((state) => ({ open: true, focusRequest: state.focusRequest + 1 })),
  closeSearch: () => set({ open: false }),
  setQuery: (query) => set({ query }),
}));

/** Ctrl+F (⌘F on a Mac), without other modifiers. */
export const isFindKey = (event: KeyboardEvent) => (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'f';
