import { z } from 'zod';

/** `keel doctor` (issue 12): what it checked, each ok | warn | fail with a fix in plain words. */
export const DOCTOR_SCHEMA_VERSION = 1;

export const DoctorStatus = z.enum(['ok', 'warn', 'fail']);
export type DoctorStatus = z.infer<typeof DoctorStatus>;

export const DoctorCheck = z.object({
  /** Stable id, e.g. `data_dir.mode`, `workspace.clean`. */
  id: z.string(),
  /** What the check is about: the data directory, a workspace path, an agent name. */
  subject: z.string(),
  status: DoctorStatus,
  /** One sentence: what was found. */
  summary: z.string(),
  /** What to do about it; null when nothing is needed. */
  fix: z.string().nullable(),
  /** Extra facts (versions, counts, lists), for --json and the diagnostics bundle. */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type DoctorCheck = z.infer<typeof DoctorCheck>;

export const DoctorReport = z.object({
  schema_version: z.number().int().min(1).max(DOCTOR_SCHEMA_VERSION),
  generatedAt: z.string(),
  dataDir: z.string(),
  /** The worst status of any check. */
  status: DoctorStatus,
  counts: z.object({ ok: z.number().int(), warn: z.number().int(), fail: z.number().int() }),
  checks: z.array(DoctorCheck),
  durationMs: z.number().int().nonnegative(),
});
export type DoctorReport = z.infer<typeof DoctorReport>;
