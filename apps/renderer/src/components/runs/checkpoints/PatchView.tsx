import type { CheckpointFileDiff } from '@keel/core/contract';

/** One file's unified diff as git printed it (from a checkpoint diff), lines coloured by their sign. */
export function PatchView({ file }: { file: CheckpointFileDiff }) {
  if (file.binary) return <p className="muted small">Binary file: no text diff.</p>;
  if (!file.patch) return <p className="muted small">No diff kept for this file (too many files changed).</p>;
  const lines = file.patch.split('\n');
  if (lines.at(-1) === '') lines.pop();
  // Skip git's header lines (diff --git, index, ---, +++): the card already names the file.
  const body = lines.slice(Math.max(0, lines.findIndex((line) => line.startsWith('@@'))));
  return (
    <pre className="cp-patch" aria-label={`Changes to ${file.path}`} data-testid="checkpoint-patch">
      {body.map((line, index) => (
        <span key={index} className={`cp-patch-line${line.startsWith('+') ? ' add' : line.startsWith('-') ? ' del' : line.startsWith('@@') ? ' hunk' : ''}`}>
          {line}
          {'\n'}
        </span>
      ))}
      {file.patchTruncated && <span className="cp-patch-line hunk">[diff cut short]</span>}
    </pre>
  );
}
