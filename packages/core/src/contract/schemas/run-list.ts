import { z } from 'zod';
import { procedure } from '../define.js';
import { RunId } from './ledger.js';

/**
 * Run list management (issue 15 point 20): which runs the person archived or deleted. Kept in
 * `<data>/run-list.json`, written atomically, beside the ledger and not in it (ADR 0019): the
 * list is the person's view of their runs, it must work for imported, read-only and
 * quarantined runs whose ledgers Keel may not write, and "delete, keep the files" must leave
 * the ledger byte for byte as it was.
 */
export const RUN_LIST_SCHEMA_VERSION = 1;

export const RunListMark = z
  .object({
    /** When the run was archived (hidden from the list unless "Show archived"). */
    archivedAt: z.string().optional(),
    /** When the run was deleted from the list. */
    deletedAt: z.string().optional(),
    /**
     * With a delete: `kept` (the ledger and checkpoints stay on disk), `pending` (the person
     * asked for the files to go and that is not finished: the next open finishes it), `deleted`.
     */
    files: z.enum(['kept', 'pending', 'deleted']).optional(),
  })
  .strict();
export type RunListMark = z.infer<typeof RunListMark>;

export const RunListFile = z
  .object({
    schema_version: z.number().int().positive(),
    runs: z.record(RunId, RunListMark),
  })
  .strict();
export type RunListFile = z.infer<typeof RunListFile>;

/** What deleting a run did, in words a person can check. */
export const RunDeleteOutcome = z.object({
  runId: RunId,
  /** The run's ledger (NDJSON log and SQLite rows) was removed. */
  filesDeleted: z.boolean(),
  /** Checkpoint refs, sidecars and private repositories removed (0 when files were kept). */
  checkpointsRemoved: z.number().int().nonnegative(),
  /** The run's own git worktree, removed (never a dirty one; the branch stays). */
  worktreeRemoved: z.boolean(),
  /** What stayed and why (a dirty worktree, a problem while removing), in plain words. */
  notes: z.array(z.string()),
});
export type RunDeleteOutcome = z.infer<typeof RunDeleteOutcome>;

/** Procedures of the run list, spread into `procedures`. */
export const runListProcedures = {
  'run.archive': procedure({
    description:
      'Archive a run (hidden from the run list unless "Show archived") or unarchive it; kept in <data>/run-list.json. Refused while a turn is in progress.',
    input: z.object({ runId: RunId, archived: z.boolean() }).strict(),
    output: z.object({}),
  }),
  'run.delete': procedure({
    description:
      "Delete a run from the run list. Its ledger and checkpoints stay on disk unless deleteFiles (the person confirmed): then its ledger, checkpoints and clean worktree are removed. Refused while a turn is in progress.",
    input: z.object({ runId: RunId, deleteFiles: z.boolean() }).strict(),
    output: RunDeleteOutcome,
  }),
} as const;
