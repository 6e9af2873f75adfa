import type { CheckpointDiffView } from '@keel/core/contract';
import { useEffect, useState } from 'react';
import { useKeel } from '../../../lib/client-context.js';
import { describeError } from '../../../lib/errors.js';
import { PatchView } from './PatchView.js';

/** What a turn changed, fetched from its checkpoints when first shown (`checkpoints.diff`). */
export function TurnDiff({ runId, turn }: { runId: string; turn: number }) {
  const { client } = useKeel();
  const [diff, setDiff] = useState<CheckpointDiffView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client.invoke('checkpoints.diff', { runId, turn }).then(
      (result) => live && setDiff(result),
      (caught: unknown) => live && setError(describeError(caught)),
    );
    return () => {
      live = false;
    };
  }, [client, runId, turn]);
  if (error) return <p className="error small">The diff could not be read: {error}</p>;
  if (!diff) return <p className="muted small">Reading the diff…</p>;
  return (
    <div className="cp-diff" data-testid="checkpoint-diff">
      {diff.files.map((file) => (
        <div key={file.path} className="cp-diff-file">
          <div className="cp-diff-head">
            <code>{file.path}</code> <span className={`cp-status ${file.status}`}>{file.status}</span>
          </div>
          <PatchView file={file} />
        </div>
      ))}
    </div>
  );
}
