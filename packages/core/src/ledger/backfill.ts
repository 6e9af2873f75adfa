import fs from 'node:fs';
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { scanLog, type LogScan } from './log-scan.js';
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

/**
 * Copies every valid NDJSON record that SQLite lacks into SQLite, idempotently, and records a
 * marker (seq and log size) so an unchanged log is skipped next time.
 */
export function backfillRun(store: SqliteStore, runId: string, file: string, options: { force?: boolean } = {}): RunBackfill {
  const size = fs.statSync(file).size;
  const stored = store.extent(runId);
  // A gap in SQLite (never produced by Keel, but possible after manual edits) means re-offer everything.
  const have = stored.count === stored.maxSeq ? stored.maxSeq : 0;
  const marker = store.marker(runId);
  if (!options.force && marker && marker.logBytes === size && marker.throughSeq === stored.maxSeq) {
    return { runId, inserted: 0, upToDate: true, scan: null };
  }
  let inserted = 0;
  let pending: BatchRecord[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    store.insertBatch(pending);
    inserted += pending.length;
    pending = [];
  };
  const scan = scanLog(file, runId, (event: LedgerEvent, line: Buffer) => {
    if (event.seq <= have) return;
    pending.push({ event, line: line.toString('utf8') });
    if (pending.length >= BATCH) flush();
  });
  flush();
  store.setMarker(runId, scan.lastSeq, scan.validBytes);
  return { runId, inserted, upToDate: false, scan };
}

