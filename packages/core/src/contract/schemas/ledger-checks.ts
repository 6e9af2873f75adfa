import { z } from 'zod';

// What the ledger says about its own soundness: `verify`'s report (per run, NDJSON against
// SQLite, the derived columns, SQLite's quick check) and the health of a running ledger
// (the background check after open). Re-exported by schemas/ledger.ts.

export const StoreSummary = z.object({
  count: z.number().int().nonnegative(),
  maxSeq: z.number().int().nonnegative(),
  contiguous: z.boolean(),
  chainValid: z.boolean(),
  lastHash: z.string().nullable(),
});
export type StoreSummary = z.infer<typeof StoreSummary>;

/**
 * A SQLite column that disagrees with what it is derived from: an `events` column with the
 * event's record (`seq` names the row), a `runs` column with the fold of the run's events, or a
 * `runs` flag with its partner flag. Values are shown as text (long ones shortened).
 */
export const ColumnMismatch = z.object({
  table: z.enum(['events', 'runs']),
  column: z.string(),
  seq: z.number().int().nullable(),
  stored: z.string().nullable(),
  expected: z.string().nullable(),
});
export type ColumnMismatch = z.infer<typeof ColumnMismatch>;

export const RunVerification = z.object({
  runId: z.string(),
  ndjson: StoreSummary.nullable(),
  sqlite: StoreSummary.nullable(),
  agree: z.boolean(),
  quarantined: z.boolean(),
  problems: z.array(z.string()),
  /** Absent in reports of builds that did not check columns (before issue 10.3). */
  mismatches: z.array(ColumnMismatch).optional(),
});
export type RunVerification = z.infer<typeof RunVerification>;

/** `PRAGMA quick_check` of keel.db: `messages` is `['ok']` when SQLite finds nothing wrong. */
export const SqliteCheck = z.object({
  ok: z.boolean(),
  messages: z.array(z.string()),
});
export type SqliteCheck = z.infer<typeof SqliteCheck>;

export const VerifyReport = z.object({
  ok: z.boolean(),
  runs: z.array(RunVerification),
  /** Absent in reports of builds that did not run it (before issue 10.3). */
  sqliteCheck: SqliteCheck.optional(),
});
export type VerifyReport = z.infer<typeof VerifyReport>;

/**
 * The background check after open: the records open trusted (up to each log's verified
 * marker) validated in full while the host serves. `damaged` runs are quarantined.
 */
export const LedgerCheck = z.object({
  state: z.enum(['running', 'ok', 'damaged', 'failed', 'stopped']),
  runsToCheck: z.number().int().nonnegative(),
  runsChecked: z.number().int().nonnegative(),
  damagedRuns: z.array(z.string()),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
});
export type LedgerCheck = z.infer<typeof LedgerCheck>;

export const LedgerHealth = z.object({
  status: z.enum(['ok', 'failed']),
  error: z.string().nullable(),
  quarantinedRuns: z.array(z.string()),
  /** Absent for a read-only ledger (and in builds before issue 16). */
  check: LedgerCheck.optional(),
});
export type LedgerHealth = z.infer<typeof LedgerHealth>;
