import type { ChangeFileSide, ChangesEnd, RunChangeFile, RunChangedFile } from '@keel/core/contract';
import { useEffect, useMemo, useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { diffLinesWithin, replacementLines, withContext } from '../../lib/diff.js';
import { describeError } from '../../lib/errors.js';
import { formatBytes, type DiffLayout } from './changes-range.js';
import { DiffRows } from './DiffRows.js';

export interface FileRequest {
  runId: string;
  file: RunChangedFile;
  from: number | undefined;
  to: ChangesEnd | undefined;
  /** Bumped by Refresh: read the file again. */
  version: number;
}

/** Why a side has no text, in plain words. */
function omittedText(side: ChangeFileSide, which: 'old' | 'new', maxBytes: number): string | null {
  const name = which === 'old' ? 'Before' : 'After';
  if (side.omitted === 'too_large') return `${name}: too large to show (${formatBytes(side.size)}; the limit is ${formatBytes(maxBytes)}).`;
  if (side.omitted === 'binary') return `${name}: a binary file of ${formatBytes(side.size)}; no text diff.`;
  if (side.omitted === 'submodule') return `${name}: ${side.text?.trim() ?? 'a submodule'}.`;
  return null;
}

function FileBody({ content, layout }: { content: RunChangeFile; layout: DiffLayout }) {
  const notes = [content.old && omittedText(content.old, 'old', content.maxBytes), content.new && omittedText(content.new, 'new', content.maxBytes)].filter(
    (note): note is string => !!note,
  );
  const shown = notes.length === 0;
  const matched = useMemo(() => (shown ? diffLinesWithin(content.old?.text ?? null, content.new?.text ?? null) : null), [content, shown]);
  // A diff over jsdiff's limits (a huge rewrite) is shown as a whole replacement, and said so.
  const lines = useMemo(() => (shown ? (matched ?? replacementLines(content.old?.text ?? null, content.new?.text ?? null)) : null), [content, shown, matched]);
  const rows = useMemo(() => (lines ? withContext(lines) : null), [lines]);
  if (!shown) {
    return (
      <div className="chg-note" data-testid="changes-file-note">
        {notes.map((note) => (
          <p key={note} className="muted small">
            {note}
          </p>
        ))}
      </div>
    );
  }
  if (!lines || !rows) return null;
  if (!lines.some((line) => line.op !== 'same')) {
    const why = content.status === 'renamed' ? 'Renamed only: the content is the same.' : 'The text is the same: only the file kind or mode changed.';
    return <p className="muted small chg-note">{why}</p>;
  }
  return (
    <>
      {!matched && (
        <p className="muted small chg-note" data-testid="changes-replacement-note">
          Too many lines changed to match them up: shown as the whole old text removed and the new text added.
        </p>
      )}
      <DiffRows key={layout} rows={rows} layout={layout} label={`Changes to ${content.path}`} />
    </>
  );
}

/** One changed file's diff, read from the checkpoints when opened (`run.changeFile`). */
export function ChangeFileDiff({ request, layout }: { request: FileRequest; layout: DiffLayout }) {
  const { client } = useKeel();
  const [content, setContent] = useState<RunChangeFile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { runId, file, from, to, version } = request;
  useEffect(() => {
    let live = true;
    setContent(null);
    setError(null);
    const input = { runId, path: file.path, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
    client.invoke('run.changeFile', input).then(
      (result) => live && setContent(result),
      (caught: unknown) => live && setError(describeError(caught)),
    );
    return () => {
      live = false;
    };
  }, [client, runId, file.path, from, to, version]);
  if (error) {
    return (
      <p className="error small chg-note" role="alert">
        This file could not be shown: {error}
      </p>
    );
  }
  if (!content) {
    return (
      <p className="muted small chg-note" aria-busy="true">
        Reading {file.path}…
      </p>
    );
  }
  return <FileBody content={content} layout={layout} />;
}
