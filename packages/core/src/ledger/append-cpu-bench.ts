import fs from 'node:fs';
import path from 'node:path';
import type { AppendInput } from '../contract/schemas/ledger.js';
import { parseAppendInput, sealRecord } from './append-record.js';
import { openLedger } from './ledger.js';
import { PROCESS_FACTS_WHERE } from './migrations.js';
import { openDatabase } from './database.js';

/** CPU per appended event (user + system), Keel's append path beside the raw work it must do. */
export interface AppendCpuFigures {
  events: number;
  /** Keel: `ledger.append` with stream durability, WINDOW appends in flight (batches as a busy run makes them). */
  keel_us_per_event: number;
  /** Keel's work before any write: input check, canonical encoding, sha256 (parseAppendInput + sealRecord). */
  keel_before_write_us_per_event: number;
  /**
   * Raw: the same NDJSON bytes in the same batches, each written with one writeSync and one
   * fdatasync, then inserted with a prepared statement into a table of keel.db's `events`
   * shape (same keys and index) in one transaction per batch: what both stores cost at least.
   */
  raw_us_per_event: number;
  /** Keel / raw. */
  ratio: number;
}

/** Appends in flight at once (the scale bench's generator uses the same). */
const WINDOW = 2_000;
const FILLER = 'x'.repeat(80);

const cpuMicros = () => {
  const used = process.cpuUsage();
  return used.user + used.system;
};

function bodies(count: number): AppendInput[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'message.chunk', payload: { turn: 1 + Math.floor(i / 500), text: `${FILLER} ${i}` } }) as AppendInput);
}

/** Keel's append CPU and the raw baseline's, measured in this process on `dir`'s filesystem. */
export async function measureAppendCpu(dir: string, count: number): Promise<AppendCpuFigures> {
  const inputs = bodies(count);
  // Before any write: the same records sealed in memory.
  let head = { lastSeq: 1, lastHash: 'a'.repeat(64) };
  const now = () => new Date();
  let started = cpuMicros();
  for (const input of inputs) {
    const { event } = sealRecord('01JBENCH0000000000000000RUN', parseAppendInput(input), head, now);
    head = { lastSeq: event.seq, lastHash: event.hash };
  }
  const beforeWrite = (cpuMicros() - started) / count;

  const keelDir = path.join(dir, 'append-cpu-keel');
  const ledger = await openLedger({ dataDir: keelDir, backgroundCheck: false });
  const runId = ledger.newRunId();
  await ledger.append(runId, { type: 'run.created', payload: { workspace: dir, agent: { kind: 'builtin' } } });
  started = cpuMicros();
  for (let at = 0; at < count; at += WINDOW) {
    await Promise.all(inputs.slice(at, at + WINDOW).map((input) => ledger.append(runId, input, { durability: 'stream' })));
  }
  const keel = (cpuMicros() - started) / count;
  await ledger.close();

  // The raw side gets Keel's own bytes: every line after run.created, in the same batches.
  const lines = fs.readFileSync(path.join(keelDir, 'ledger', `${runId}.ndjson`), 'utf8').split('\n').slice(1, -1);
  const rows = lines.map((line) => {
    const record = JSON.parse(line) as { seq: number; ts: string; type: string; generation?: number; hash: string };
    return [runId, record.seq, record.ts, record.type, record.generation ?? null, record.hash, line] as const;
  });
  const rawDir = path.join(dir, 'append-cpu-raw');
  fs.mkdirSync(rawDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(path.join(rawDir, 'raw.db'));
  db.exec(`CREATE TABLE raw_events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL, type TEXT NOT NULL, generation INTEGER,
    hash TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
    CREATE INDEX raw_process_facts ON raw_events (run_id, seq) WHERE ${PROCESS_FACTS_WHERE};`);
  const insert = db.prepare('INSERT INTO raw_events (run_id, seq, ts, type, generation, hash, record) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertBatch = db.transaction((batch: typeof rows) => {
    for (const row of batch) insert.run(...row);
  });
  const fd = fs.openSync(path.join(rawDir, 'raw.ndjson'), 'a', 0o600);
  started = cpuMicros();
  for (let at = 0; at < rows.length; at += WINDOW) {
    fs.writeSync(fd, `${lines.slice(at, at + WINDOW).join('\n')}\n`);
    fs.fdatasyncSync(fd);
    insertBatch(rows.slice(at, at + WINDOW));
  }
  const raw = (cpuMicros() - started) / rows.length;
  fs.closeSync(fd);
  db.close();
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    events: count,
    keel_us_per_event: round(keel),
    keel_before_write_us_per_event: round(beforeWrite),
    raw_us_per_event: round(raw),
    ratio: Math.round((keel / raw) * 100) / 100,
  };
}
