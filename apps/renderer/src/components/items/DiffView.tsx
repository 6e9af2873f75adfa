import type { ToolDiffView } from '@keel/core/contract';
import { useMemo } from 'react';
import { diffLines, diffStats, withContext } from '../../lib/diff.js';
import { Disclosure } from './Disclosure.js';

/** One file's change as a unified diff with line numbers and collapsed unchanged runs. */
export function FileDiff({ diff, stateKey }: { diff: ToolDiffView; stateKey: string }) {
  const lines = useMemo(() => diffLines(diff.oldText, diff.newText), [diff.oldText, diff.newText]);
  const rows = useMemo(() => withContext(lines), [lines]);
  const { added, removed } = diffStats(lines);
  return (
    <Disclosure
      stateKey={stateKey}
      defaultOpen
      className="file-diff"
      testId="file-diff"
      summary={
        <>
          <code className="diff-path">{diff.path}</code>
          {diff.oldText === null && <span className="flag">new file</span>}
          <span className="diff-stat add">+{added}</span>
          <span className="diff-stat del">−{removed}</span>
        </>
      }
    >
      <div className="diff-table" role="table" aria-label={`Changes to ${diff.path}`}>
        {rows.map((row, index) =>
          row.op === 'skip' ? (
            <div key={index} className="diff-row skip" role="row">
              <span className="diff-no" />
              <span className="diff-no" />
              <span className="diff-text">⋯ {row.count} unchanged line{row.count === 1 ? '' : 's'}</span>
            </div>
          ) : (
            <div key={index} className={`diff-row ${row.op}`} role="row">
              <span className="diff-no">{row.op === 'add' ? '' : row.oldNo}</span>
              <span className="diff-no">{row.op === 'del' ? '' : row.newNo}</span>
              <span className="diff-text">
                <span className="diff-sign" aria-hidden="true">
                  {row.op === 'add' ? '+' : row.op === 'del' ? '−' : ' '}
                </span>
                {row.text}
              </span>
            </div>
          ),
        )}
      </div>
    </Disclosure>
  );
}
