import fs from 'node:fs';
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { scanLog, type LogScan, type ScanStart } from './log-scan.js';
import type { BatchRecord, SqliteStore } from './sqlite-store.js';

const BATCH = 2_000;

export interface RunBackfill {
  runId: string;
  /** Events copied from NDJSON into SQLite. */
  inserted: number;
  /** True when the marker showed nothing had changed since the last backfill. */
  upToDate: boolean;
  scan: LogScan | null;
}

export interface BackfillOptions {
  /** Scan even when the marker says nothing changed (recovery). */
  force?: boolean;
  /** Validate and copy only what lies past this already validated prefix (open, past a verified marker). */
  from?: ScanStart;
  /** The highest seq SQLite holds contiguously, when the caller knows it (saves counting the run's rows). */
  have?: number;
}

/**
 * Copies every valid NDJSON record that SQLite lacks into SQLite, idempotently, and records a
 * verified marker (seq, log size and chain head) so an unchanged log is skipped next time and
 * open resumes past it.
 */
export function backfillRun(store: SqliteStore, runId: string, file: string, options: BackfillOptions = {}): RunBackfill {
  let have = options.have;
  if (have === undefined || !options.force) {
    const size = fs.statSync(file).size;
    const stored = store.extent(runId);
    // A gap in SQLite (never produced by Keel, but possible after manual edits) means re-offer everything.
    have ??= stored.count === stored.maxSeq ? stored.maxSeq : 0;
    const marker = store.marker(runId);
    if (!options.force && marker && marker.logBytes === size && marker.throughSeq === stored.maxSeq) {
      return { runId, inserted: 0, upToDate: true, scan: null };
    }
  }
  const floor = have;
  let inserted = 0;
  let pending: BatchRecord[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    store.insertBatch(pending);
    inserted += pending.length;
    pending = [];
  };
  const scan = scanLog(file, runId, (event: LedgerEvent, line: Buffer) => {
    if (event.seq <= floor) return;
    pending.push({ event, line: line.toString('utf8') });
    if (pending.length >= BATCH) flush();
  }, options.from ? { from: options.from } : {});
  flush();
  store.setMarker(runId, scan.lastSeq, scan.validBytes, scan.lastSeq > 0 ? scan.lastHash : null);
  return { runId, inserted, upToDate: false, scan };
}

