import type { HarnessProgress } from '@keel/core/contract';

/** The "Run harness" button and the live progress the host streams while it runs. */
export function HarnessControl({ progress, onRun, error }: { progress: HarnessProgress; onRun: () => void; error: string | null }) {
  const running = progress.kind === 'running';
  return (
    <div className="harness-control" data-testid="harness-control">
      <button type="button" className="primary small-button" onClick={onRun} disabled={running} data-testid="run-harness">
        {running ? 'Running…' : 'Run harness'}
      </button>
      <div className="harness-status" aria-live="polite" data-testid="harness-status">
        {progress.kind === 'running' && (
          <>
            <span>
              {progress.index + 1}/{progress.total} {progress.scenario}: {progress.done}/{progress.planned}
            </span>
            <progress max={progress.total} value={progress.index + (progress.planned === 0 ? 1 : progress.done / progress.planned)} />
          </>
        )}
        {progress.kind === 'finished' && <span className={progress.verdict === 'pass' ? 'status-ok' : 'status-failed'}>Finished: {progress.verdict === 'pass' ? 'every SLO met' : 'an SLO missed'}</span>}
        {progress.kind === 'failed' && <span className="status-failed">The harness failed: {progress.message}</span>}
        {progress.kind === 'idle' && <span className="muted">Quick profile: real faults against this machine's Keel; a minute or a few, depending on the machine.</span>}
        {error && <span className="status-failed">{error}</span>}
      </div>
    </div>
  );
}
