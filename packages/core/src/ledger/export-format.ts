import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { RunId, Sha256Hex } from '../contract/schemas/ledger.js';
import { canonicalJson } from '../contract/canonical-json.js';
import { LedgerError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// The export format (a persisted format, I10)
//
// An export is the run's NDJSON log, byte for byte (complete records only), followed by one
// trailer line that says how long the log is and where its chain ends:
//
//   {"count":36,"head_hash":"<sha256>","keel_export":"trailer","last_seq":36,"log_bytes":14230,"run_id":"…","schema_version":1}
//
// A file cut anywhere loses the trailer (it is the last line) or breaks a record, so an import
// can tell a whole export from a truncated one. Exports from builds before the trailer have
// none: their completeness is unknown, and `keel ledger import` refuses them unless told
// `--allow-incomplete`.
// ---------------------------------------------------------------------------------------------

/** The export trailer's format version. Readers accept every version up to this one. */
export const EXPORT_SCHEMA_VERSION = 1;

/**
 * The largest file `import` reads: 64 records of the largest size (MAX_RECORD_BYTES), 1 GiB.
 * An import holds the writer lock while it reads and stores the file, and takes about three
 * times its size on disk while it does (the staged copy, the SQLite rows and their WAL), so
 * the bound keeps both finite. Runs measured so far are far smaller (a 10,000-event run is
 * ~4 MB); a larger export is refused with a plain message, never cut.
 */
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;

/** The key that marks a line as the trailer; no ledger record has it. */
const TRAILER_KEY = 'keel_export';

export const ExportTrailer = z.object({
  keel_export: z.literal('trailer'),
  schema_version: z.number().int().min(1).max(EXPORT_SCHEMA_VERSION),
  run_id: RunId,
  count: z.number().int().min(1),
  last_seq: z.number().int().min(1),
  head_hash: Sha256Hex,
  log_bytes: z.number().int().min(1),
});
export type ExportTrailer = z.infer<typeof ExportTrailer>;

export const NEWLINE = Buffer.from('\n');
export const CHUNK = 1 << 20;

/** The trailer line (with its newline) for a log of `count` records ending in `headHash`. */
export function exportTrailerLine(trailer: Omit<ExportTrailer, 'keel_export' | 'schema_version'>): Buffer {
  return Buffer.from(`${canonicalJson({ keel_export: 'trailer', schema_version: EXPORT_SCHEMA_VERSION, ...trailer })}\n`);
}

/** The trailer a line holds, or null for a line that is not one; throws for a trailer this build cannot read. */
export function parseTrailer(line: Buffer, source: string): ExportTrailer | null {
  let json: unknown;
  try {
    json = JSON.parse(line.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null || !Object.hasOwn(json, TRAILER_KEY)) return null;
  const version = (json as { schema_version?: unknown }).schema_version;
  if (typeof version === 'number' && Number.isInteger(version) && version > EXPORT_SCHEMA_VERSION) {
    throw new LedgerError(
      'import_invalid',
      `${source} was exported by a newer Keel (export format ${version}; this one reads up to ${EXPORT_SCHEMA_VERSION}); nothing was imported.`,
    );
  }
  const parsed = ExportTrailer.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LedgerError('import_invalid', `${source}: the export trailer is malformed (${issue?.path.join('.') || '(root)'}: ${issue?.message}); nothing was imported.`);
  }
  return parsed.data;
}

/** A hidden temporary name beside its target, unique per process and call. */
export const stagingName = (label: string) => `.${label}-${process.pid}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.tmp`;

