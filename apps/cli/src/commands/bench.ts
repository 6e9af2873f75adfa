import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Command } from 'commander';
import { printScale, scaleSuite } from './bench-scale.js';
import { benchCheckpoints, benchLedger, measureReplay, measureReplayLedger, type CheckpointBenchResult, type ReplayLedgerFigures } from '@keel/core';

// apps/cli/{dist,src}/commands -> the repository root's scripts/.
const BENCH_UI = fileURLToPath(new URL('../../../../scripts/bench-ui.mjs', import.meta.url));
const SUITES = ['ledger', 'ui', 'checkpoints', 'scale', 'replay'] as const;

/** Chromium against a real `keel serve`, in its own process (a development checkout only). */
function uiSuite(json: boolean): void {
  const result = spawnSync(process.execPath, [BENCH_UI, '--no-build', ...(json ? ['--json'] : [])], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`The ui benchmark failed (${result.signal ?? `exit ${result.status}`}).`);
}

const ratio = (value: number, baseline: number) => Math.round((value / baseline) * 100) / 100;

/** The targets the issues set (the ledger's from issue 16); printed beside each ratio so a miss is visible. */
const TARGETS = {
  critical_vs_raw_fdatasync: { min: 0.7 },
  group_vs_sqlite_batch100: { min: 0.5 },
  p99_vs_raw_fdatasync_p99: { max: 1.5 },
  state_at_seq_ms_max: { max: 50 },
  /** Issue 16: "cut the per-event CPU (validation, canonical encoding and hashing before any sync; aim for <= 15 µs)". */
  append_cpu_before_write_us_per_event: { max: 15 },
  checkpoint_turn_vs_plain_git: { max: 1.2 },
  checkpoint_baseline_vs_plain_git: { max: 1.2 },
} as const;

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
  };
}

async function ledgerSuite(options: { dir?: string; scale: number; events: number }) {
  const dir = options.dir ?? path.join(os.tmpdir(), `keel-bench-${process.pid}`);
  const ledger = await benchLedger({ dir, scale: options.scale });
  const replay = measureReplay(options.events);
  const ratios = {
    critical_vs_raw_fdatasync: ratio(ledger.keel_critical.events_per_s, ledger.raw_ndjson_fdatasync.events_per_s),
    group_vs_sqlite_batch100: ratio(ledger.keel_group_64.events_per_s, ledger.raw_sqlite_batch100.events_per_s),
    p99_vs_raw_fdatasync_p99: ratio(ledger.keel_critical.p99_ms, ledger.raw_ndjson_fdatasync.p99_ms),
    append_cpu_vs_raw: ledger.append_cpu.ratio,
  };
  // The same ratios for I2's order with nothing else done (no checks, encoding, hashing): the ceiling here.
  const ceiling = {
    critical_vs_raw_fdatasync: ratio(ledger.ceiling.critical.events_per_s, ledger.raw_ndjson_fdatasync.events_per_s),
    group_vs_sqlite_batch100: ratio(ledger.ceiling.group_64.events_per_s, ledger.raw_sqlite_batch100.events_per_s),
    p99_vs_raw_fdatasync_p99: ratio(ledger.ceiling.critical.p99_ms, ledger.raw_ndjson_fdatasync.p99_ms),
  };
  return { suite: 'ledger', machine: machine(), scratch_dir: dir, ...ledger, replay, ratios, ceiling_ratios: ceiling, state_at_seq_ms_max: replay.state_at_seq_ms_max };
}

type LedgerSuite = Awaited<ReturnType<typeof ledgerSuite>>;

function verdict(name: keyof typeof TARGETS, value: number): string {
  const target = TARGETS[name] as { min?: number; max?: number };
  const met = (target.min === undefined || value >= target.min) && (target.max === undefined || value <= target.max);
  return `${met ? 'meets' : 'MISSES'} target ${target.min !== undefined ? `>= ${target.min}` : `<= ${target.max}`}`;
}

function printLedger(result: LedgerSuite): void {
  const rows: Array<[string, string, string]> = [
    ['raw NDJSON append + fdatasync', `${result.raw_ndjson_fdatasync.events_per_s} ev/s`, `p50 ${result.raw_ndjson_fdatasync.p50_ms} ms, p99 ${result.raw_ndjson_fdatasync.p99_ms} ms`],
    ['raw SQLite WAL FULL, per row', `${result.raw_sqlite_row.events_per_s} ev/s`, `p50 ${result.raw_sqlite_row.p50_ms} ms, p99 ${result.raw_sqlite_row.p99_ms} ms`],
    ['raw SQLite WAL FULL, 100 rows/txn', `${result.raw_sqlite_batch100.events_per_s} ev/s`, ''],
    ['Keel critical, one at a time', `${result.keel_critical.events_per_s} ev/s`, `p50 ${result.keel_critical.p50_ms} ms, p99 ${result.keel_critical.p99_ms} ms`],
    ['Keel group commit, 64 appenders', `${result.keel_group_64.events_per_s} ev/s`, `p99 ${result.keel_group_64.p99_ms} ms`],
    ['I2 alone, one at a time (ceiling)', `${result.ceiling.critical.events_per_s} ev/s`, `p99 ${result.ceiling.critical.p99_ms} ms; write + fdatasync + 2-row commit, nothing else`],
    ['I2 alone, 64 appenders (ceiling)', `${result.ceiling.group_64.events_per_s} ev/s`, ''],
    ['Keel reopen (recover + verify logs)', `${result.keel_reopen_ms} ms`, `${result.keel_group_64.events} events`],
    ['raw append CPU (write+fdatasync+insert)', `${result.append_cpu.raw_us_per_event} µs/ev`, `same bytes, batches of 2,000`],
    ['Keel append CPU, stream', `${result.append_cpu.keel_us_per_event} µs/ev`, `${result.append_cpu.keel_before_write_us_per_event} µs/ev before any write (check, encode, hash)`],
    [`fold of ${result.replay.events} events`, `${result.replay.fold_ms} ms`, `${result.replay.events_per_s} ev/s`],
    ['replay index build', `${result.replay.build_ms} ms`, ''],
    ['state at seq (max of lookups)', `${result.replay.state_at_seq_ms_max} ms`, `p50 ${result.replay.state_at_seq_ms_p50} ms`],
  ];
  process.stdout.write(`Keel ledger benchmark — ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}\n`);
  process.stdout.write(`records of ~${result.record_bytes} bytes, scratch ${result.scratch_dir}\n\n`);
  for (const [name, value, detail] of rows) process.stdout.write(`  ${name.padEnd(38)} ${value.padStart(14)}   ${detail}\n`);
  process.stdout.write('\nratios (Keel / raw baseline, same run):\n');
  for (const [name, value] of Object.entries(result.ratios)) {
    process.stdout.write(`  ${name.padEnd(30)} ${String(value).padStart(6)}x   ${name in TARGETS ? verdict(name as keyof typeof TARGETS, value) : 'no target (the raw side is the floor)'}\n`);
  }
  const beforeWrite = result.append_cpu.keel_before_write_us_per_event;
  process.stdout.write(
    `  ${'append_cpu_before_write_us_per_event'.padEnd(30)} ${String(beforeWrite).padStart(6)}    ${verdict('append_cpu_before_write_us_per_event', beforeWrite)} (issue 16: check, encode, hash; the whole append ${result.append_cpu.keel_us_per_event} µs, raw writes alone ${result.append_cpu.raw_us_per_event})\n`,
  );
  process.stdout.write(`  ${'state_at_seq_ms_max'.padEnd(30)} ${String(result.state_at_seq_ms_max).padStart(6)}    ${verdict('state_at_seq_ms_max', result.state_at_seq_ms_max)}\n`);
  process.stdout.write('\nthe same ratios for I2 alone (no checks, encoding or hashing: the most Keel could reach here):\n');
  for (const [name, value] of Object.entries(result.ceiling_ratios)) {
    process.stdout.write(`  ${name.padEnd(30)} ${String(value).padStart(6)}x   ${verdict(name as keyof typeof TARGETS, value)}\n`);
  }
}

async function checkpointSuite(options: { dir?: string; scale: number }) {
  const dir = options.dir ?? path.join(os.tmpdir(), `keel-bench-checkpoints-${process.pid}`);
  const result = await benchCheckpoints({ dir, files: Math.max(100, Math.round(20_000 * options.scale)) });
  return { suite: 'checkpoints', machine: machine(), scratch_dir: dir, ...result };
}

function printCheckpoints(result: CheckpointBenchResult & { machine: ReturnType<typeof machine>; scratch_dir: string }): void {
  process.stdout.write(`Keel checkpoint benchmark — ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}, ${result.git_version}\n`);
  process.stdout.write(`${result.files} files (${(result.bytes / 1024 / 1024).toFixed(1)} MiB), ${result.rounds} rounds, medians; scratch ${result.scratch_dir}\n\n`);
  process.stdout.write(`  ${''.padEnd(44)} ${'Keel'.padStart(10)} ${'plumbing'.padStart(10)} ${'add -A'.padStart(10)}\n`);
  const row = (name: string, figures: CheckpointBenchResult['baseline']) =>
    process.stdout.write(
      `  ${name.padEnd(44)} ${`${figures.keel_median_ms} ms`.padStart(10)} ${`${figures.plumbing_median_ms} ms`.padStart(10)} ${`${figures.porcelain_median_ms} ms`.padStart(10)}\n`,
    );
  row(`turn checkpoint (${result.turn.changed_files_per_turn} files changed)`, result.turn);
  row('baseline of a non-git folder (all hashed)', result.baseline);
  process.stdout.write(`  ${'over the byte budget: skipped in'.padEnd(44)} ${`${result.skip_ms} ms`.padStart(10)}\n`);
  process.stdout.write(`  Keel's git calls per turn checkpoint (mean ms): ${Object.entries(result.turn.keel_git_calls_ms).map(([name, ms]) => `${name} ${ms}`).join(', ')}\n`);
  process.stdout.write('\nratios (Keel / plain git plumbing doing the same work, same run):\n');
  for (const [name, value] of [
    ['checkpoint_turn_vs_plain_git', result.turn.ratio],
    ['checkpoint_baseline_vs_plain_git', result.baseline.ratio],
  ] as const) {
    process.stdout.write(`  ${name.padEnd(34)} ${String(value).padStart(6)}x   ${verdict(name, value)}\n`);
  }
  process.stdout.write(`for reference, Keel / \`git add -A\` + write-tree + commit-tree + update-ref (no description): turn ${result.turn.ratio_vs_porcelain}x, baseline ${result.baseline.ratio_vs_porcelain}x\n`);
}

/** The replay index on a 1M-event run in a real ledger (issue 14): stateAt beside the raw read of the same events. */
async function replaySuite(options: { dir?: string; scale: number; events: number }) {
  const dir = options.dir ?? path.join(os.tmpdir(), 'keel-bench-replay');
  const events = Math.max(1_000, Math.round(options.events * options.scale));
  const figures = await measureReplayLedger({ dataDir: path.join(dir, `run-${events}`), events, onProgress: (line) => process.stderr.write(`${line}\n`) });
  return { suite: 'replay', machine: machine(), load_average: os.loadavg().map((n) => Math.round(n * 100) / 100), ...figures };
}

function printReplay(result: ReplayLedgerFigures & { machine: ReturnType<typeof machine>; load_average: number[] }): void {
  const p = (figures: ReplayLedgerFigures['state_at']) => `p50 ${figures.p50_ms} ms, p95 ${figures.p95_ms} ms, max ${figures.max_ms} ms`;
  process.stdout.write(`Keel replay benchmark — ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}, load ${result.load_average.join(' ')}\n`);
  process.stdout.write(`one run of ${result.events} events in a real ledger (${result.data_dir}), a mark every ${result.snapshot_every} events (${result.marks} marks), ${result.lookups} random seqs\n\n`);
  const rows: Array<[string, string]> = [
    ['index build (read + fold every event)', `${result.build_ms} ms, heap held ${result.index_heap_mb} MB`],
    ['host open (same + chain check, markers)', `${result.service_open_ms} ms`],
    ['full read + fold from seq 1 (no marks)', `${result.full_fold_ms} ms`],
    ['Keel stateAt (as replay.stateAt sends it)', p(result.state_at)],
    ['  raw: read the same events, no fold', p(result.raw_read)],
    ['Keel stateAt, CPU time', p(result.state_at_cpu)],
    ['  raw read, CPU time', p(result.raw_read_cpu)],
    ['Keel stateAt through the host service', p(result.service_state_at)],
    ['Keel stateAt, whole transcript copied', p(result.state_at_full_view)],
  ];
  for (const [name, value] of rows) process.stdout.write(`  ${name.padEnd(44)} ${value}\n`);
  process.stdout.write(`  ${'state_at_seq_ms_max'.padEnd(44)} ${result.state_at.max_ms} ms   ${verdict('state_at_seq_ms_max', result.state_at.max_ms)}\n`);
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure Keel against raw baselines in the same run (suites: ledger, ui, checkpoints, scale, replay)')
    .argument('[suites...]', 'suites to run', ['ledger'])
    .option('--json', 'print one JSON object with every figure')
    .option('--scale <n>', 'fraction of the documented sizes (quick look: 0.2)', Number, 1)
    .option('--events <n>', 'events in the replay measurements (ledger: in memory; replay: a run in a real ledger)', Number, 1_000_000)
    .option('--dir <dir>', 'scratch directory on the filesystem to measure')
    .action(async (suites: string[], options: { json?: boolean; scale: number; events: number; dir?: string }) => {
      const unknown = suites.filter((suite) => !(SUITES as readonly string[]).includes(suite));
      if (unknown.length > 0) throw new Error(`Unknown benchmark suite(s): ${unknown.join(', ')}. Available: ${SUITES.join(', ')}.`);
      if (suites.includes('ledger')) {
        const result = await ledgerSuite(options);
        if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else printLedger(result);
      }
      if (suites.includes('checkpoints')) {
        const result = await checkpointSuite(options);
        if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else printCheckpoints(result);
      }
      if (suites.includes('ui')) uiSuite(Boolean(options.json));
      if (suites.includes('replay')) {
        const result = await replaySuite(options);
        if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else printReplay(result);
      }
      if (suites.includes('scale')) {
        const result = await scaleSuite({ ...options, onProgress: (line) => process.stderr.write(`${line}\n`) });
        if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else printScale(result);
      }
    });
}
