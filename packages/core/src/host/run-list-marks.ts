import fs from 'node:fs';
import type { RunSummary } from '../contract/schemas/ledger.js';
import { z } from 'zod';
import { KeelRpcError } from '../contract/errors.js';
import { RunId } from '../contract/schemas/ledger.js';
import { RUN_LIST_SCHEMA_VERSION, RunListFile, RunListMark } from '../contract/schemas/run-list.js';
import { writeFileAtomic } from '../fsutil/index.js';
import { runListFile } from './data-dir.js';

// Light on purpose (contract and fsutil only): `keel runs` reads the marks without loading Keel.

export { runListFile };

/** A mark as a newer Keel may write it: the fields this build knows, anything else left out. */
const KnownFieldsOfMark = z.object(RunListMark.shape);

/**
 * The person's marks on the run list (issue 15 point 20): archived runs, deleted runs, and
 * whether a deleted run's files went. Kept in `<data>/run-list.json`, replaced atomically on
 * every change, never in the runs' ledgers (ADR 0019). No file yet: no marks. A file that is
 * not JSON or not a run list is set aside as `run-list.json.broken` and the list starts empty:
 * every run shows again, nothing is lost. A file this build cannot read for another reason
 * (permissions, I/O), or one a newer Keel wrote, is left exactly where it is and never written:
 * the marks it could read are shown, and every change is refused in plain words (I10).
 */
export class RunListMarks {
  private marks: Record<string, RunListMark>;
  /** Why the file could not be read, if it could not (for the app log). */
  readonly problem: string | null = null;
  /** Set when the file must not be replaced: why, in plain words. */
  private readonly frozen: string | null = null;

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
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // no file yet
      const why = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
      this.problem = `Could not read ${file} (${why}); every run is listed and the file is left as it is.`;
      this.frozen = `Keel could not read ${file} (${why}), so it does not replace it: archived and deleted runs in it would be lost. Fix the file's permissions (or move it away), then try again.`;
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      this.problem = this.setAside(file, error, options.readOnly === true);
      return;
    }
    const version = (raw as { schema_version?: unknown } | null)?.schema_version;
    if (typeof version === 'number' && version > RUN_LIST_SCHEMA_VERSION) {
      // Written by a newer Keel: read the marks this build understands, never rename or replace it.
      const runs = (raw as { runs?: unknown }).runs;
      if (runs && typeof runs === 'object') {
        for (const [runId, mark] of Object.entries(runs)) {
          const known = KnownFieldsOfMark.safeParse(mark);
          if (RunId.safeParse(runId).success && known.success) this.marks[runId] = known.data;
        }
      }
      this.problem = `${file} was written by a newer Keel (schema_version ${version}); this Keel reads what it can and does not change it.`;
      this.frozen = `${file} was written by a newer Keel (schema_version ${version}); this Keel does not change it. Archive or delete the run with that newer Keel.`;
      return;
    }
    try {
      this.marks = RunListFile.parse(raw).runs;
    } catch (error) {
      this.problem = this.setAside(file, error, options.readOnly === true);
    }
  }

  /** A file that is not a run list: kept as `.broken` (unless read-only), the list starts empty. */
  private setAside(file: string, error: unknown, readOnly: boolean): string {
    const why = error instanceof Error ? error.message : String(error);
    if (readOnly) return `Could not read ${file} (${why}); every run is listed.`;
    try {
      fs.renameSync(file, `${file}.broken`);
    } catch {
      // Left where it is: the next write replaces it.
    }
    return `Could not read ${file} (${why}); it was kept as run-list.json.broken and every run is listed.`;
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
    if (this.frozen) return []; // finishing them would need a write this build may not do
    return Object.entries(this.marks)
      .filter(([, mark]) => mark.files === 'pending')
      .map(([runId]) => runId);
  }

  /** Changes one run's mark and writes the file (atomically) before answering. */
  update(runId: string, change: (mark: RunListMark) => RunListMark | null): void {
    if (this.frozen) throw new KeelRpcError('unavailable', this.frozen);
    const next = { ...this.marks };
    const changed = change({ ...next[runId] });
    if (changed && Object.keys(changed).length > 0) next[runId] = changed;
    else delete next[runId];
    writeFileAtomic(runListFile(this.dataDir), `${JSON.stringify({ schema_version: RUN_LIST_SCHEMA_VERSION, runs: next }, null, 2)}\n`);
    this.marks = next;
  }
}
