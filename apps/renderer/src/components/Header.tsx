import { useAppInfo } from '../stores/app-info.js';
import { useSettings } from '../stores/settings.js';
import { useConnection } from '../stores/connection.js';

const STATUS_LABEL = { ok: 'OK', degraded: 'degraded', failed: 'failed' } as const;
const STATUS_TITLE = {
  ok: 'The engine (ledger, runs, agents) is healthy.',
  degraded: 'The engine works, with problems: see the data directory details.',
  failed: 'The engine cannot record events: runs have stopped.',
} as const;

export function Header() {
  const { info, error } = useAppInfo();
  // The heartbeat is live; app.info is what the engine said when the page loaded.
  const live = useConnection((state) => state.engine);
  const connection = useConnection((state) => state.status);
  // What the page cannot hear from, it does not claim: while disconnected the engine is unknown.
  const engine = connection === 'connected' || info?.mode === 'electron' ? (live ?? info?.engine.status ?? null) : null;
  return (
    <header className="app-header">
      <span className="brand">Keel</span>
      {info ? (
        <dl className="app-info" aria-label="App info">
          <div>
            <dt>Version</dt>
            <dd data-testid="app-version">{info.version}</dd>
          </div>
          <div>
            <dt>Mode</dt>
            <dd data-testid="app-mode">{info.mode}</dd>
          </div>
          <div>
            <dt>Platform</dt>
            <dd>
              {info.platform}/{info.arch}
            </dd>
          </div>
          <div>
            <dt>Data</dt>
            <dd data-testid="app-data-dir" title={info.engine.dataDir.problems.join('\n') || 'Healthy'}>
              {info.dataDir}
            </dd>
          </div>
          <div>
            <dt>Engine</dt>
            <dd
              data-testid="engine-status"
              data-status={engine ?? 'unknown'}
              className={`status status-${engine ?? 'unknown'}`}
              title={engine ? STATUS_TITLE[engine] : 'Not connected: the engine’s health is unknown until Keel answers again.'}
            >
              {engine ? STATUS_LABEL[engine] : 'unknown (disconnected)'}
            </dd>
          </div>
        </dl>
      ) : (
        <span className="app-info muted">{error ? `Could not load app info: ${error}` : 'Loading…'}</span>
      )}
      <button type="button" className="header-settings" onClick={() => useSettings.getState().setOpen(true)} title="Settings" data-testid="open-settings">
        ⚙ Settings
      </button>
    </header>
  );
}
