import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateHistory, measureOpen, measureRunView, type GeneratedHistory, type RunViewFigures } from '@keel/core';

// apps/cli/{dist,src}/commands -> apps/cli/dist/bin.js (the built CLI is what users run).
const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

/** One command as a child process: wall time, CPU time and peak RSS (GNU time's %e %U %S %M). */
export interface CommandFigures {
  wall_ms: number;
  cpu_ms: number;
  peak_rss_mb: number;
}

export interface HistoryFigures {
  name: string;
  runs: number;
  events: number;
  open_ms: number;
  open_cpu_ms: number;
  background_check_ms: number;
  serve_listening_ms: number;
  serve_listening_cpu_ms: number;
  serve_peak_rss_mb: number;
  run_hello: CommandFigures;
  runs_list: CommandFigures;
  peak_rss_mb: number;
}

export interface ScaleResult {
  suite: 'scale';
  scratch_dir: string;
  load_average: number[];
  version: CommandFigures;
  histories: HistoryFigures[];
  generated: GeneratedHistory[];
  run_view: RunViewFigures | null;
  ratios: Record<string, Record<string, number>>;
}

function timed(args: string[], cwd: string): CommandFigures {
  const result = spawnSync('/usr/bin/time', ['-f', 'KEEL_TIME %e %U %S %M', process.execPath, BIN, ...args], { cwd, encoding: 'utf8' });
  const line = (result.stderr ?? '').split('\n').find((text) => text.startsWith('KEEL_TIME '));
  if (!line) throw new Error(`could not time \`keel ${args.join(' ')}\` (is GNU time at /usr/bin/time?): ${result.stderr}`);
  if (result.status !== 0) throw new Error(`\`keel ${args.join(' ')}\` failed: ${result.stderr}`);
  const [, wall, user, system, rssKb] = line.split(' ').map(Number) as [number, number, number, number, number];
  return { wall_ms: Math.round(wall * 1000), cpu_ms: Math.round((user + system) * 1000), peak_rss_mb: Math.round(rssKb / 1024) };
}

/** CPU time a live process has used so far, from /proc (utime + stime, in clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resolves once the process uses under 25 ms of CPU in each of two 250 ms spells in a row (or after `limitMs`). */
async function untilIdle(pid: number, limitMs = 120_000): Promise<void> {
  const until = performance.now() + limitMs;
  let quiet = 0;
  let cpu = processCpuMs(pid);
  while (quiet < 2 && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = processCpuMs(pid);
    quiet = now - cpu < 25 ? quiet + 1 : 0;
    cpu = now;
  }
}

/** `keel serve` until its listening line; its peak RSS read from /proc once its start-up work is done, before it is stopped. */
async function serveListening(dataDir: string): Promise<{ ms: number; cpu_ms: number; peak_rss_mb: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let cpuAtListening = 0;
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ms = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('listening on')) {
        cpuAtListening = processCpuMs(child.pid!);
        resolve(performance.now() - started);
      }
    });
    child.once('exit', (code) => reject(new Error(`keel serve exited (${code}) before listening: ${stderr}`)));
  });
  // The peak after start-up's background work too (the ledger check, folding long runs behind
  // their snapshots): wait until the process is idle (under 10 % of a core for 0.5 s, at most 2 min).
  await untilIdle(child.pid!);
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return { ms: Math.round(ms), cpu_ms: cpuAtListening, peak_rss_mb: Math.round(hwm / 1024) };
}

async function measureHistory(name: string, dataDir: string, workspace: string, runs: number, events: number): Promise<HistoryFigures> {
  const open = await measureOpen(dataDir);
  const serve = await serveListening(dataDir);
  const runHello = timed(['run', '--script', 'hello', '--workspace', workspace, '--data', dataDir], workspace);
  const runsList = timed(['runs', '--data', dataDir], workspace);
  return {
    name,
    runs,
    events,
    open_ms: open.open_ms,
    open_cpu_ms: open.open_cpu_ms,
    background_check_ms: open.background_check_ms,
    serve_listening_ms: serve.ms,
    serve_listening_cpu_ms: serve.cpu_ms,
    serve_peak_rss_mb: serve.peak_rss_mb,
    run_hello: runHello,
    runs_list: runsList,
    peak_rss_mb: Math.max(serve.peak_rss_mb, runHello.peak_rss_mb, runsList.peak_rss_mb),
  };
}

const ratio = (value: number, baseline: number) => Math.round((value / Math.max(baseline, 1)) * 100) / 100;

/**
 * Keel at a year of use (issue 16): generated histories of one 1M-event run and of 1,000 and
 * 2,000 runs, each command measured there and on an empty data directory in the same run.
 */
export async function scaleSuite(options: { dir?: string; scale: number; onProgress?: (line: string) => void }): Promise<ScaleResult> {
  if (!fs.existsSync(BIN)) throw new Error(`the scale benchmark runs the built CLI (${BIN}); run \`npm run build\` first.`);
  const dir = options.dir ?? path.join(os.tmpdir(), 'keel-bench-scale');
  fs.mkdirSync(dir, { recursive: true });
  const workspace = path.join(dir, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  const say = options.onProgress ?? (() => {});
  const scaled = (n: number) => Math.max(1, Math.round(n * options.scale));
  const shapes = [
    { name: `1 x ${scaled(1_000_000).toLocaleString('en')}`, runs: 1, eventsPerRun: scaled(1_000_000) },
    { name: `${scaled(1_000).toLocaleString('en')} x 100`, runs: scaled(1_000), eventsPerRun: 100 },
    { name: `${scaled(2_000).toLocaleString('en')} x 50`, runs: scaled(2_000), eventsPerRun: 50 },
  ];
  const generated: GeneratedHistory[] = [];
  for (const shape of shapes) {
    const dataDir = path.join(dir, `history-${shape.runs}x${shape.eventsPerRun}`);
    say(`generating ${shape.name} in ${dataDir} (reused when present)`);
    let last = 0;
    generated.push(
      await generateHistory(dataDir, shape, (done, total) => {
        if (done - last >= 100_000) {
          last = done;
          say(`  ${done.toLocaleString('en')} / ${total.toLocaleString('en')} events`);
        }
      }),
    );
  }
  const empty = path.join(dir, 'empty');
  fs.rmSync(empty, { recursive: true, force: true });
  fs.mkdirSync(empty);
  const version = timed(['--version'], workspace);
  say('measuring the empty data directory');
  const histories = [await measureHistory('empty', empty, workspace, 0, 0)];
  for (const [index, shape] of shapes.entries()) {
    say(`measuring ${shape.name}`);
    histories.push(await measureHistory(shape.name, generated[index]!.dataDir, workspace, shape.runs, generated[index]!.events));
  }
  const longest = generated[0]!;
  say(`measuring run.view of the ${longest.events.toLocaleString('en')}-event run`);
  const runView = longest.longestRunId ? await measureRunView(longest.dataDir, longest.longestRunId) : null;
  const base = histories[0]!;
  const ratios: ScaleResult['ratios'] = {};
  for (const history of histories.slice(1)) {
    ratios[history.name] = {
      open: ratio(history.open_ms, base.open_ms),
      serve_listening: ratio(history.serve_listening_ms, base.serve_listening_ms),
      run_hello: ratio(history.run_hello.wall_ms, base.run_hello.wall_ms),
      runs_list: ratio(history.runs_list.wall_ms, base.runs_list.wall_ms),
      // The target: within 1.5x of empty + 1 ms per run, as a ratio to empty.
      open_allowed: ratio(base.open_ms * 1.5 + history.runs, base.open_ms),
      // CPU time: what the machine's load does not distort.
      open_cpu: ratio(history.open_cpu_ms, base.open_cpu_ms),
      open_cpu_allowed: ratio(base.open_cpu_ms * 1.5 + history.runs, base.open_cpu_ms),
      serve_listening_cpu: ratio(history.serve_listening_cpu_ms, base.serve_listening_cpu_ms),
      serve_listening_cpu_allowed: ratio(base.serve_listening_cpu_ms * 1.5 + history.runs, base.serve_listening_cpu_ms),
      run_hello_cpu: ratio(history.run_hello.cpu_ms, base.run_hello.cpu_ms),
      runs_list_cpu: ratio(history.runs_list.cpu_ms, base.runs_list.cpu_ms),
    };
  }
  return { suite: 'scale', scratch_dir: dir, load_average: os.loadavg().map((n) => Math.round(n * 100) / 100), version, histories, generated, run_view: runView, ratios };
}

const mark = (met: boolean) => (met ? 'meets' : 'MISSES');

export function printScale(result: ScaleResult): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`Keel scale benchmark — scratch ${result.scratch_dir}, load average ${result.load_average.join(' ')}`);
  out(`keel --version: ${result.version.wall_ms} ms wall, ${result.version.cpu_ms} ms CPU (${mark(result.version.wall_ms <= 150)} target <= 150 ms wall; CPU ${mark(result.version.cpu_ms <= 150)})`);
  out();
  out('wall / CPU ms (CPU is what load does not distort):');
  out(`  ${'history'.padEnd(14)} ${'open'.padStart(14)} ${'bg check'.padStart(9)} ${'serve listening'.padStart(16)} ${'run hello'.padStart(14)} ${'keel runs'.padStart(14)} ${'peak RSS'.padStart(9)}`);
  const pair = (wall: number, cpu: number) => `${Math.round(wall)} / ${Math.round(cpu)}`;
  for (const h of result.histories) {
    out(
      `  ${h.name.padEnd(14)} ${pair(h.open_ms, h.open_cpu_ms).padStart(14)} ${`${Math.round(h.background_check_ms)}`.padStart(9)} ${pair(h.serve_listening_ms, h.serve_listening_cpu_ms).padStart(16)} ${pair(h.run_hello.wall_ms, h.run_hello.cpu_ms).padStart(14)} ${pair(h.runs_list.wall_ms, h.runs_list.cpu_ms).padStart(14)} ${`${h.peak_rss_mb} MB`.padStart(9)}`,
    );
  }
  out();
  out('ratios to the empty data directory (same run):');
  const base = result.histories[0]!;
  for (const h of result.histories.slice(1)) {
    const r = result.ratios[h.name]!;
    const allowedServe = ratio(base.serve_listening_ms * 1.5 + h.runs, base.serve_listening_ms);
    out(
      `  ${h.name.padEnd(14)} wall: open ${r.open}x (${mark(r.open! <= r.open_allowed!)} <= ${r.open_allowed}x), serve ${r.serve_listening}x (${mark(r.serve_listening! <= allowedServe)} <= ${allowedServe}x), run hello ${r.run_hello}x, keel runs ${r.runs_list}x`,
    );
    out(
      `  ${''.padEnd(14)} CPU:  open ${r.open_cpu}x (${mark(r.open_cpu! <= r.open_cpu_allowed!)} <= ${r.open_cpu_allowed}x), serve ${r.serve_listening_cpu}x (${mark(r.serve_listening_cpu! <= r.serve_listening_cpu_allowed!)} <= ${r.serve_listening_cpu_allowed}x), run hello ${r.run_hello_cpu}x, keel runs ${r.runs_list_cpu}x; peak RSS ${h.peak_rss_mb} MB (${mark(h.peak_rss_mb <= 200)} <= 200 MB)`,
    );
  }
  const runs2000 = result.histories.find((h) => h.runs >= 2_000);
  if (runs2000) {
    out(`keel runs at ${runs2000.runs} runs: ${runs2000.runs_list.wall_ms} ms wall, ${runs2000.runs_list.cpu_ms} ms CPU (${mark(runs2000.runs_list.wall_ms <= 300)} target <= 300 ms wall; CPU ${mark(runs2000.runs_list.cpu_ms <= 300)})`);
  }
  const view = result.run_view;
  if (view) {
    out();
    out(`run.view of a ${view.events.toLocaleString('en')}-event run (${(view.view_bytes / 1024 / 1024).toFixed(1)} MiB view):`);
    out(`  first (no snapshot yet) ${view.first_ms} ms wall, ${view.first_cpu_ms} ms CPU, longest event-loop block ${view.first_longest_block_ms} ms`);
    out(`  cold (fresh host, snapshot) ${view.cold_ms} ms wall, ${view.cold_cpu_ms} ms CPU (${mark(view.cold_ms <= 300)} target <= 300 ms wall; CPU ${mark(view.cold_cpu_ms <= 300)}), longest block ${view.cold_longest_block_ms} ms`);
    out(`  warm ${view.warm_ms} ms wall, ${view.warm_cpu_ms} ms CPU`);
    out(`  floor: a client's JSON.parse of the answer alone ${view.client_parse_ms} ms (every client parses the whole view; the app asks the window below)`);
    const w = view.window;
    out(`run.viewWindow of the same run (newest items, ${(w.window_bytes / 1024).toFixed(0)} KiB of ${w.item_count.toLocaleString('en')} items):`);
    out(`  cold (fresh host, snapshot) ${w.cold_ms} ms wall, ${w.cold_cpu_ms} ms CPU (${mark(w.cold_ms <= 300)} target <= 300 ms wall; CPU ${mark(w.cold_cpu_ms <= 300)}), longest block ${w.cold_longest_block_ms} ms`);
    out(`  whole view loading after it in the background ${w.background_load_ms} ms wall, ${w.background_load_cpu_ms} ms CPU, longest block ${w.background_longest_block_ms} ms`);
    out(`  warm ${w.warm_ms} ms wall, ${w.warm_cpu_ms} ms CPU`);
  }
  for (const g of result.generated) {
    out(`generated ${g.runs} x ${g.eventsPerRun}: ${g.events} events in ${g.generate_ms} ms (append CPU ${g.append_cpu_us_per_event} µs/event)`);
  }
}
