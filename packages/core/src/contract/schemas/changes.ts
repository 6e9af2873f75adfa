import { z } from 'zod';
import { procedure } from '../define.js';
import { CheckpointTurn } from './checkpoints.js';
import { RunId } from './ledger.js';

/**
 * The changes view (issue 15, point 19): what a run changed in its workspace between two of its
 * checkpoints (default: the baseline, turn 0, to the latest), or to the working tree as it is now.
 * The summary lists the files; one file's old and new text is fetched on demand, capped in size,
 * and only for a file the same diff lists (I11: the renderer names no arbitrary path).
 */

const count = z.number().int().nonnegative();

/** Bytes of one side of a file shown at most; above it the view says "too large to show". */
export const MAX_CHANGE_FILE_BYTES = 1024 * 1024;
/** Files listed in one summary at most (`truncated` says when there were more). */
export const MAX_CHANGED_FILES_LISTED = 5000;

/** The end of a range: a checkpoint's turn, or `now` (the working tree as it is at this moment). */
export const ChangesEnd = z.union([CheckpointTurn, z.literal('now')]);
export type ChangesEnd = z.infer<typeof ChangesEnd>;

/** How a file differs: git's raw status, with renames detected (`-M`). */
export const ChangeStatus = z.enum(['added', 'modified', 'deleted', 'renamed', 'type_changed']);
export type ChangeStatus = z.infer<typeof ChangeStatus>;

/** What a path is at one side: a regular file, an executable, a symlink, a submodule commit. */
export const ChangeEntryKind = z.enum(['file', 'executable', 'symlink', 'submodule']);
export type ChangeEntryKind = z.infer<typeof ChangeEntryKind>;

export const RunChangedFile = z.object({
  /** The path now (for a deleted file: the path it had). Workspace-relative, `/`-separated. */
  path: z.string().min(1),
  /** A rename's old path; null otherwise. */
  oldPath: z.string().min(1).nullable(),
  status: ChangeStatus,
  /** Null for binary files and when line counts were not computed (very many files). */
  added: count.nullable(),
  removed: count.nullable(),
  binary: z.boolean(),
  /** How similar a rename's two sides are (git's percentage); null otherwise. */
  similarity: z.number().int().min(0).max(100).nullable(),
  oldKind: ChangeEntryKind.nullable(),
  newKind: ChangeEntryKind.nullable(),
});
export type RunChangedFile = z.infer<typeof RunChangedFile>;

/** A checkpoint the range selector can offer (taken ones only: a skipped turn has no tree). */
export const ChangesCheckpoint = z.object({ turn: CheckpointTurn, commit: z.string(), createdAt: z.string().nullable() });
export type ChangesCheckpoint = z.infer<typeof ChangesCheckpoint>;

export const RunChanges = z.object({
  runId: RunId,
  /** The checkpoints of the run, oldest first (empty: none yet). */
  checkpoints: z.array(ChangesCheckpoint),
  /** The range compared; null when the run has no checkpoint yet. */
  from: CheckpointTurn.nullable(),
  to: ChangesEnd.nullable(),
  files: z.array(RunChangedFile),
  /** More files changed than are listed. */
  truncated: z.boolean(),
  totals: z.object({ files: count, added: count.nullable(), removed: count.nullable() }),
  /** Why nothing can be compared yet, in plain words (no checkpoint, workspace gone); null otherwise. */
  note: z.string().nullable(),
  durationMs: count,
});
export type RunChanges = z.infer<typeof RunChanges>;

/** One side of a changed file. `text` is null when it is not shown, and `omitted` says why. */
export const ChangeFileSide = z.object({
  size: count,
  kind: ChangeEntryKind,
  text: z.string().nullable(),
  omitted: z.enum(['binary', 'too_large', 'submodule']).nullable(),
});
export type ChangeFileSide = z.infer<typeof ChangeFileSide>;

export const RunChangeFile = z.object({
  path: z.string().min(1),
  oldPath: z.string().nullable(),
  status: ChangeStatus,
  from: CheckpointTurn,
  to: ChangesEnd,
  /** Null: the file did not exist at that side (added, deleted). */
  old: ChangeFileSide.nullable(),
  new: ChangeFileSide.nullable(),
  /** The cap a side's size is compared with (bytes). */
  maxBytes: count,
});
export type RunChangeFile = z.infer<typeof RunChangeFile>;

const range = { from: CheckpointTurn.optional(), to: ChangesEnd.optional() };

/** The changes view's procedures (spread into `procedures`). */
export const changesProcedures = {
  'run.changes': procedure({
    description:
      "What the run changed in its workspace between two checkpoints (default: the baseline to the latest; `to: 'now'`: the working tree as it is), per file with status and lines added and removed.",
    input: z.object({ runId: RunId, ...range }).strict(),
    output: RunChanges,
  }),
  'run.changeFile': procedure({
    description: "One changed file's old and new text for the diff view (each side capped at 1 MiB, binary files not shown); only a file the same range lists.",
    input: z.object({ runId: RunId, path: z.string().min(1).max(4096), ...range }).strict(),
    output: RunChangeFile,
  }),
} as const;
