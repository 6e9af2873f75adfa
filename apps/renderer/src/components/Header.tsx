import { useAppInfo } from '../stores/app-info.js';
import { useConnection } from '../stores/connection.js';

const STATUS_LABEL = { ok: 'Engine OK', degraded: 'Engine degraded', failed: 'Engine failed' } as const;

export function Header() {
  const { info, error } = useAppInfo();
  // The heartbeat is live; app.info is what the engine said when the page loaded.
  const live = useConnection((state) => state.engine);
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
            <dd data-testid="engine-status" className={`status status-${live ?? info.engine.status}`}>
              {STATUS_LABEL[live ?? info.engine.status]}
            </dd>
          </div>
        </dl>
      ) : (
        <span className="app-info muted">{error ? `Could not load app info: ${error}` : 'Loading…'}</span>
      )}
    </header>
  );
}
