import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from './database.js';
import { openLedger } from './ledger.js';
import { measureAppendCpu, type AppendCpuFigures } from './append-cpu-bench.js';
import { MinimalLedger } from './bench-ceiling.js';

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
  /** I2's order with nothing else (bench-ceiling.ts): the most Keel's critical and group figures could reach here. */
  ceiling: { critical: LatencyFigures; group_64: { events: number; events_per_s: number } };
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

/** Text that makes a message.chunk record about 380 bytes on disk. */
const FILLER = 'x'.repeat(80);
/**
 * Every figure is measured in ROUNDS interleaved slices (raw, I2 alone, Keel, raw, …), so load
 * that comes and goes during the run weighs on each of them alike and the ratios stay fair.
 */
const ROUNDS = 6;

/** Samples and total time of one figure, gathered over the rounds. */
class Series {
  readonly samples: number[] = [];
  events = 0;
  ms = 0;

  /** `count` events one after another, each timed. */
  async time(count: number, one: () => unknown): Promise<void> {
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await one();
      this.samples.push(performance.now() - t);
    }
    this.ms += performance.now() - start;
    this.events += count;
  }

  /** `appenders` concurrent loops of `perAppender` events each, each event timed. */
  async concurrently(appenders: number, perAppender: number, one: () => Promise<unknown>): Promise<void> {
    const start = performance.now();
    await Promise.all(
      Array.from({ length: appenders }, async () => {
        for (let i = 0; i < perAppender; i++) {
          const t = performance.now();
          await one();
          this.samples.push(performance.now() - t);
        }
      }),
    );
    this.ms += performance.now() - start;
    this.events += appenders * perAppender;
  }

  /** `count` events done by `work` at once, timed as a whole. */
  bulk(count: number, work: () => void): void {
    const start = performance.now();
    work();
    this.ms += performance.now() - start;
    this.events += count;
  }

  latencies(): LatencyFigures {
    return latencies(this.samples, this.ms);
  }

  rate(): { events: number; events_per_s: number } {
    return { events: this.events, events_per_s: Math.round((this.events / this.ms) * 1000) };
  }
}

/** Raw baselines, I2 alone and Keel's ledger, measured in one process, on one filesystem, in interleaved rounds. */
export async function benchLedger(options: LedgerBenchOptions): Promise<LedgerBenchResult> {
  const scale = options.scale ?? 1;
  const perRound = (count: number) => Math.max(2, Math.round((count * scale) / ROUNDS));
  fs.rmSync(options.dir, { recursive: true, force: true });
  const sub = (name: string) => {
    const dir = path.join(options.dir, name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  };
  const chunk = { type: 'message.chunk', payload: { text: FILLER, turn: 1 } } as const;

  const critical = await openLedger({ dataDir: sub('keel-critical') });
  const criticalRun = critical.newRunId();
  await critical.append(criticalRun, { type: 'run.created', payload: { workspace: options.dir, agent: { kind: 'builtin' } } });
  await critical.append(criticalRun, chunk);
  const recordBytes = Buffer.byteLength(JSON.stringify(critical.read(criticalRun, { fromSeq: 2, limit: 1 })[0]));
  const line = Buffer.from(`${'r'.repeat(recordBytes - 1)}\n`);
  const groupDir = sub('keel-group');
  const group = await openLedger({ dataDir: groupDir });
  const groupRun = group.newRunId();
  await group.append(groupRun, { type: 'run.created', payload: { workspace: options.dir, agent: { kind: 'builtin' } } });
  const ceilingCritical = new MinimalLedger(sub('ceiling-critical'));
  const ceilingGroup = new MinimalLedger(sub('ceiling-group'));
  const rawFd = fs.openSync(path.join(sub('raw-ndjson'), 'raw.ndjson'), 'a', 0o600);
  const rawDb = openDatabase(path.join(sub('raw-sqlite'), 'raw.db'), { synchronous: 'full' });
  rawDb.exec('CREATE TABLE raw (id INTEGER PRIMARY KEY, record TEXT NOT NULL)');
  const rawInsert = rawDb.prepare('INSERT INTO raw (record) VALUES (?)');
  const payload = line.toString('utf8', 0, line.length - 1);
  const rawBatch = rawDb.transaction(() => {
    for (let i = 0; i < 100; i++) rawInsert.run(payload);
  });
  const rawSync = () => {
    fs.writeSync(rawFd, line);
    fs.fdatasyncSync(rawFd);
  };

  // Warm-up so the first figure does not pay for cold caches.
  await new Series().time(perRound(1200), rawSync);
  const series = {
    rawNdjson: new Series(), rawRow: new Series(), rawBatch100: new Series(), ceilingCritical: new Series(),
    keelCritical: new Series(), keelGroup: new Series(), ceilingGroup: new Series(),
  };
  for (let round = 0; round < ROUNDS; round++) {
    await series.rawNdjson.time(perRound(3000), rawSync);
    await series.rawRow.time(perRound(3000), () => rawInsert.run(payload));
    series.rawBatch100.bulk(perRound(500) * 100, () => {
      for (let i = 0; i < perRound(500); i++) rawBatch();
    });
    await series.ceilingCritical.time(perRound(3000), () => ceilingCritical.append(payload));
    await series.keelCritical.time(perRound(3000), () => critical.append(criticalRun, chunk));
    await series.keelGroup.concurrently(64, perRound(800), () => group.append(groupRun, chunk));
    await series.ceilingGroup.concurrently(64, perRound(800), () => ceilingGroup.append(payload));
  }
  fs.closeSync(rawFd);
  rawDb.close();
  ceilingCritical.close();
  ceilingGroup.close();
  await critical.close();
  await group.close();
  const reopenStart = performance.now();
  const reopened = await openLedger({ dataDir: groupDir });
  const reopenMs = performance.now() - reopenStart;
  await reopened.close();
  const appendCpu = await measureAppendCpu(sub('append-cpu'), Math.max(10, Math.round(40_000 * scale)));
  fs.rmSync(options.dir, { recursive: true, force: true });
  return {
    record_bytes: recordBytes,
    raw_ndjson_fdatasync: series.rawNdjson.latencies(),
    raw_sqlite_row: series.rawRow.latencies(),
    raw_sqlite_batch100: series.rawBatch100.rate(),
    keel_critical: series.keelCritical.latencies(),
    keel_group_64: { ...series.keelGroup.rate(), appenders: 64, p99_ms: series.keelGroup.latencies().p99_ms },
    keel_reopen_ms: round(reopenMs),
    append_cpu: appendCpu,
    ceiling: { critical: series.ceilingCritical.latencies(), group_64: series.ceilingGroup.rate() },
  };
}
