import { Group, Panel, Separator } from 'react-resizable-panels';
import { ConnectionBanner, EngineBanner } from './components/ConnectionBanner.js';
import { Header } from './components/Header.js';
import { RunsPane } from './components/RunsPane.js';
import { SidePane } from './components/SidePane.js';
import { SettingsDialog } from './components/settings/SettingsDialog.js';
import { ShortcutsOverlay } from './components/ShortcutsOverlay.js';
import { CommandPalette } from './components/CommandPalette.js';
import { useAttentionTitle } from './lib/attention-title.js';
import { useLayout } from './stores/layout.js';
import { ReplayRoot } from './components/replay/ReplayRoot.js';

export function App() {
  useAttentionTitle();
  const sideOpen = useLayout((state) => state.sideOpen);
  const setSideOpen = useLayout((state) => state.setSideOpen);
  return (
    <div className="app">
      <Header />
      <ConnectionBanner />
      <EngineBanner />
      <main className="workspace">
        <Group orientation="horizontal" className="panes">
          <Panel id="runs" defaultSize={sideOpen ? '70' : '100'} minSize="40">
            <RunsPane />
          </Panel>
          {sideOpen && (
            <>
              <Separator className="pane-separator" aria-label="Resize panes" />
              <Panel id="reliability" defaultSize="30" minSize="20">
                <div className="side-pane-frame">
                  <button type="button" className="side-toggle hide" onClick={() => setSideOpen(false)} title="Hide the side pane (remembered)" data-testid="side-hide">
                    Hide ›
                  </button>
                  <SidePane />
                </div>
              </Panel>
            </>
          )}
        </Group>
        {!sideOpen && (
          <button type="button" className="side-toggle show" onClick={() => setSideOpen(true)} title="Show the side pane: reliability, policy and more" data-testid="side-show">
            ‹ Side pane
          </button>
        )}
      </main>
      <ReplayRoot />
      <SettingsDialog />
      <ShortcutsOverlay />
      <CommandPalette />
    </div>
  );
}
