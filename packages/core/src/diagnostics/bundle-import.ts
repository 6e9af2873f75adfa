import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BundleImportResult, BundleManifest, ImportedRunCheck, LedgerEvent } from '../contract/index.js';
import { fsyncDir } from '../fsutil/index.js';
import { genesisHash, hashOf } from '../ledger/index.js';
import { BundleError, inspectBundle, openBundle, readEntry, safeEntryName, type BundleLimits } from './bundle-reader.js';
import { MANIFEST_ENTRY } from './bundle-writer.js';

/** Where imported bundles live, apart from the user's own runs: `<data>/imported/<bundle-id>/`. */
export const importedDir = (dataDir: string) => path.join(dataDir, 'imported');
/** What an import found, written beside the bundle's files. */
export const IMPORT_REPORT = 'import.json';

export type Parsed = { kind: 'record'; event: LedgerEvent } | { kind: 'trailer'; headHash: string; count: number; lastSeq: number } | { kind: 'bad'; reason: string };

/** One line of a ledger slice: a record, the export trailer, or a damaged line (with why). */
export function parseLine(line: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'bad', reason: 'not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'bad', reason: 'not a JSON object' };
  const record = value as Record<string, unknown>;
  if (record.keel_export === 'trailer') {
    return { kind: 'trailer', headHash: String(record.head_hash), count: Number(record.count), lastSeq: Number(record.last_seq) };
  }
  if (typeof record.seq !== 'number' || typeof record.hash !== 'string' || typeof record.prev !== 'string' || typeof record.run_id !== 'string') {
    return { kind: 'bad', reason: 'no seq, hash, prev or run_id' };
  }
  return { kind: 'record', event: record as unknown as LedgerEvent };
}

/** The events of a ledger slice (an export: records, then the trailer), in order; damaged lines are skipped. */
export function* sliceEvents(text: string): Generator<LedgerEvent> {
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const parsed = parseLine(line);
    if (parsed.kind === 'record') yield parsed.event;
  }
}

/**
 * Checks a ledger slice from a bundle: every record links to the one before it (seq + 1, prev =
 * the previous record's hash, from the run's genesis), every record not listed as redacted
 * hashes to its own `hash`, and the trailer's head is the last record's hash. Redacted
 * records are reported as such: their links are checked, their content cannot be.
 */
export function checkSlice(runId: string, text: string, redactedSeqs: readonly number[]): ImportedRunCheck {
  const redacted = new Set(redactedSeqs);
  const problems: string[] = [];
  let prev = genesisHash(runId);
  let lastSeq = 0;
  let events = 0;
  let verified = 0;
  let trailer: { headHash: string; count: number; lastSeq: number } | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const parsed = parseLine(line);
    if (parsed.kind === 'bad') {
      problems.push(`line ${i + 1} is not a ledger record (${parsed.reason})`);
      continue;
    }
    if (parsed.kind === 'trailer') {
      trailer = parsed;
      continue;
    }
    const { event } = parsed;
    events += 1;
    if (event.run_id !== runId) problems.push(`seq ${event.seq} belongs to run ${event.run_id}, not ${runId}`);
    if (event.seq !== lastSeq + 1) problems.push(`seq ${event.seq} follows seq ${lastSeq} (a gap or a repeat)`);
    if (event.prev !== prev) problems.push(`seq ${event.seq} does not link to the record before it (prev ${event.prev.slice(0, 12)}…, expected ${prev.slice(0, 12)}…)`);
    if (!redacted.has(event.seq)) {
      const { hash, ...unhashed } = event;
      if (hashOf(unhashed) === hash) {
        if (event.prev === prev) verified += 1;
      } else {
        problems.push(`seq ${event.seq} does not match its hash and is not listed as redacted: it was changed`);
      }
    }
    prev = event.hash;
    lastSeq = event.seq;
  }
  if (trailer) {
    if (trailer.headHash !== prev || trailer.lastSeq !== lastSeq || trailer.count !== events) {
      problems.push(`the slice ends at seq ${lastSeq} (${events} records) but its trailer says seq ${trailer.lastSeq} (${trailer.count} records)`);
    }
  } else {
    problems.push('the slice has no export trailer: it may be cut short (or the run was quarantined when bundled)');
  }
  for (const seq of redacted) if (seq > lastSeq) problems.push(`seq ${seq} is listed as redacted but is not in the slice`);
  return { run_id: runId, events, last_seq: lastSeq, verified, redacted: [...redacted].sort((a, b) => a - b), problems };
}

/** Extracts every listed entry of `manifest` into `dir` (which must not exist yet), checking each name stays inside. */
async function extract(file: string, manifest: BundleManifest, dir: string, limits?: BundleLimits): Promise<void> {
  const bundle = await openBundle(file, limits);
  try {
    for (const name of [MANIFEST_ENTRY, ...manifest.entries.map((entry) => entry.path)]) {
      const target = path.resolve(dir, ...name.split('/'));
      if (!safeEntryName(name) || !target.startsWith(dir + path.sep)) throw new BundleError(`${file} holds an entry whose path escapes the bundle (${JSON.stringify(name)}); refused.`);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      const fd = fs.openSync(target, 'wx', 0o600);
      try {
        await readEntry(bundle, name, (chunk) => {
          let at = 0;
          while (at < chunk.length) at += fs.writeSync(fd, chunk, at, chunk.length - at);
        });
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.chmodSync(target, 0o400);
    }
  } finally {
    bundle.close();
  }
}

/**
 * Imports a diagnostics bundle, read-only, under `<data>/imported/<bundle-id>/` — never into
 * the user's own ledger. The bundle is checked first (manifest version, every checksum, entry
 * names, size and ratio limits), then unpacked into a staging folder, every run's chain
 * checked, and the folder renamed into place. A bundle already imported is reported as such.
 */
export async function importBundle(file: string, dataDir: string, limits?: BundleLimits): Promise<BundleImportResult> {
  const source = path.resolve(file);
  const inspection = await inspectBundle(source, limits);
  if (!inspection.ok || !inspection.manifest) {
    throw new BundleError(`${source} failed its checks, nothing was imported:\n  ${inspection.problems.join('\n  ')}`);
  }
  const manifest = inspection.manifest;
  const root = importedDir(dataDir);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const dir = path.join(root, manifest.bundle_id);
  if (fs.existsSync(path.join(dir, IMPORT_REPORT))) {
    const earlier = JSON.parse(fs.readFileSync(path.join(dir, IMPORT_REPORT), 'utf8')) as BundleImportResult;
    return { ...earlier, dir, already: true };
  }
  const staging = path.join(root, `.${manifest.bundle_id}.${randomBytes(6).toString('hex')}.partial`);
  fs.mkdirSync(staging, { mode: 0o700 });
  try {
    await extract(source, manifest, staging, limits);
    const runs = manifest.runs.map((run) => {
      const slice = path.join(staging, ...run.ledger_entry.split('/'));
      return checkSlice(run.run_id, fs.readFileSync(slice, 'utf8'), run.redacted_seqs);
    });
    const result: BundleImportResult = { bundle_id: manifest.bundle_id, dir, already: false, runs };
    fs.writeFileSync(path.join(staging, IMPORT_REPORT), `${JSON.stringify({ ...result, source: path.basename(source) }, null, 2)}\n`, { mode: 0o400 });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
    fsyncDir(root);
    return result;
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}
