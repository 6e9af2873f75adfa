import { z } from 'zod';
import { RunId, Sha256Hex } from './ledger.js';

/**
 * The diagnostics bundle: a zip whose `manifest.json` describes every other entry (I10: a
 * persisted format, versioned). Readers accept every version up to this one and refuse newer.
 */
export const BUNDLE_SCHEMA_VERSION = 1;

/** A bundle's id: also the folder name its runs are imported under (`<data>/imported/<id>/`). */
export const BundleId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a bundle id is 1-64 letters, digits, "_" or "-"');

const count = z.number().int().nonnegative();
/** Redactions per rule id: counts only, never the values. */
export const RedactionCounts = z.record(z.string(), count);
export type RedactionCounts = z.infer<typeof RedactionCounts>;

export const BundleEntryKind = z.enum([
  'ledger',
  'protocol_log',
  'stderr_log',
  'app_log',
  'scorecard',
  'policy',
  'doctor',
  'versions',
  'verify',
  'note',
]);
export type BundleEntryKind = z.infer<typeof BundleEntryKind>;

/** One file inside the bundle (other than manifest.json), as written: after redaction. */
export const BundleEntry = z.object({
  path: z.string().min(1).max(512),
  kind: BundleEntryKind,
  size: count,
  sha256: Sha256Hex,
  /** The run the entry belongs to, for per-run files. */
  run_id: RunId.optional(),
  /** What redaction replaced in this entry, per rule. */
  redactions: RedactionCounts,
});
export type BundleEntry = z.infer<typeof BundleEntry>;

/** A run carried by the bundle. */
export const BundleRun = z.object({
  run_id: RunId,
  /** The ledger slice entry (`runs/<id>/ledger.ndjson`). */
  ledger_entry: z.string(),
  events: count,
  last_seq: count,
  /** The chain's head as recorded by the ledger (redaction keeps every record's `hash`). */
  head_hash: Sha256Hex.nullable(),
  /** Records whose text redaction changed: their place, seq, prev and hash are kept, their content is not what was hashed. */
  redacted_seqs: z.array(z.number().int().positive()),
  /** Why the run is quarantined (read-only, damaged), or null. */
  quarantined: z.string().nullable(),
});
export type BundleRun = z.infer<typeof BundleRun>;

export const BundleManifest = z.object({
  schema_version: z.number().int().min(1),
  bundle_id: BundleId,
  keel_version: z.string(),
  platform: z.object({ os: z.string(), arch: z.string(), release: z.string() }),
  created: z.string(),
  runs: z.array(BundleRun),
  entries: z.array(BundleEntry),
  redaction: z.object({
    /** The detectors that ran, for the reader: secretlint's preset and Keel's own rules. */
    detectors: z.array(z.string()),
    total: count,
    by_rule: RedactionCounts,
    by_file: z.record(z.string(), RedactionCounts),
  }),
});
export type BundleManifest = z.infer<typeof BundleManifest>;

/** What `keel bundle inspect` found: every entry checked against the manifest. */
export const BundleInspection = z.object({
  file: z.string(),
  ok: z.boolean(),
  manifest: BundleManifest.nullable(),
  entries: z.array(
    z.object({ path: z.string(), size: count, sha256: Sha256Hex.nullable(), status: z.enum(['ok', 'mismatch', 'missing', 'unlisted']) }),
  ),
  problems: z.array(z.string()),
});
export type BundleInspection = z.infer<typeof BundleInspection>;

/** One run of an import, with the chain check of its unredacted records. */
export const ImportedRunCheck = z.object({
  run_id: RunId,
  events: count,
  last_seq: count,
  /** Unredacted records whose hash and link both verified. */
  verified: count,
  /** Records listed as redacted (their own hash is not checked; the links around them are). */
  redacted: z.array(z.number().int().positive()),
  /** Plain-words problems: a broken link, a record whose hash does not match and is not listed as redacted. */
  problems: z.array(z.string()),
});
export type ImportedRunCheck = z.infer<typeof ImportedRunCheck>;

export const BundleImportResult = z.object({
  bundle_id: BundleId,
  dir: z.string(),
  /** True when this bundle had been imported before (nothing was written again). */
  already: z.boolean(),
  runs: z.array(ImportedRunCheck),
});
export type BundleImportResult = z.infer<typeof BundleImportResult>;

/** What `keel bundle` (and the "Export diagnostics…" button) reports. */
export const BundleWriteResult = z.object({
  file: z.string(),
  bytes: count,
  bundle_id: BundleId,
  runs: z.array(RunId),
  entries: count,
  redactions: count,
});
export type BundleWriteResult = z.infer<typeof BundleWriteResult>;

/**
 * What `diagnostics.progress` sends about the host's bundle export: its state first, then every
 * change. `done` and `total` are input bytes over every entry (the ledger and raw logs dominate).
 */
export const BundleExportProgress = z.discriminatedUnion('state', [
  z.object({ state: z.literal('idle') }).strict(),
  z.object({ state: z.literal('running'), runIds: z.array(z.string()), entry: z.string(), done: count, total: count }).strict(),
  z.object({ state: z.literal('finished'), runIds: z.array(z.string()), file: z.string().nullable() }).strict(),
  z.object({ state: z.literal('failed'), runIds: z.array(z.string()), message: z.string() }).strict(),
]);
export type BundleExportProgress = z.infer<typeof BundleExportProgress>;

/** Commands of the native application menu (Electron) that the renderer carries out on what it shows. */
export const AppMenuCommand = z.object({ command: z.enum(['export-diagnostics', 'open-bundle']) }).strict();
export type AppMenuCommand = z.infer<typeof AppMenuCommand>;
