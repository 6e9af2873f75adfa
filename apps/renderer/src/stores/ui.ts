import { create } from 'zustand';

/**
 * View-only state no event carries: which transcript parts are expanded, whether the new-run
 * dialog is open, and an approval the transcript should scroll to. Keyed by run + item so a
 * virtualized item that scrolls out and back keeps its state.
 */
interface UiState {
  expanded: Record<string, boolean>;
  newRunOpen: boolean;
  /** An approval id to bring into view (a carry-over's reference); consumed by the transcript. */
  reveal: { approvalId: string; nonce: number } | null;
  setExpanded(key: string, open: boolean): void;
  setNewRunOpen(open: boolean): void;
  revealApproval(approvalId: string): void;
}

export const useUi = create<UiState>((set) => ({
  expanded: {},
  newRunOpen: false,
  reveal: null,
  setExpanded: (key, open) => set((state) => ({ expanded: { ...state.expanded, [key]: open } })),
  setNewRunOpen: (newRunOpen) => set({ newRunOpen }),
  revealApproval: (approvalId) => set((state) => ({ reveal: { approvalId, nonce: (state.reveal?.nonce ?? 0) + 1 } })),
}));

/** Expanded state of one part of one item, with a default. */
export function useExpanded(key: string, byDefault = false): [boolean, (open: boolean) => void] {
  const value = useUi((state) => state.expanded[key]);
  const setExpanded = useUi((state) => state.setExpanded);
  return [value ?? byDefault, (open: boolean) => setExpanded(key, open)];
}
