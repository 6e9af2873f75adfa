import { create } from 'zustand';

const SIDE_KEY = 'keel.sidePane';

/** Below this window width the side pane starts hidden (the conversation needs the room). */
export const SIDE_PANE_MIN_WINDOW = 1200;

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** The remembered choice, or the default for this window width. */
export function initialSideOpen(width = globalThis.innerWidth ?? 1440, stored = storage()?.getItem(SIDE_KEY) ?? null): boolean {
  if (stored === 'open') return true;
  if (stored === 'closed') return false;
  return width >= SIDE_PANE_MIN_WINDOW;
}

/** The side pane's first tab, selected until someone picks another. */
export const DEFAULT_SIDE_TAB = 'reliability';

interface LayoutState {
  sideOpen: boolean;
  setSideOpen(open: boolean): void;
  /** The side pane's selected tab (a SidePane VIEWS id). */
  sideTab: string;
  setSideTab(id: string): void;
  /** Shows one side view: the pane opened (remembered, as the toggle does) on that tab. */
  showSideView(id: string): void;
}

/** The right pane shown or hidden, remembered across reloads, and the tab it shows. */
export const useLayout = create<LayoutState>((set) => ({
  sideOpen: initialSideOpen(),
  setSideOpen: (sideOpen) => {
    storage()?.setItem(SIDE_KEY, sideOpen ? 'open' : 'closed');
    set({ sideOpen });
  },
  sideTab: DEFAULT_SIDE_TAB,
  setSideTab: (sideTab) => set({ sideTab }),
  showSideView: (sideTab) => {
    storage()?.setItem(SIDE_KEY, 'open');
    set({ sideOpen: true, sideTab });
  },
}));
