import fs from 'node:fs';
import path from 'node:path';
import { RunId, type LedgerEvent } from '../contract/schemas/ledger.js';
import { FILE_MODE, fsyncDir, writeFully } from '../fsutil/index.js';
import { MAX_RECORD_BYTES } from './append-record.js';
import { LedgerError } from './errors.js';
import { genesisHash } from './hash-chain.js';
import { readLines, type Line } from './line-reader.js';
import type { ledgerPaths } from './paths.js';
import { CHUNK, MAX_IMPORT_BYTES, NEWLINE, parseTrailer, stagingName, type ExportTrailer } from './export-format.js';
import { checkRecord } from './record-check.js';
import type { BatchRecord, SqliteStore } from './sqlite-store.js';

type Paths = ReturnType<typeof ledgerPaths>;

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

export interface ImportOptions {
  /**
   * Refuse a file without an export trailer (completeness unknown: an export from an older
   * build, or a file cut at a line boundary). `keel ledger import` sets it unless told
   * `--allow-incomplete`.
   */
  requireTrailer?: boolean;
  /** Bounds (tests lower them): the whole file, and one line with its newline. */
  maxBytes?: number;
  maxLineBytes?: number;
}

export interface ImportResult {
  runId: string;
  /** Records in the file. */
  count: number;
  /** The run was here already with every record of the file (identical, or longer). */
  alreadyPresent: boolean;
  /** Records appended to an earlier, shorter import of the same chain. */
  appended?: number;
  /** The export trailer, checked against the records; undefined for a file without one. */
  trailer?: ExportTrailer;
}

const sizeText = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(bytes >= 10 * 1024 * 1024 ? 0 : 1)} MiB` : `${bytes} bytes`);

function openSource(file: string): number {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : `cannot be opened (${code ?? String(error)})`;
    throw new LedgerError('import_invalid', `${file} ${why}; nothing was imported.`);
  }
  return fd;
}

function checkSourceStat(fd: number, file: string, maxBytes: number): fs.Stats {
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    const kind = stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a pipe' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isSocket() ? 'a socket' : 'not a regular file';
    throw new LedgerError('import_invalid', `${file} is ${kind}; import reads only a regular file (an export written by \`keel ledger export --out FILE\`). Nothing was imported.`);
  }
  if (stat.size > maxBytes) {
    throw new LedgerError('import_too_large', `${file} is ${sizeText(stat.size)}; an import reads at most ${sizeText(maxBytes)}. Nothing was imported.`);
  }
  return stat;
}

/**
 * Refuses, before anything is opened or locked, a path that cannot be an export: missing,
 * unreadable, not a regular file (a device such as /dev/zero, a pipe, a directory) or larger
 * than MAX_IMPORT_BYTES; with `requireTrailer`, also one whose last line is not an export
 * trailer (a truncated export). Reads at most the last 4 KiB. `import` checks all of it again,
 * and every record, on the file it reads.
 */
export function checkImportSource(file: string, options: { maxBytes?: number; requireTrailer?: boolean } = {}): void {
  const fd = openSource(file);
  try {
    const stat = checkSourceStat(fd, file, options.maxBytes ?? MAX_IMPORT_BYTES);
    if (!options.requireTrailer || stat.size === 0) return;
    const tail = Buffer.alloc(Math.min(stat.size, 4096));
    const read = fs.readSync(fd, tail, 0, tail.length, stat.size - tail.length);
    const end = tail.subarray(0, read);
    if (end.at(-1) !== 10) {
      throw new LedgerError('import_invalid', `${file} ends in the middle of a line: the file was cut short. Nothing was imported; export the run again.`);
    }
    const lastLine = end.subarray(end.lastIndexOf(10, end.length - 2) + 1, end.length - 1);
    if (!parseTrailer(lastLine, file)) throw missingTrailer(file);
  } finally {
    fs.closeSync(fd);
  }
}

const missingTrailer = (file: string) =>
  new LedgerError(
    'import_incomplete',
    `${file} has no export trailer, so whether it holds the whole run is unknown (a file cut short at a line boundary looks the same). ` +
      'Export the run again with this Keel, or import what it holds with --allow-incomplete. Nothing was imported.',
  );

/**
 * Lines of an open file in bounded memory: no line longer than `maxLineBytes` (with its newline)
 * and no more than `maxBytes` in all are ever held or read.
 */
function* boundedLines(fd: number, file: string, maxBytes: number, maxLineBytes: number): Generator<Line> {
  let position = 0;
  let pieces: Buffer[] = [];
  let pending = 0;
  let lineStart = 0;
  const tooLong = () =>
    new LedgerError(
      'import_invalid',
      `${file}: the line at byte ${lineStart} is longer than ${sizeText(maxLineBytes)}, the largest record a ledger holds; this is not a Keel export. Nothing was imported.`,
    );
  for (;;) {
    const data = Buffer.allocUnsafe(CHUNK);
    const read = fs.readSync(fd, data, 0, CHUNK, position);
    if (read === 0) break;
    position += read;
    if (position > maxBytes) {
      throw new LedgerError('import_too_large', `${file} grew past ${sizeText(maxBytes)} while it was read; an import reads at most that. Nothing was imported.`);
    }
    const filled = data.subarray(0, read);
    let from = 0;
    for (;;) {
      const newline = filled.indexOf(10, from);
      if (newline === -1) break;
      const part = filled.subarray(from, newline);
      const length = pending + part.length;
      if (length + 1 > maxLineBytes) throw tooLong();
      const bytes = pieces.length === 0 ? part : Buffer.concat([...pieces, part], length);
      yield { start: lineStart, end: lineStart + length + 1, bytes, terminated: true };
      lineStart += length + 1;
      pieces = [];
      pending = 0;
      from = newline + 1;
    }
    if (from < read) {
      pieces.push(filled.subarray(from));
      pending += read - from;
      if (pending + 1 > maxLineBytes) throw tooLong();
    }
  }
  if (pending > 0) yield { start: lineStart, end: lineStart + pending, bytes: Buffer.concat(pieces, pending), terminated: false };
}

interface Staged {
  /** The staged log: the file's records, byte for byte, without the trailer. */
  file: string;
  runId: string;
  count: number;
  lastHash: string;
  bytes: number;
  trailer: ExportTrailer | null;
}

function runIdOfFirstLine(line: Buffer, source: string): string {
  let runId: unknown;
  try {
    runId = (JSON.parse(line.toString('utf8')) as { run_id?: unknown }).run_id;
  } catch {
    throw new LedgerError('import_invalid', `${source}: the first line is not JSON; nothing was imported.`);
  }
  const parsed = RunId.safeParse(runId);
  if (!parsed.success) throw new LedgerError('import_invalid', `${source}: the first record has no valid run_id; nothing was imported.`);
  return parsed.data;
}

/**
 * Reads the source once, in bounded memory, checking every record against the chain and the
 * trailer against the records, and copies the records into a private staged file in `dir`.
 * Nothing else is touched: any refusal leaves no trace.
 */
function stage(source: string, dir: string, options: ImportOptions): Staged {
  const maxBytes = options.maxBytes ?? MAX_IMPORT_BYTES;
  const maxLineBytes = options.maxLineBytes ?? MAX_RECORD_BYTES;
  const fd = openSource(source);
  const staged = path.join(dir, stagingName('import'));
  let out: number | null = null;
  try {
    checkSourceStat(fd, source, maxBytes);
    out = fs.openSync(staged, 'wx', FILE_MODE);
    let runId: string | null = null;
    let seq = 1;
    let prev = '';
    let bytes = 0;
    let trailer: ExportTrailer | null = null;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flush = () => {
      if (batchBytes > 0) writeFully(out!, Buffer.concat(batch, batchBytes));
      batch = [];
      batchBytes = 0;
    };
    for (const line of boundedLines(fd, source, maxBytes, maxLineBytes)) {
      if (trailer) throw new LedgerError('import_invalid', `${source}: data follows the export trailer (byte ${line.start}); nothing was imported.`);
      if (!line.terminated) {
        throw new LedgerError(
          'import_invalid',
          `${source} ends in the middle of a line (byte ${line.start}): the file was cut short. Nothing was imported; export the run again.`,
        );
      }
      if (runId === null) {
        if (parseTrailer(line.bytes, source)) throw new LedgerError('import_invalid', `${source} holds no records, only an export trailer; nothing was imported.`);
        runId = runIdOfFirstLine(line.bytes, source);
        prev = genesisHash(runId);
      }
      const check = checkRecord(line.bytes, { runId, seq, prev });
      if (check.ok) {
        batch.push(line.bytes, NEWLINE);
        batchBytes += line.bytes.length + 1;
        if (batchBytes >= CHUNK) flush();
        bytes = line.end;
        seq += 1;
        prev = check.event.hash;
        continue;
      }
      const found = parseTrailer(line.bytes, source);
      if (!found) throw new LedgerError('import_invalid', `${source}: record ${seq} at byte ${line.start} is invalid (${check.reason}); nothing was imported.`);
      const count = seq - 1;
      if (found.run_id !== runId || found.count !== count || found.last_seq !== count || found.head_hash !== prev || found.log_bytes !== bytes) {
        throw new LedgerError(
          'import_invalid',
          `${source}: the export trailer describes ${found.count} records (${found.log_bytes} bytes, run ${found.run_id}) but the file holds ${count} (${bytes} bytes, run ${runId}) — records are missing or altered. Nothing was imported.`,
        );
      }
      trailer = found;
    }
    if (runId === null) throw new LedgerError('import_invalid', `${source} is empty; nothing was imported.`);
    if (!trailer && options.requireTrailer) throw missingTrailer(source);
    flush();
    fs.fsyncSync(out);
    fs.closeSync(out);
    out = null;
    return { file: staged, runId, count: seq - 1, lastHash: prev, bytes, trailer };
  } catch (error) {
    if (out !== null) fs.closeSync(out);
    fs.rmSync(staged, { force: true });
    throw error;
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether the first `length` bytes of `a` and `b` are equal (both must be that long). */
function samePrefix(a: string, b: string, length: number): boolean {
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  try {
    const ba = Buffer.allocUnsafe(CHUNK);
    const bb = Buffer.allocUnsafe(CHUNK);
    for (let position = 0; position < length; ) {
      const want = Math.min(CHUNK, length - position);
      const ra = fs.readSync(fa, ba, 0, want, position);
      const rb = fs.readSync(fb, bb, 0, want, position);
      if (ra !== want || rb !== want || !ba.subarray(0, want).equals(bb.subarray(0, want))) return false;
      position += want;
    }
    return true;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/** The seq of the first record where two logs differ (1-based), for a conflict message. */
function firstDifference(a: string, b: string): number {
  const left = readLines(a);
  const right = readLines(b);
  for (let seq = 1; ; seq += 1) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done || !x.value.bytes.equals(y.value.bytes)) {
      left.return(undefined);
      right.return(undefined);
      return seq;
    }
  }
}

/** The hash of record `seq` of a staged (already checked) log. */
function hashAt(file: string, seq: number): string | null {
  let at = 0;
  for (const line of readLines(file)) {
    at += 1;
    if (at === seq) return (JSON.parse(line.bytes.toString('utf8')) as LedgerEvent).hash;
  }
  return null;
}

/** Inserts the staged log's records from byte `from` into SQLite, then `finish`, in one transaction. */
function insertFrom(store: SqliteStore, file: string, from: number, finish: () => void): number {
  let inserted = 0;
  store.db.transaction(() => {
    let batch: BatchRecord[] = [];
    let batchBytes = 0;
    for (const line of readLines(file, from)) {
      const text = line.bytes.toString('utf8');
      batch.push({ event: JSON.parse(text) as LedgerEvent, line: text });
      batchBytes += line.bytes.length;
      inserted += 1;
      if (batch.length >= 2_000 || batchBytes >= 8 * CHUNK) {
        store.insertBatch(batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) store.insertBatch(batch);
    finish();
  })();
  return inserted;
}

/** Puts the staged log in place of the run's log: rename, then fsync the directory. */
function place(staged: Staged, target: string): void {
  fs.renameSync(staged.file, target);
  fsyncDir(path.dirname(target));
}

/**
 * Imports a run exported elsewhere. Every record must validate and chain from the run's genesis,
 * with no torn line; a trailer must match the records (and is required with `requireTrailer`).
 * The source must be a regular file within the bounds; it is read once, in bounded memory, into
 * a private staged copy, and only that copy is stored. The run is stored byte for byte and
 * marked read-only. A run already here is left alone when it holds every record of the file;
 * an earlier import of a shorter export of the same chain is extended; anything else conflicts.
 */
export function importRunLog(store: SqliteStore, paths: Paths, file: string, options: ImportOptions = {}): ImportResult & { lastHash: string } {
  const staged = stage(file, paths.logDir, options);
  try {
    return { ...placeStaged(store, paths, staged), lastHash: staged.lastHash };
  } finally {
    fs.rmSync(staged.file, { force: true });
  }
}

function placeStaged(store: SqliteStore, paths: Paths, staged: Staged): ImportResult {
  const { runId, count } = staged;
  const result = (alreadyPresent: boolean, appended?: number): ImportResult => ({
    runId,
    count,
    alreadyPresent,
    ...(appended ? { appended } : {}),
    ...(staged.trailer ? { trailer: staged.trailer } : {}),
  });
  const target = paths.logOf(runId);
  const held = fs.statSync(target, { throwIfNoEntry: false });
  const stored = store.run(runId);
  if (held) {
    // Everything the file holds is here already (the same log, or a longer one).
    if (held.size >= staged.bytes && samePrefix(target, staged.file, staged.bytes)) return result(true);
    // An earlier import of a shorter export of the same chain: extend it.
    if (held.size < staged.bytes && samePrefix(target, staged.file, held.size) && (held.size === 0 || endsLineAt(staged.file, held.size))) {
      if (stored?.origin !== 'imported') {
        throw new LedgerError(
          'import_conflict',
          `Run ${runId} was created here, not imported; an export only extends a run that was imported. Nothing was imported.`,
        );
      }
      // The log first (I2), whole: the staged file is the complete new log and starts with the
      // old one, so a rename replaces it atomically. SQLite follows; a crash in between is
      // backfilled from the log on the next open.
      place(staged, target);
      const appended = insertFrom(store, target, held.size, () => {
        store.markImported(runId);
        store.setMarker(runId, count, staged.bytes);
      });
      return result(false, appended);
    }
    throw new LedgerError(
      'import_conflict',
      `Run ${runId} already exists here and differs from this file from record ${firstDifference(target, staged.file)} on; nothing was imported.`,
    );
  }
  const extent = store.extent(runId);
  if (extent.count > 0) {
    // An import interrupted between SQLite and the log (SQLite rows, no log): completed when
    // the rows are a prefix of this file's chain.
    const prefix =
      stored?.origin === 'imported' && extent.count === extent.maxSeq && extent.maxSeq <= count && hashAt(staged.file, extent.maxSeq) === store.lastHashOf(runId);
    if (!prefix) throw new LedgerError('import_conflict', `SQLite already holds other events of run ${runId}; nothing was imported.`);
  }
  // SQLite first, marked read-only in the same transaction: a crash before the log is placed
  // leaves an imported run with a missing log (quarantined, repairable), never a writable one.
  insertFrom(store, staged.file, 0, () => {
    store.markImported(runId);
    store.setMarker(runId, count, staged.bytes);
  });
  place(staged, target);
  store.setQuarantine(runId, null);
  return result(false);
}

/** Whether byte `offset - 1` of `file` is a newline (a record boundary). */
function endsLineAt(file: string, offset: number): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const byte = Buffer.alloc(1);
    return fs.readSync(fd, byte, 0, 1, offset - 1) === 1 && byte[0] === 10;
  } finally {
    fs.closeSync(fd);
  }
}

