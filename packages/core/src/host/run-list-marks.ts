import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../contract/schemas/ledger.js';
import { RUN_LIST_SCHEMA_VERSION, RunListFile, type RunListMark } from '../contract/schemas/run-list.js';
import { writeFileAtomic } from '../fsutil/index.js';

// Light on purpose (contract and fsutil only): `keel runs` reads the marks without loading Keel.

export const runListFile = (dataDir: string) => path.join(dataDir, 'run-list.json');

/**
 * The person's marks on the run list (issue 15 point 20): archived runs, deleted runs, and
 * whether a deleted run's files went. Kept in `<data>/run-list.json`, replaced atomically on
 * every change, never in the runs' ledgers (ADR 0019). A file that cannot be read is set aside
 * as `run-list.json.broken` and the list starts empty: every run shows again, nothing is lost.
 */
export class RunListMarks {
  private marks: Record<string, RunListMark>;
  /** Why the file could not be read, if it could not (for the app log). */
  readonly problem: string | null = null;

  /** `readOnly`: a listing beside a running Keel or on a read-only disk: a broken file is left where it is. */
  constructor(
    private readonly dataDir: string,
    options: { readOnly?: boolean } = {},
  ) {
    const file = runListFile(dataDir);
    this.marks = {};
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return; // no file yet
    }
    try {
      const parsed = RunListFile.parse(JSON.parse(text));
      if (parsed.schema_version > RUN_LIST_SCHEMA_VERSION) throw new Error(`it was written by a newer Keel (schema_version ${parsed.schema_version})`);
      this.marks = parsed.runs;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      if (options.readOnly) {
        this.problem = `Could not read ${file} (${why}); every run is listed.`;
        return;
      }
      this.problem = `Could not read ${file} (${why}); it was kept as run-list.json.broken and every run is listed.`;
      try {
        fs.renameSync(file, `${file}.broken`);
      } catch {
        // Left where it is: the next write replaces it.
      }
    }
  }

  mark(runId: string): RunListMark | undefined {
    return this.marks[runId];
  }

  /** A summary as the run list shows it (with `archived`), or null for a deleted run. */
  present(summary: RunSummary): RunSummary | null {
    const mark = this.marks[summary.id];
    if (mark?.deletedAt) return null;
    return { ...summary, archived: mark?.archivedAt !== undefined };
  }

  list(summaries: readonly RunSummary[]): RunSummary[] {
    const shown: RunSummary[] = [];
    for (const summary of summaries) {
      const presented = this.present(summary);
      if (presented) shown.push(presented);
    }
    return shown;
  }

  /** Runs whose files the person asked to delete and that deletion did not finish. */
  pendingFileDeletes(): string[] {
    return Object.entries(this.marks)
      .filter(([, mark]) => mark.files === 'pending')
      .map(([runId]) => runId);
  }

  /** Changes one run's mark and writes the file (atomically) before answering. */
  update(runId: string, change: (mark: RunListMark) => RunListMark | null): void {
    const next = { ...this.marks };
    const changed = change({ ...next[runId] });
    if (changed && Object.keys(changed).length > 0) next[runId] = changed;
    else delete next[runId];
    writeFileAtomic(runListFile(this.dataDir), `${JSON.stringify({ schema_version: RUN_LIST_SCHEMA_VERSION, runs: next }, null, 2)}\n`);
    this.marks = next;
  }
}
