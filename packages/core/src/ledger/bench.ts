import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from './database.js';
import { openLedger } from './ledger.js';
import { measureAppendCpu, type AppendCpuFigures } from './append-cpu-bench.js';

export interface LatencyFigures {
  events: number;
  events_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

export interface LedgerBenchResult {
  record_bytes: number;
  raw_ndjson_fdatasync: LatencyFigures;
  raw_sqlite_row: LatencyFigures;
  raw_sqlite_batch100: { events: number; events_per_s: number };
  keel_critical: LatencyFigures;
  keel_group_64: { events: number; events_per_s: number; appenders: number; p99_ms: number };
  keel_reopen_ms: number;
  /** CPU per appended event, Keel beside raw write + fdatasync + prepared insert of the same bytes (issue 16). */
  append_cpu: AppendCpuFigures;
}

export interface LedgerBenchOptions {
  /** A scratch directory on the filesystem to measure (it is emptied). */
  dir: string;
  /** 1 = the documented sizes; smaller for a quick look. */
  scale?: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

function latencies(samples: number[], totalMs: number): LatencyFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    events: samples.length,
    events_per_s: Math.round((samples.length / totalMs) * 1000),
    p50_ms: round(percentile(sorted, 0.5)),
    p99_ms: round(percentile(sorted, 0.99)),
  };
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/** Text that makes a message.chunk record about 300 bytes on disk, like the raw baselines. */
const FILLER = 'x'.repeat(80);
const RAW_LINE = Buffer.from(`${'r'.repeat(299)}\n`);

function rawNdjson(dir: string, count: number): LatencyFigures {
  const fd = fs.openSync(path.join(dir, 'raw.ndjson'), 'a', 0o600);
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    fs.writeSync(fd, RAW_LINE);
    fs.fdatasyncSync(fd);
    samples.push(performance.now() - t);
  }
  const total = performance.now() - start;
  fs.closeSync(fd);
  return latencies(samples, total);
}

function rawSqlite(dir: string, rows: number, batchRows: number, batches: number) {
  const db = openDatabase(path.join(dir, 'raw.db'), { synchronous: 'full' });
  db.exec('CREATE TABLE raw (id INTEGER PRIMARY KEY, record TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO raw (record) VALUES (?)');
  const payload = RAW_LINE.toString('utf8', 0, 299);
  const samples: number[] = [];
  let start = performance.now();
  for (let i = 0; i < rows; i++) {
    const t = performance.now();
    insert.run(payload);
    samples.push(performance.now() - t);
  }
  const perRow = latencies(samples, performance.now() - start);
  const batch = db.transaction(() => {
    for (let i = 0; i < batchRows; i++) insert.run(payload);
  });
  start = performance.now();
  for (let i = 0; i < batches; i++) batch();
  const batchMs = performance.now() - start;
  db.close();
  return { perRow, batch100: { events: batchRows * batches, events_per_s: Math.round(((batchRows * batches) / batchMs) * 1000) } };
}

async function keelCritical(dir: string, count: number): Promise<{ figures: LatencyFigures; recordBytes: number }> {
  const ledger = await openLedger({ dataDir: dir });
  const runId = ledger.newRunId();
  await ledger.append(runId, { type: 'run.created', payload: { workspace: dir, agent: { kind: 'builtin' } } });
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await ledger.append(runId, { type: 'message.chunk', payload: { turn: 1, text: FILLER } });
    samples.push(performance.now() - t);
  }
  const total = performance.now() - start;
  const recordBytes = Buffer.byteLength(JSON.stringify(ledger.read(runId, { fromSeq: 2, limit: 1 })[0]));
  await ledger.close();
  return { figures: latencies(samples, total), recordBytes };
}

async function keelGroup(dir: string, appenders: number, perAppender: number) {
  const ledger = await openLedger({ dataDir: dir });
  const runId = ledger.newRunId();
  await ledger.append(runId, { type: 'run.created', payload: { workspace: dir, agent: { kind: 'builtin' } } });
  const samples: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      for (let i = 0; i < perAppender; i++) {
        const t = performance.now();
        await ledger.append(runId, { type: 'message.chunk', payload: { turn: 1, text: FILLER } });
        samples.push(performance.now() - t);
      }
    }),
  );
  const total = performance.now() - start;
  await ledger.close();
  const reopenStart = performance.now();
  const reopened = await openLedger({ dataDir: dir });
  const reopenMs = performance.now() - reopenStart;
  await reopened.close();
  const figures = latencies(samples, total);
  return { group: { events: figures.events, events_per_s: figures.events_per_s, appenders, p99_ms: figures.p99_ms }, reopenMs };
}

/** Raw baselines and Keel's ledger measured in one process, on one filesystem, in one run. */
export async function benchLedger(options: LedgerBenchOptions): Promise<LedgerBenchResult> {
  const scale = options.scale ?? 1;
  const n = (count: number) => Math.max(10, Math.round(count * scale));
  fs.rmSync(options.dir, { recursive: true, force: true });
  const sub = (name: string) => {
    const dir = path.join(options.dir, name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  };
  // Warm-up so the first figure does not pay for cold caches.
  rawNdjson(sub('warmup'), n(200));
  const rawNd = rawNdjson(sub('raw-ndjson'), n(3000));
  const sqlite = rawSqlite(sub('raw-sqlite'), n(3000), 100, n(500));
  const critical = await keelCritical(sub('keel-critical'), n(3000));
  const group = await keelGroup(sub('keel-group'), 64, n(800));
  const appendCpu = await measureAppendCpu(sub('append-cpu'), n(40_000));
  fs.rmSync(options.dir, { recursive: true, force: true });
  return {
    record_bytes: critical.recordBytes,
    raw_ndjson_fdatasync: rawNd,
    raw_sqlite_row: sqlite.perRow,
    raw_sqlite_batch100: sqlite.batch100,
    keel_critical: critical.figures,
    keel_group_64: group.group,
    keel_reopen_ms: round(group.reopenMs),
    append_cpu: appendCpu,
  };
}
