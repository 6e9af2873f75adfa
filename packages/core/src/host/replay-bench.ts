import { performance } from 'node:perf_hooks';
import { REPLAY_WINDOW_ITEMS } from '../contract/index.js';
import { openLedger } from '../ledger/index.js';
import { DEFAULT_SNAPSHOT_EVERY, mulberry32, ReplayIndex } from '../replay/index.js';
import { ledgerSource, ReplayService } from './replay-service.js';
import { generateHistory } from './scale-bench.js';

export interface Percentiles {
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
}

export interface ReplayLedgerFigures {
  data_dir: string;
  events: number;
  snapshot_every: number;
  marks: number;
  lookups: number;
  /** Generating the run through the ledger's append path (0 when reused from the directory). */
  generate_ms: number;
  /** ReplayIndex over the ledger: one pass reading every event in pages and folding it, keeping marks only. */
  build_ms: number;
  /** What opening the run for replay costs in the host: the same pass plus the hash-chain check and markers. */
  service_open_ms: number;
  /** Heap held by the built index (marks + current fold), after a full GC when --expose-gc. */
  index_heap_mb: number;
  /** Keel: the state at seq as replay.stateAt gives it (the last 200 transcript items) — restore the mark, re-read and fold <= `every` events. */
  state_at: Percentiles;
  /** The same with the whole transcript materialised (ReplayIndex.stateAt: a copy of every item so far). */
  state_at_full_view: Percentiles;
  /** CPU time (user + system) of the same lookups: what the machine's load does not inflate. */
  state_at_cpu: Percentiles;
  raw_read_cpu: Percentiles;
  /** Raw baseline, same seqs, same run: reading the same events from the ledger without folding. */
  raw_read: Percentiles;
  /** The host's replay.stateAt (ReplayService, without the IPC hop), same seqs. */
  service_state_at: Percentiles;
  /** Reading and folding every event from seq 1 (what a stateAt near the end would cost without marks). */
  full_fold_ms: number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50_ms: round(at(0.5)), p95_ms: round(at(0.95)), max_ms: round(sorted.at(-1) ?? 0) };
}

const heapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/**
 * The replay index on a run of `events` events in a real ledger (generated through the
 * ledger's append path, reused from `dataDir` when already there): build, then `stateAt` for
 * `lookups` random seqs, each beside the raw read of the events it re-folds.
 */
export async function measureReplayLedger(options: { dataDir: string; events?: number; lookups?: number; every?: number; seed?: number; onProgress?: (line: string) => void }): Promise<ReplayLedgerFigures> {
  const events = options.events ?? 1_000_000;
  const every = options.every ?? DEFAULT_SNAPSHOT_EVERY;
  const history = await generateHistory(options.dataDir, { runs: 1, eventsPerRun: events }, (done, total) => {
    if (done % 100_000 === 0) options.onProgress?.(`generating: ${done} / ${total} events`);
  });
  const runId = history.longestRunId!;
  const ledger = await openLedger({ dataDir: options.dataDir, backgroundCheck: false });
  try {
    options.onProgress?.('building the replay index');
    const heapBefore = heapMb();
    let started = performance.now();
    const index = new ReplayIndex({ runId, every, source: ledgerSource(ledger, runId) });
    for (const event of ledgerSource(ledger, runId).after(0, 5_000)) index.append(event, event.seq);
    const buildMs = performance.now() - started;
    const indexHeap = heapMb() - heapBefore;
    const lastSeq = index.lastSeq;

    const random = mulberry32(options.seed ?? 14);
    const seqs = Array.from({ length: options.lookups ?? 500 }, () => 1 + Math.floor(random() * lastSeq));
    options.onProgress?.(`${seqs.length} lookups`);
    const keel: number[] = [];
    const full: number[] = [];
    const raw: number[] = [];
    const keelCpu: number[] = [];
    const rawCpu: number[] = [];
    const cpuMs = (since: NodeJS.CpuUsage) => {
      const used = process.cpuUsage(since);
      return (used.user + used.system) / 1000;
    };
    for (const seq of seqs) {
      // The raw side reads exactly the events stateAt re-folds: from the mark at or before seq up to seq.
      const base = Math.floor(seq / every) * every;
      let cpu = process.cpuUsage();
      started = performance.now();
      if (seq > base) ledger.read(runId, { fromSeq: base + 1, limit: seq - base });
      raw.push(performance.now() - started);
      rawCpu.push(cpuMs(cpu));
      cpu = process.cpuUsage();
      started = performance.now();
      index.windowAt(seq, REPLAY_WINDOW_ITEMS);
      keel.push(performance.now() - started);
      keelCpu.push(cpuMs(cpu));
      started = performance.now();
      index.stateAt(seq);
      full.push(performance.now() - started);
    }

    options.onProgress?.('opening through the host service (chain check, markers)');
    const service = new ReplayService(ledger, options.dataDir);
    started = performance.now();
    await service.timeline({ runId });
    const serviceOpenMs = performance.now() - started;
    const viaService: number[] = [];
    for (const seq of seqs) {
      started = performance.now();
      await service.stateAt({ runId }, seq);
      viaService.push(performance.now() - started);
    }
    service.close();

    // Without marks: stateAt of the last seq would read and fold the whole run.
    const fullIndex = new ReplayIndex({ runId, every: Number.MAX_SAFE_INTEGER, source: ledgerSource(ledger, runId) });
    started = performance.now();
    for (const event of ledgerSource(ledger, runId).after(0, 5_000)) fullIndex.append(event, event.seq);
    const fullFoldMs = performance.now() - started;

    return {
      data_dir: options.dataDir,
      events: index.length,
      snapshot_every: every,
      marks: index.markCount,
      lookups: seqs.length,
      generate_ms: history.generate_ms,
      build_ms: round(buildMs),
      service_open_ms: round(serviceOpenMs),
      index_heap_mb: Math.round(indexHeap),
      state_at: percentiles(keel),
      state_at_full_view: percentiles(full),
      state_at_cpu: percentiles(keelCpu),
      raw_read_cpu: percentiles(rawCpu),
      raw_read: percentiles(raw),
      service_state_at: percentiles(viaService),
      full_fold_ms: round(fullFoldMs),
    };
  } finally {
    await ledger.close();
  }
}
