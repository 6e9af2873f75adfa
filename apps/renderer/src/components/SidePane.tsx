import type { ReactNode } from 'react';
import { useLayout } from '../stores/layout.js';
import { ReliabilityPane } from './ReliabilityPane.js';
import { PolicyView } from './policy/PolicyView.js';
import { ImportedView } from './replay/ImportedView.js';
import { ChangesView } from './changes/ChangesView.js';

/**
 * The right pane: one view at a time, chosen by tabs. Each capability adds its view here as one
 * entry; the view itself lives in its own file.
 */
interface SideView {
  id: string;
  label: string;
  render(): ReactNode;
}

const VIEWS: SideView[] = [
  { id: 'reliability', label: 'Reliability', render: () => <ReliabilityPane /> },
  { id: 'changes', label: 'Changes', render: () => <ChangesView /> },
  { id: 'policy', label: 'Policy', render: () => <PolicyView /> },
  { id: 'imported', label: 'Imported', render: () => <ImportedView /> },
];

export function SidePane() {
  // The selected tab lives in the layout store, so the run header and the palette can open a view.
  const selected = useLayout((state) => state.sideTab);
  const setSelected = useLayout((state) => state.setSideTab);
  const view = VIEWS.find((candidate) => candidate.id === selected) ?? VIEWS[0]!;
  return (
    <div className="side-pane">
      {VIEWS.length > 1 && (
        <div className="side-tabs" role="tablist" aria-label="Side views">
          {VIEWS.map((candidate) => (
            <button
              key={candidate.id}
              type="button"
              role="tab"
              id={`side-tab-${candidate.id}`}
              aria-selected={candidate.id === view.id}
              aria-controls={`side-view-${candidate.id}`}
              className="side-tab"
              onClick={() => setSelected(candidate.id)}
            >
              {candidate.label}
            </button>
          ))}
        </div>
      )}
      <div className="side-view" role="tabpanel" id={`side-view-${view.id}`} aria-labelledby={`side-tab-${view.id}`}>
        {view.render()}
      </div>
    </div>
  );
}
