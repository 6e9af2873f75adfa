import { useEffect } from 'react';
import { Group, Panel, Separator } from 'react-resizable-panels';
import { useKeel } from '../lib/client-context.js';
import { startRunsSync } from '../stores/runs.js';
import { useUi } from '../stores/ui.js';
import { Conversation } from './conversation/Conversation.js';
import { NewRunDialog } from './runs/NewRunDialog.js';
import { RunList } from './runs/RunList.js';

/** The left pane: the run list beside the selected run's conversation. */
export function RunsPane() {
  const { client } = useKeel();
  const openNewRun = useUi((state) => state.setNewRunOpen);
  useEffect(() => {
    const sync = startRunsSync(client);
    return () => sync.stop();
  }, [client]);

  return (
    <section className="pane runs-pane" aria-labelledby="runs-title" data-testid="runs-pane">
      <Group orientation="horizontal" className="runs-split">
        <Panel id="run-list" defaultSize="28" minSize={210}>
          <div className="run-list-column">
            <div className="column-head">
              <h2 id="runs-title">Runs</h2>
              <button type="button" className="primary small-button" onClick={() => openNewRun(true)} data-testid="new-run">
                + New run
              </button>
            </div>
            <div className="run-list-scroll">
              <RunList />
            </div>
          </div>
        </Panel>
        <Separator className="pane-separator" aria-label="Resize run list" />
        <Panel id="conversation" defaultSize="72" minSize={340}>
          <Conversation />
        </Panel>
      </Group>
      <NewRunDialog />
    </section>
  );
}
