import { Group, Panel, Separator } from 'react-resizable-panels';
import { ConnectionBanner, EngineBanner } from './components/ConnectionBanner.js';
import { Header } from './components/Header.js';
import { RunsPane } from './components/RunsPane.js';
import { SidePane } from './components/SidePane.js';
import { ReplayRoot } from './components/replay/ReplayRoot.js';

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
            <SidePane />
          </Panel>
        </Group>
      </main>
      <ReplayRoot />
    </div>
  );
}
