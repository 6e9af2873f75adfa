import { Group, Panel, Separator } from 'react-resizable-panels';
import { ConnectionBanner, EngineBanner } from './components/ConnectionBanner.js';
import { Header } from './components/Header.js';
import { ReliabilityPane } from './components/ReliabilityPane.js';
import { RunsPane } from './components/RunsPane.js';

export function App() {
  return (
    <div className="app">
      <Header />
      <ConnectionBanner />
      <EngineBanner />
      <main className="workspace">
        <Group orientation="horizontal" className="panes">
          <Panel id="runs" defaultSize="62" minSize="30">
            <RunsPane />
          </Panel>
          <Separator className="pane-separator" aria-label="Resize panes" />
          <Panel id="reliability" defaultSize="38" minSize="15">
            <ReliabilityPane />
          </Panel>
        </Group>
      </main>
    </div>
  );
}
