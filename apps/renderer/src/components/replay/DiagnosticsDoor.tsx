import { useEffect, useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { useSelectedRun } from '../../stores/runs.js';
import { exportDiagnostics, importBundleFile, uploadBundle, useDiagnostics } from './diagnostics-store.js';

const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes('Files');

/**
 * Mounted once: carries out the app menu's File > Export diagnostics… / Open bundle… (`app.menu`),
 * takes a bundle dropped anywhere on the window, and shows what an import or a menu export did
 * when no other place shows it.
 */
export function DiagnosticsDoor() {
  const { client } = useKeel();
  const selected = useSelectedRun();
  const [dragging, setDragging] = useState(false);
  const importing = useDiagnostics((state) => state.importing);
  const importResult = useDiagnostics((state) => state.importResult);
  const exportResult = useDiagnostics((state) => state.exportResult);
  const exporting = useDiagnostics((state) => state.exporting);
  const selectedId = selected?.id ?? null;

  useEffect(
    () =>
      client.subscribe('app.menu', {}, {
        onEvent: ({ command }) => {
          if (command === 'export-diagnostics') void exportDiagnostics(client, selectedId);
          else void importBundleFile(client);
        },
      }),
    [client, selectedId],
  );

  useEffect(() => {
    let depth = 0;
    const enter = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth++;
      setDragging(true);
    };
    const over = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    };
    const leave = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      setDragging(false);
      const file = event.dataTransfer?.files[0];
      if (file) void uploadBundle(client, file);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [client]);

  // The run header shows the result of its own run's export; anything else (the menu with another or no run) shows here.
  const menuExport = exportResult && (exportResult.runId === null || exportResult.runId !== selectedId) ? exportResult : null;
  return (
    <>
      {dragging && (
        <div className="bundle-drop" data-testid="bundle-drop" aria-hidden="true">
          Drop a Keel diagnostics bundle (.zip) to open it under Imported
        </div>
      )}
      {(importing || importResult || menuExport || (exporting && exporting !== selectedId)) && (
        <div className="diagnostics-notice" role="status" data-testid="diagnostics-notice">
          {importing && (
            <span data-testid="import-progress">
              Uploading {importing.name} <progress max={importing.size} value={importing.sent} aria-label="Upload progress" />
            </span>
          )}
          {importResult && (
            <span className={importResult.ok ? 'status-ok' : 'status-failed'} data-testid={importResult.ok ? 'import-result' : 'import-error'}>
              {importResult.text}
            </span>
          )}
          {menuExport && <span className={menuExport.ok ? 'status-ok' : 'status-failed'} data-testid="menu-export-result">{menuExport.text}</span>}
          <button type="button" className="link" onClick={() => useDiagnostics.setState({ importResult: null, exportResult: null })} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
    </>
  );
}
