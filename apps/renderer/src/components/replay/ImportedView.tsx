import type { ImportedRunSummary } from '@keel/core/contract';
import { useCallback, useEffect, useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';
import { useReplay } from './replay-store.js';

/** Runs from imported diagnostics bundles, read-only, apart from the user's own; "Open bundle…". */
export function ImportedView() {
  const { client } = useKeel();
  const [runs, setRuns] = useState<ImportedRunSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [path, setPath] = useState('');
  const load = useCallback(() => {
    client
      .invoke('diagnostics.imported', {})
      .then((list) => (setRuns(list), setError(null)))
      .catch((failure: unknown) => setError(describeError(failure)));
  }, [client]);
  useEffect(load, [load]);

  const open = async (file?: string) => {
    setNote(null);
    setError(null);
    try {
      const result = await client.invoke('diagnostics.import', file ? { file } : {});
      if (!result) return;
      const problems = result.runs.flatMap((run) => run.problems);
      setNote(
        `${result.already ? 'Already imported' : 'Imported'} bundle ${result.bundle_id}: ${result.runs
          .map((run) => `${run.run_id} (${run.verified} verified${run.redacted.length ? `, ${run.redacted.length} redacted` : ''})`)
          .join(', ')}${problems.length ? ` — ${problems.length} problem(s): ${problems.join('; ')}` : ''}`,
      );
      load();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

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
      {note && (
        <div className="small status-ok" role="status" data-testid="import-result">
          {note}
        </div>
      )}
      {error && (
        <div className="small status-failed" role="alert" data-testid="import-error">
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
