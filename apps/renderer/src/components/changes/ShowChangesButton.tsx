import { useLayout } from '../../stores/layout.js';

/** The side pane's Changes tab, by its VIEWS id in SidePane.tsx. */
export const CHANGES_VIEW = 'changes';

/** Opens the side pane (when hidden) on its Changes tab: the run's changes are one click away. */
export function showChanges(): void {
  useLayout.getState().showSideView(CHANGES_VIEW);
}

/** The run header's way to the Changes view. */
export function ShowChangesButton() {
  return (
    <button type="button" className="replay-open" onClick={showChanges} data-testid="open-changes" title="Show what the run changed in the workspace (side pane)">
      Changes
    </button>
  );
}
