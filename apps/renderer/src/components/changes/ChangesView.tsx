import type { RunChanges, RunChangedFile, RunView } from '@keel/core/contract';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';
import { useRuns } from '../../stores/runs.js';
import { useTranscript } from '../../stores/transcript.js';
import { ChangeFileDiff } from './ChangeFileDiff.js';
import { optionFor, rangeOptions, statusMark, storedLayout, storeLayout, UP_TO_NOW, WHOLE_RUN, type DiffLayout } from './changes-range.js';

const checkpointCounts = new WeakMap<RunView, string>();

/** Checkpoints taken so far and whether a turn runs: when it moves, the changes are read again. */
function progressKey(view: RunView | null): string {
  if (!view) return '';
  let key = checkpointCounts.get(view);
  if (key === undefined) {
    let count = 0;
    for (const item of view.items) if (item.kind === 'checkpoint' && (item.event === 'created' || item.event === 'restore_completed')) count++;
    key = `${count}:${view.turnOpen}`;
    checkpointCounts.set(view, key);
  }
  return key;
}

function FileRow({ file, selected, onSelect }: { file: RunChangedFile; selected: boolean; onSelect(): void }) {
  const { mark, word } = statusMark(file);
  return (
    <li>
      <button
        type="button"
        className={`chg-file-row${selected ? ' selected' : ''}`}
        aria-pressed={selected}
        onClick={onSelect}
        title={`${file.oldPath ? `${file.oldPath} → ` : ''}${file.path}: ${word}`}
        data-testid="changes-file"
        data-path={file.path}
      >
        <span className={`chg-status ${file.status}`} aria-label={word}>
          {mark}
        </span>
        <span className="chg-path">
          {file.oldPath && <span className="muted">{file.oldPath} → </span>}
          {file.path}
        </span>
        <span className="chg-counts">
          {file.binary ? (
            <span className="muted">binary</span>
          ) : (
            file.added !== null && (
              <>
                <span className="chg-add">+{file.added}</span> <span className="chg-del">−{file.removed}</span>
              </>
            )
          )}
        </span>
      </button>
    </li>
  );
}

/**
 * The changes view (issue 15, point 19): what the selected run changed in its workspace, read
 * from its checkpoints — the whole run, the whole run up to now, or one turn. A list of files
 * with their status and lines added and removed; the chosen file's diff, unified or side by side
 * (remembered); wide mode for a side-by-side diff that needs the room.
 */
export function ChangesView() {
  const { client } = useKeel();
  const runId = useRuns((state) => state.selectedRunId);
  const progress = useTranscript((state) => (state.runId === runId ? progressKey(state.view) : ''));
  const [rangeKey, setRangeKey] = useState(WHOLE_RUN);
  const [changes, setChanges] = useState<RunChanges | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selectedPath, setSelectedPath] = useState<string | null>(null);
  const [layout, setLayout] = useState<DiffLayout>(storedLayout);
  const [wide, setWide] = useState(false);
  const [version, setVersion] = useState(0);
  /** Which request the shown changes answer, and how many answers came (a file is read again after each). */
  const [answered, setAnswered] = useState<{ key: string; count: number }>({ key: '', count: 0 });

  useEffect(() => {
    setRangeKey(WHOLE_RUN);
    setChanges(null);
    setSelectedPath(null);
  }, [runId]);

  const options = useMemo(() => rangeOptions(changes?.checkpoints ?? []), [changes?.checkpoints]);
  const range = optionFor(options, rangeKey);
  const from = rangeKey === WHOLE_RUN || rangeKey === UP_TO_NOW ? undefined : range.from;
  const to = rangeKey === UP_TO_NOW ? 'now' : rangeKey === WHOLE_RUN ? undefined : range.to;

  const requestKey = `${runId}|${from ?? ''}|${to ?? ''}`;
  useEffect(() => {
    if (!runId) return;
    let live = true;
    setLoading(true);
    setError(null);
    client.invoke('run.changes', { runId, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }).then(
      (result) => {
        if (!live) return;
        setChanges(result);
        setAnswered((previous) => ({ key: requestKey, count: previous.count + 1 }));
        setLoading(false);
        setSelectedPath((current) => (current && result.files.some((file) => file.path === current) ? current : (result.files[0]?.path ?? null)));
      },
      (caught: unknown) => {
        if (!live) return;
        setError(describeError(caught));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [client, runId, from, to, requestKey, version, progress]);

  useEffect(() => {
    if (!wide) return;
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && setWide(false);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [wide]);

  const chooseLayout = useCallback((next: DiffLayout) => {
    storeLayout(next);
    setLayout(next);
  }, []);

  if (!runId) {
    return (
      <div className="changes-view" data-testid="changes-view">
        <p className="muted chg-empty">Pick a run to see the files it changed.</p>
      </div>
    );
  }
  const selected = changes?.files.find((file) => file.path === selectedPath) ?? null;
  const totals = changes?.totals;
  return (
    <div className={`changes-view${wide ? ' wide' : ''}`} data-testid="changes-view" role={wide ? 'dialog' : undefined} aria-label={wide ? 'Changes' : undefined}>
      <div className="chg-toolbar">
        <select aria-label="Which changes" value={range.key} onChange={(event) => setRangeKey(event.target.value)} data-testid="changes-range">
          {options.map((option) => (
            <option key={option.key} value={option.key}>
              {option.label}
            </option>
          ))}
        </select>
        <div className="chg-toggle" role="group" aria-label="Diff layout">
          <button type="button" aria-pressed={layout === 'unified'} onClick={() => chooseLayout('unified')} data-testid="changes-unified">
            Unified
          </button>
          <button type="button" aria-pressed={layout === 'split'} onClick={() => chooseLayout('split')} data-testid="changes-split">
            Side by side
          </button>
        </div>
        <button type="button" onClick={() => setVersion(version + 1)} disabled={loading} title="Read the changes again">
          Refresh
        </button>
        <button type="button" onClick={() => setWide(!wide)} aria-pressed={wide} title={wide ? 'Back to the side pane (Esc)' : 'Use the whole window for the diff'} data-testid="changes-wide">
          {wide ? 'Close wide view' : 'Wide view'}
        </button>
      </div>
      {totals && totals.files > 0 && (
        <p className="chg-summary small" data-testid="changes-summary">
          {totals.files} file{totals.files === 1 ? '' : 's'} changed
          {totals.added !== null && (
            <>
              {' · '}
              <span className="chg-add">+{totals.added}</span> <span className="chg-del">−{totals.removed}</span>
            </>
          )}
          {changes?.truncated && <span className="muted"> · the first {changes.files.length} are listed</span>}
        </p>
      )}
      {error ? (
        <p className="error small chg-empty" role="alert" data-testid="changes-error">
          The changes could not be read: {error}
        </p>
      ) : !changes || answered.key !== requestKey ? (
        <p className="muted chg-empty" aria-busy="true" data-testid="changes-loading">
          Reading the run’s changes…
        </p>
      ) : changes.files.length === 0 ? (
        <div className="chg-empty" data-testid="changes-empty">
          <p>No changes yet.</p>
          <p className="muted small">
            {changes.note ??
              (to === 'now'
                ? 'The files in the workspace are as they were at the start of the run.'
                : 'No file changed in this range. Changes of a turn still running show under “Whole run, up to now”.')}
          </p>
        </div>
      ) : (
        <div className="chg-body" aria-busy={loading}>
          <ul className="chg-files" aria-label="Changed files" data-testid="changes-files">
            {changes.files.map((file) => (
              <FileRow key={file.path} file={file} selected={file.path === selectedPath} onSelect={() => setSelectedPath(file.path)} />
            ))}
          </ul>
          {selected && (
            <section className="chg-file" aria-label={`Diff of ${selected.path}`} data-testid="changes-file-diff">
              <header className="chg-file-head">
                <code>{selected.oldPath ? `${selected.oldPath} → ${selected.path}` : selected.path}</code>
                <span className="muted small">{statusMark(selected).word}</span>
              </header>
              <ChangeFileDiff request={{ runId, file: selected, from, to, version: answered.count }} layout={layout} />
            </section>
          )}
        </div>
      )}
    </div>
  );
}
