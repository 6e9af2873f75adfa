import { useEffect } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { exportDiagnostics, useDiagnostics } from './diagnostics-store.js';

/** The host's export progress while one runs (`diagnostics.progress`): bytes of the run's logs done of all. */
export function ExportProgress() {
  const { client } = useKeel();
  const exporting = useDiagnostics((state) => state.exporting);
  const progress = useDiagnostics((state) => state.progress);
  useEffect(() => {
    if (!exporting) return;
    return client.subscribe('diagnostics.progress', {}, { onEvent: (event) => useDiagnostics.setState({ progress: event }) });
  }, [client, exporting]);
  if (!exporting) return null;
  const running = progress?.state === 'running' && progress.total > 0 ? progress : null;
  const percent = running ? Math.min(100, Math.round((running.done / running.total) * 100)) : null;
  return (
    <span className="export-progress small" data-testid="export-progress">
      <progress max={100} value={percent ?? undefined} aria-label="Export progress" data-testid="export-progress-bar" />
      <span className="muted">{running ? `${percent}% · ${running.entry}` : 'starting…'}</span>
    </span>
  );
}

/** "Export diagnostics…": the host writes the bundle (a save dialog in the app) and says where, with a progress bar meanwhile. */
export function ExportDiagnosticsButton({ runId }: { runId: string }) {
  const { client } = useKeel();
  const exporting = useDiagnostics((state) => state.exporting);
  const result = useDiagnostics((state) => state.exportResult);
  return (
    <span className="export-diagnostics">
      <button type="button" onClick={() => void exportDiagnostics(client, runId)} disabled={exporting !== null} data-testid="export-diagnostics">
        {exporting === runId ? 'Exporting…' : 'Export diagnostics…'}
      </button>
      {exporting === runId && <ExportProgress />}
      {result && result.runId === runId && (
        <span className={`small ${result.ok ? 'status-ok' : 'status-failed'}`} data-testid="export-diagnostics-result" role="status">
          {result.text}
        </span>
      )}
    </span>
  );
}
