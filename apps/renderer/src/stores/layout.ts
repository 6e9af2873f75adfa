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

interface LayoutState {
  sideOpen: boolean;
  setSideOpen(open: boolean): void;
}

/** The right pane shown or hidden, remembered across reloads. */
export const useLayout = create<LayoutState>((set) => ({
  sideOpen: initialSideOpen(),
  setSideOpen: (sideOpen) => {
    storage()?.setItem(SIDE_KEY, sideOpen ? 'open' : 'closed');
    set({ sideOpen });
  },
}));
