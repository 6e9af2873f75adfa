import fs from 'node:fs';
import type { RunVerification, StoreSummary } from '../contract/schemas/ledger.js';
import { genesisHash } from './hash-chain.js';
import { scanLog } from './log-scan.js';
import { checkRecord } from './record-check.js';
import type { SqliteStore } from './sqlite-store.js';

function summarizeNdjson(file: string, runId: string, problems: string[], untilSeq: number | undefined): StoreSummary | null {
  if (!fs.existsSync(file)) {
    problems.push('no NDJSON log');
    return null;
  }
  const scan = scanLog(file, runId, undefined, untilSeq === undefined ? {} : { untilSeq });
  if (untilSeq !== undefined && scan.damage === null && fs.statSync(file).size > scan.validBytes) {
    problems.push(`NDJSON holds records past SQLite's seq ${untilSeq} (a batch in flight, or awaiting recovery)`);
  }
  if (scan.damage) problems.push(`NDJSON: record ${scan.damage.seq} at byte ${scan.damage.offset}: ${scan.damage.reason}`);
  return {
    count: scan.count,
    maxSeq: scan.lastSeq,
    contiguous: scan.damage === null,
    chainValid: scan.damage === null,
    lastHash: scan.count > 0 ? scan.lastHash : null,
  };
}

function summarizeSqlite(store: SqliteStore, runId: string, problems: string[]): StoreSummary | null {
  let count = 0;
  let maxSeq = 0;
  let contiguous = true;
  let chainValid = true;
  let prev = genesisHash(runId);
  for (const row of store.iterate(runId)) {
    count += 1;
    if (row.seq !== maxSeq + 1 && contiguous) {
      contiguous = false;
      problems.push(`SQLite: seq ${row.seq} follows ${maxSeq}`);
    }
    maxSeq = row.seq;
    if (!chainValid) continue;
    const check = checkRecord(Buffer.from(row.record), { runId, seq: row.seq, prev });
    if (!check.ok) {
      chainValid = false;
      problems.push(`SQLite: record ${row.seq}: ${check.reason}`);
      continue;
    }
    prev = check.event.hash;
  }
  if (count === 0) {
    problems.push('no events in SQLite');
    return null;
  }
  return { count, maxSeq, contiguous, chainValid, lastHash: chainValid ? prev : null };
}

/**
 * Proves the two stores agree for one run (I2): same count, same max seq, both contiguous,
 * both chains valid and ending on the same hash, and the run not quarantined.
 */
export function verifyRun(
  store: SqliteStore,
  runId: string,
  file: string,
  quarantineReason: string | null,
  tolerateInFlight = false,
): RunVerification {
  const problems: string[] = [];
  // SQLite first (one statement, one snapshot): the writer syncs NDJSON before it commits,
  // so everything SQLite holds is already in the log.
  const sqlite = summarizeSqlite(store, runId, problems);
  const ndjson = summarizeNdjson(file, runId, problems, tolerateInFlight && sqlite ? sqlite.maxSeq : undefined);
  if (quarantineReason) problems.push(`quarantined: ${quarantineReason}`);
  const agree =
    ndjson !== null &&
    sqlite !== null &&
    ndjson.count === sqlite.count &&
    ndjson.maxSeq === sqlite.maxSeq &&
    ndjson.contiguous &&
    sqlite.contiguous &&
    ndjson.chainValid &&
    sqlite.chainValid &&
    ndjson.lastHash === sqlite.lastHash;
  if (ndjson && sqlite && (ndjson.count !== sqlite.count || ndjson.lastHash !== sqlite.lastHash)) {
    problems.push(`stores differ: NDJSON ${ndjson.count} events, SQLite ${sqlite.count}`);
  }
  return { runId, ndjson, sqlite, agree, quarantined: quarantineReason !== null, problems };
}
