import fs from 'node:fs';
import { RunId, type LedgerEvent } from '../contract/schemas/ledger.js';
import { copyRangeAtomic, fsyncDir, writeFully } from '../fsutil/index.js';
import { LedgerError } from './errors.js';
import { genesisHash } from './hash-chain.js';
import { readLines } from './line-reader.js';
import { scanLog } from './log-scan.js';
import type { ledgerPaths } from './paths.js';
import { checkRecord } from './record-check.js';
import type { BatchRecord, SqliteStore } from './sqlite-store.js';

type Paths = ReturnType<typeof ledgerPaths>;

function runIdOf(file: string): string {
  const first = readLines(file).next();
  if (first.done) throw new LedgerError('import_invalid', `${file} is empty.`);
  let runId: unknown;
  try {
    runId = (JSON.parse(first.value.bytes.toString('utf8')) as { run_id?: unknown }).run_id;
  } catch {
    throw new LedgerError('import_invalid', `${file}: the first line is not JSON.`);
  }
  const parsed = RunId.safeParse(runId);
  if (!parsed.success) throw new LedgerError('import_invalid', `${file}: the first record has no valid run_id.`);
  return parsed.data;
}

/**
 * Imports a run log exported elsewhere: every record must validate and chain from the run's
 * genesis, with no torn tail. Stored byte for byte and marked read-only.
 */
export function importRunLog(store: SqliteStore, paths: Paths, file: string): { runId: string; count: number; lastHash: string; alreadyPresent: boolean } {
  const runId = runIdOf(file);
  const records: BatchRecord[] = [];
  const scan = scanLog(file, runId, (event, line) => records.push({ event, line: line.toString('utf8') }));
  if (scan.damage) {
    throw new LedgerError('import_invalid', `${file}: record ${scan.damage.seq} at byte ${scan.damage.offset} is invalid (${scan.damage.reason}); nothing was imported.`);
  }
  const target = paths.logOf(runId);
  if (fs.existsSync(target)) {
    if (fs.readFileSync(target).equals(fs.readFileSync(file))) return { runId, count: scan.count, lastHash: scan.lastHash, alreadyPresent: true };
    throw new LedgerError('import_conflict', `Run ${runId} already exists here with different content; nothing was imported.`);
  }
  const stored = store.run(runId);
  const interrupted = stored?.origin === 'imported' && stored.lastSeq === scan.lastSeq && store.lastHashOf(runId) === scan.lastHash;
  if (!interrupted) {
    if (store.extent(runId).count > 0) throw new LedgerError('import_conflict', `SQLite already holds events of run ${runId}; nothing was imported.`);
    // SQLite first, marked read-only in the same transaction: a crash before the log is copied
    // leaves an imported run with a missing log (quarantined, repairable), never a writable one.
    store.db.transaction(() => {
      for (let start = 0; start < records.length; start += 2_000) store.insertBatch(records.slice(start, start + 2_000));
      store.markImported(runId);
      store.setMarker(runId, scan.lastSeq, scan.validBytes);
    })();
  }
  copyRangeAtomic(file, target, 0, scan.totalBytes);
  store.setQuarantine(runId, null);
  return { runId, count: scan.count, lastHash: scan.lastHash, alreadyPresent: false };
}

/**
 * Appends to the NDJSON log the events SQLite holds beyond it, after checking that they
 * continue the log's chain. Refused when the log itself is damaged.
 */
export function repairFromSqlite(store: SqliteStore, paths: Paths, runId: string): { appended: number; lastSeq: number; lastHash: string } {
  const file = paths.logOf(runId);
  const exists = fs.existsSync(file);
  const scan = exists ? scanLog(file, runId) : { lastSeq: 0, lastHash: genesisHash(runId), damage: null, validBytes: 0 };
  if (scan.damage) {
    throw new LedgerError('repair_refused', `The NDJSON log of ${runId} is damaged at record ${scan.damage.seq} (${scan.damage.reason}); repair from SQLite only extends an intact log.`);
  }
  let seq = scan.lastSeq + 1;
  let prev = scan.lastHash;
  const lines: Buffer[] = [];
  for (const record of store.read(runId, seq, Number.MAX_SAFE_INTEGER)) {
    const bytes = Buffer.from(record);
    const check = checkRecord(bytes, { runId, seq, prev });
    if (!check.ok) throw new LedgerError('repair_refused', `SQLite record ${seq} of ${runId} does not continue the log: ${check.reason}.`);
    lines.push(bytes, Buffer.from('\n'));
    prev = (check.event as LedgerEvent).hash;
    seq += 1;
  }
  if (lines.length > 0) {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o600);
    try {
      writeFully(fd, Buffer.concat(lines));
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (!exists) fsyncDir(paths.logDir);
  }
  store.setQuarantine(runId, null);
  store.setMarker(runId, seq - 1, fs.statSync(file).size);
  return { appended: lines.length / 2, lastSeq: seq - 1, lastHash: prev };
}
