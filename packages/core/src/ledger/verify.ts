import fs from 'node:fs';
import type { ColumnMismatch, LedgerEvent, RunVerification, StoreSummary, VerifyReport } from '../contract/schemas/ledger.js';
import { canonicalJson } from '../contract/canonical-json.js';
import { genesisHash, hashAndLine } from './hash-chain.js';
import { scanLog } from './log-scan.js';
import { AGENT_EXIT_COLUMNS, PROJECTED_COLUMNS, foldProjection, type RunProjection } from './projection.js';
import { toolCallsInMemory } from './usage-projection.js';
import { checkRecord } from './record-check.js';
import type { RunRow } from './run-summary.js';
import type { SqliteStore, StoredEventRow } from './sqlite-store.js';

/** Column mismatches listed per run; past this only their number is given. */
const MAX_MISMATCHES = 20;
/** The migration that set `runs.created` to the first event's time (earlier rows kept the old rule). */
const CREATED_FROM_FIRST_EVENT = 5;
/** The schema whose runs rows project the newest agent's exit (migration 11). */
const AGENT_EXIT_PROJECTED = 11;

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

/** A stored value as report text: strings shortened, blobs and other types named. */
function shown(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.length > 120 ? `${value.slice(0, 117)}...` : value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return `<blob of ${value.length} bytes>`;
  return `<${typeof value}>`;
}

/** A record that is intact on its own (its hash is its content's, its bytes canonical), chain aside. */
function selfConsistent(record: unknown): LedgerEvent | null {
  if (typeof record !== 'string') return null;
  try {
    const event = JSON.parse(record) as LedgerEvent;
    if (event === null || typeof event !== 'object' || Array.isArray(event)) return null;
    const { hash, ...unhashed } = event;
    return hashAndLine(unhashed).line === record && typeof hash === 'string' ? event : null;
  } catch {
    return null;
  }
}

class Mismatches {
  readonly list: ColumnMismatch[] = [];
  count = 0;
  add(mismatch: ColumnMismatch): void {
    this.count += 1;
    if (this.list.length < MAX_MISMATCHES) this.list.push(mismatch);
  }
}

/** Every derived column of an events row against the record it was derived from. */
function compareEventColumns(row: StoredEventRow, event: LedgerEvent, mismatches: Mismatches): void {
  // Spelled out rather than looped: this runs once per event of the ledger.
  const add = (column: string, stored: unknown, expected: unknown) =>
    mismatches.add({ table: 'events', column, seq: row.seq, stored: shown(stored), expected: shown(expected) });
  if (row.run_id !== event.run_id) add('run_id', row.run_id, event.run_id);
  if (row.seq !== event.seq) add('seq', row.seq, event.seq);
  if (row.ts !== event.ts) add('ts', row.ts, event.ts);
  if (row.type !== event.type) add('type', row.type, event.type);
  if (row.generation !== (event.generation ?? null)) add('generation', row.generation, event.generation ?? null);
  if (row.hash !== event.hash) add('hash', row.hash, event.hash);
}

interface SqliteSide {
  summary: StoreSummary | null;
  /** The fold of every event, or null when the events do not form an intact chain from seq 1. */
  projection: RunProjection | null;
}

/**
 * Reads a run's events rows: count, contiguity and chain (as in the NDJSON log), every column of
 * every row against its record, and the fold the runs projection must equal.
 */
function summarizeSqlite(store: SqliteStore, runId: string, problems: string[], mismatches: Mismatches): SqliteSide {
  let count = 0;
  let maxSeq = 0;
  let contiguous = true;
  let chainValid = true;
  let prev = genesisHash(runId);
  let projection: RunProjection | null = null;
  const isNewToolCall = toolCallsInMemory();
  for (const row of store.rows(runId)) {
    count += 1;
    if (row.seq !== maxSeq + 1 && contiguous) {
      contiguous = false;
      problems.push(`SQLite: seq ${row.seq} follows ${maxSeq}`);
    }
    maxSeq = row.seq;
    let event: LedgerEvent | null = null;
    if (chainValid) {
      const check = typeof row.record === 'string' ? checkRecord(Buffer.from(row.record), { runId, seq: row.seq, prev }) : null;
      if (check?.ok) {
        event = check.event;
        prev = event.hash;
        projection = foldProjection(projection, event, isNewToolCall);
      } else {
        chainValid = false;
        problems.push(`SQLite: record ${row.seq}: ${check ? check.reason : `the record column holds ${shown(row.record) ?? 'NULL'}`}`);
      }
    }
    // Past a break the chain proves nothing, but a record intact on its own still shows which columns moved.
    event ??= selfConsistent(row.record);
    if (event) compareEventColumns(row, event, mismatches);
  }
  if (count === 0) {
    problems.push('no events in SQLite');
    return { summary: null, projection: null };
  }
  return {
    summary: { count, maxSeq, contiguous, chainValid, lastHash: chainValid ? prev : null },
    projection: contiguous && chainValid ? projection : null,
  };
}

/** Flags that are set in pairs (`quarantined` with its reason, `read_only` with `origin = 'imported'`). */
function compareFlags(row: RunRow, mismatches: Mismatches): void {
  const quarantined = row.quarantine_reason === null ? 0 : 1;
  if (row.quarantined !== quarantined) {
    mismatches.add({ table: 'runs', column: 'quarantined', seq: null, stored: shown(row.quarantined), expected: String(quarantined) });
  }
  if (row.origin !== 'local' && row.origin !== 'imported') {
    mismatches.add({ table: 'runs', column: 'origin', seq: null, stored: shown(row.origin), expected: "'local' or 'imported'" });
    return;
  }
  const readOnly = row.origin === 'imported' ? 1 : 0;
  if (row.read_only !== readOnly) mismatches.add({ table: 'runs', column: 'read_only', seq: null, stored: shown(row.read_only), expected: String(readOnly) });
}

function sameAgent(stored: unknown, expected: string | null): boolean {
  if (stored === expected) return true;
  if (typeof stored !== 'string' || expected === null) return false;
  try {
    // Rows written before the fold stored the agent in its parsed key order.
    return canonicalJson(JSON.parse(stored)) === expected;
  } catch {
    return false;
  }
}

/** The derived columns of the runs row against the fold of the run's events (as the store writes them). */
function compareProjection(row: RunRow, expected: RunProjection, schemaVersion: number, mismatches: Mismatches): void {
  for (const column of PROJECTED_COLUMNS) {
    if (column === 'created' && schemaVersion < CREATED_FROM_FIRST_EVENT) continue;
    if (AGENT_EXIT_COLUMNS.has(column) && schemaVersion < AGENT_EXIT_PROJECTED) continue;
    const stored = row[column];
    const value = expected[column];
    if (column === 'agent' ? sameAgent(stored, expected.agent) : stored === value) continue;
    mismatches.add({ table: 'runs', column, seq: null, stored: shown(stored), expected: shown(value) });
  }
}

function describeMismatch(mismatch: ColumnMismatch): string {
  const stored = mismatch.stored === null ? 'NULL' : JSON.stringify(mismatch.stored);
  const expected = mismatch.expected === null ? 'NULL' : JSON.stringify(mismatch.expected);
  if (mismatch.table === 'runs' && mismatch.column === 'id') return 'SQLite has events of this run but no runs row';
  if (mismatch.table === 'events') return `SQLite events row ${mismatch.seq}: column ${mismatch.column} is ${stored} but the record says ${expected}`;
  return `SQLite runs row: column ${mismatch.column} is ${stored} but should be ${expected}`;
}

/**
 * Proves the two stores agree for one run (I2): same count, same max seq, both contiguous,
 * both chains valid and ending on the same hash, and the run not quarantined; and that SQLite
 * agrees with itself: every events column equals its record's field, and the runs row equals
 * the fold of the run's events.
 */
export function verifyRun(
  store: SqliteStore,
  runId: string,
  file: string,
  quarantineReason: string | null,
  tolerateInFlight = false,
  schemaVersion = store.schemaVersion(),
): RunVerification {
  const problems: string[] = [];
  const mismatches = new Mismatches();
  // SQLite first, in one snapshot (events and runs row alike): the writer syncs NDJSON before
  // it commits, so everything SQLite holds is already in the log.
  let sqlite: StoreSummary | null = null;
  try {
    sqlite = store.snapshot(() => {
      const side = summarizeSqlite(store, runId, problems, mismatches);
      const row = store.runRow(runId);
      if (row) compareFlags(row, mismatches);
      if (side.projection && !row) {
        mismatches.add({ table: 'runs', column: 'id', seq: null, stored: null, expected: runId });
      } else if (side.projection && row) {
        compareProjection(row, side.projection, schemaVersion, mismatches);
      }
      return side.summary;
    });
  } catch (error) {
    // A page SQLite cannot read (SQLITE_CORRUPT and the like): this run's half is unreadable.
    sqlite = null;
    problems.push(`SQLite could not be read: ${(error as Error).message}`);
  }
  for (const mismatch of mismatches.list) problems.push(describeMismatch(mismatch));
  if (mismatches.count > mismatches.list.length) problems.push(`...and ${mismatches.count - mismatches.list.length} more column mismatches`);
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
    ndjson.lastHash === sqlite.lastHash &&
    mismatches.count === 0;
  if (ndjson && sqlite && (ndjson.count !== sqlite.count || ndjson.lastHash !== sqlite.lastHash)) {
    problems.push(`stores differ: NDJSON ${ndjson.count} events, SQLite ${sqlite.count}`);
  }
  return { runId, ndjson, sqlite, agree, quarantined: quarantineReason !== null, problems, mismatches: mismatches.list };
}

export interface RunToVerify {
  runId: string;
  file: string;
  quarantineReason: string | null;
}

/**
 * Verifies the runs given and keel.db as a whole (`PRAGMA quick_check`, once): `ok` only if
 * SQLite finds its file sound and every run agrees and none is quarantined.
 */
export function verifyLedger(store: SqliteStore, runs: readonly RunToVerify[], tolerateInFlight: boolean): VerifyReport {
  const sqliteCheck = store.quickCheck();
  const schemaVersion = store.schemaVersion();
  const results = runs.map((run) => verifyRun(store, run.runId, run.file, run.quarantineReason, tolerateInFlight, schemaVersion));
  return { ok: sqliteCheck.ok && results.every((run) => run.agree && !run.quarantined), runs: results, sqliteCheck };
}
