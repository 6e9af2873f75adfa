import type { ImportedRunSummary } from '@keel/core/contract';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';
import { importBundleFile, uploadBundle, useDiagnostics } from './diagnostics-store.js';
import { useReplay } from './replay-store.js';

/**
 * Runs from imported diagnostics bundles, read-only, apart from the user's own: "Import bundle…"
 * (pick a file: uploaded to the host), "Open bundle…" (a path on the host, or the app's dialog),
 * or drop a bundle anywhere on the window (DiagnosticsDoor). What an import did shows in the
 * diagnostics notice.
 */
export function ImportedView() {
  const { client } = useKeel();
  const [runs, setRuns] = useState<ImportedRunSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [path, setPath] = useState('');
  const imports = useDiagnostics((state) => state.imports);
  const busy = useDiagnostics((state) => state.importing !== null);
  const picker = useRef<HTMLInputElement>(null);
  const load = useCallback(() => {
    client
      .invoke('diagnostics.imported', {})
      .then((list) => (setRuns(list), setError(null)))
      .catch((failure: unknown) => setError(describeError(failure)));
  }, [client]);
  useEffect(load, [load, imports]);

  const open = (file?: string) => importBundleFile(client, file);

  return (
    <div className="imported-view" data-testid="imported-view">
      <form
        className="imported-open"
        onSubmit={(event) => {
          event.preventDefault();
          void open(path.trim() || undefined);
        }}
      >
        <input
          type="text"
          value={path}
          placeholder="/path/to/keel-diagnostics.zip (empty: a file dialog, in the app)"
          aria-label="Bundle file"
          onChange={(event) => setPath(event.target.value)}
          data-testid="bundle-path"
        />
        <button type="submit" data-testid="open-bundle">
          Open bundle…
        </button>
      </form>
      <div className="imported-upload">
        <button type="button" onClick={() => picker.current?.click()} disabled={busy} data-testid="import-bundle">
          Import bundle…
        </button>
        <input
          ref={picker}
          type="file"
          accept=".zip,application/zip"
          hidden
          data-testid="bundle-file"
          onChange={(event) => {
            const file = event.target.files?.[0];
            event.target.value = '';
            if (file) void uploadBundle(client, file);
          }}
        />
        <span className="muted small">or drop a bundle (.zip) anywhere on the window</span>
      </div>
      {error && (
        <div className="small status-failed" role="alert" data-testid="imported-list-error">
          {error}
        </div>
      )}
      <h4>Imported</h4>
      {runs.length === 0 && <div className="muted small">No imported runs. Open a diagnostics bundle to replay someone else&apos;s run.</div>}
      <ul className="imported-runs">
        {runs.map((run) => (
          <li key={`${run.bundleId}/${run.runId}`}>
            <button type="button" onClick={() => useReplay.getState().open({ runId: run.runId, bundleId: run.bundleId })} data-testid="replay-imported">
              Replay
            </button>{' '}
            <code>{run.runId}</code>
            <span className="muted small">
              {' '}
              · {run.events} events · Keel {run.keelVersion} · bundled {run.created.slice(0, 16).replace('T', ' ')}
              {run.redactedSeqs.length > 0 && ` · ${run.redactedSeqs.length} redacted`}
            </span>
            {run.problems.length > 0 && <span className="flag bad">{run.problems.length} problem(s)</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}
