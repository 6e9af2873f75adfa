import fs from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EventBody, type AppendInput } from '../contract/index.js';
import { foldAgentExit, openLedger, type Ledger } from '../ledger/index.js';
import { syntheticRun } from '../replay/index.js';
import { loadViewSnapshot, RunManager } from '../runs/index.js';
import { openWorkstation } from './workstation.js';

/** A generated history: `runs` runs of `eventsPerRun` events each. */
export interface HistoryShape {
  runs: number;
  eventsPerRun: number;
  seed?: number;
}

export interface GeneratedHistory extends HistoryShape {
  dataDir: string;
  events: number;
  /** The longest run's id (run.view is measured on it). */
  longestRunId: string | null;
  generate_ms: number;
  /** Append CPU per event while generating (validation, encoding, hashing, writes), µs. */
  append_cpu_us_per_event: number;
}

const MARK = 'scale-history.json';
/** Appends in flight at once while generating (stream durability: they share batches). */
const WINDOW = 2_000;

/**
 * The synthetic run's bodies the ledger accepts (it deliberately includes unknown types and
 * invalid payloads, which `append` refuses), ending the way a run rests after a clean stop: idle,
 * its last agent's exit recorded. Host-crash reconciliation then asks each run whether its agent
 * exited (its runs row) and leaves it alone, as it does most of a year's runs.
 */
function* acceptedBodies(count: number, seed: number): Generator<AppendInput> {
  let emitted = 0;
  let generation = 1;
  // The newest agent and whether its exit is recorded, by the runs projection's own rule.
  const agent = { agent_generation: 0, agent_exited: 1 };
  for (const event of syntheticRun(Number.MAX_SAFE_INTEGER, { seed })) {
    if (emitted >= count - 2) break;
    const body = { type: event.type, payload: event.payload };
    if (!EventBody.safeParse(body).success) continue;
    generation = event.generation ?? generation;
    foldAgentExit(agent, body);
    emitted += 1;
    yield { ...body, ...(event.generation === undefined ? {} : { generation: event.generation }) } as AppendInput;
  }
  const started = agent.agent_generation;
  if (!agent.agent_exited) yield { type: 'runtime.exited', payload: { generation: started, code: 0, signal: null, expected: true }, generation: started } as AppendInput;
  yield { type: 'run.state', payload: { state: 'idle', stopReason: 'end_turn' }, generation } as AppendInput;
}

/** Bumped when generated histories change shape: a history of another version is generated again. */
const HISTORY_VERSION = 3;

/**
 * Writes a history through the ledger's own append path (so markers, projections and both
 * stores are exactly what Keel writes), in windows of stream appends. A data directory that
 * already holds the same shape (its mark file) is reused.
 */
export async function generateHistory(dataDir: string, shape: HistoryShape, onProgress?: (done: number, total: number) => void): Promise<GeneratedHistory> {
  const markFile = `${dataDir}/${MARK}`;
  const seed = shape.seed ?? 16;
  if (fs.existsSync(markFile)) {
    const previous = JSON.parse(fs.readFileSync(markFile, 'utf8')) as GeneratedHistory & { version?: number };
    const same = previous.version === HISTORY_VERSION && previous.runs === shape.runs && previous.eventsPerRun === shape.eventsPerRun && previous.seed === seed;
    if (same) return { ...previous, dataDir };
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  const started = performance.now();
  const cpu = process.cpuUsage();
  const ledger = await openLedger({ dataDir, backgroundCheck: false });
  const total = shape.runs * shape.eventsPerRun;
  let done = 0;
  let longestRunId: string | null = null;
  try {
    for (let run = 0; run < shape.runs; run++) {
      const runId = ledger.newRunId();
      longestRunId ??= runId;
      let window: Promise<unknown>[] = [];
      let first = true;
      for (const body of acceptedBodies(shape.eventsPerRun, seed + run)) {
        // run.created must land before the rest can be appended.
        if (first) {
          await ledger.append(runId, body);
          first = false;
        } else {
          window.push(ledger.append(runId, body, { durability: 'stream' }));
        }
        done += 1;
        if (window.length >= WINDOW) {
          await Promise.all(window);
          window = [];
          onProgress?.(done, total);
        }
      }
      await Promise.all(window);
      // A run that reconciliation would act on would make every start (and `keel runs`) reconcile it: not a resting run.
      if (!ledger.lastGenerationExited(runId)) throw new Error(`generated run ${runId} does not rest: its last agent's exit is not recorded`);
    }
  } finally {
    await ledger.close();
  }
  const used = process.cpuUsage(cpu);
  const result: GeneratedHistory = {
    ...shape,
    seed,
    dataDir,
    events: done,
    longestRunId,
    generate_ms: Math.round(performance.now() - started),
    append_cpu_us_per_event: done > 0 ? Math.round(((used.user + used.system) / done) * 10) / 10 : 0,
  };
  fs.writeFileSync(markFile, JSON.stringify({ ...result, version: HISTORY_VERSION }));
  return result;
}

export interface OpenFigures {
  /** openLedger + RunManager.open (what every host start and most commands do), wall ms. */
  open_ms: number;
  open_cpu_ms: number;
  /** The background check of what open trusted, until done (it runs while the host serves). */
  background_check_ms: number;
}

/** Opens the ledger as a host does (recovery, then reconciliation), in this process. */
export async function measureOpen(dataDir: string): Promise<OpenFigures> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const ledger = await openLedger({ dataDir });
  const manager = await RunManager.open({ ledger, dataDir });
  const open_ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const check = performance.now();
  await ledger.backgroundCheck();
  const background_check_ms = performance.now() - check;
  await manager.close();
  await ledger.close();
  return { open_ms: round(open_ms), open_cpu_ms: round((used.user + used.system) / 1000), background_check_ms: round(background_check_ms) };
}

export interface RunViewFigures {
  events: number;
  /** No snapshot stored yet: the view folds every event (in slices). */
  first_ms: number;
  first_cpu_ms: number;
  /** A fresh host (nothing in memory) with the snapshot stored: the cold path. */
  cold_ms: number;
  cold_cpu_ms: number;
  /** The same host again (folded view in memory). */
  warm_ms: number;
  warm_cpu_ms: number;
  /** Longest event-loop block while the cold view was served (other clients wait this long at most). */
  cold_longest_block_ms: number;
  first_longest_block_ms: number;
  view_bytes: number;
  /**
   * JSON.parse of the cold answer's JSON text, timed in the same run: what any client of
   * run.view does with the answer (the transports carry JSON), so the floor of a whole-view
   * answer end to end, whatever the host does.
   */
  client_parse_ms: number;
  /** run.viewWindow as the app asks it (the newest VIEW_WINDOW_ITEMS items), on another fresh host with the snapshot stored. */
  window: RunViewWindowFigures;
}

export interface RunViewWindowFigures {
  cold_ms: number;
  cold_cpu_ms: number;
  cold_longest_block_ms: number;
  /** The whole view's load that follows a cold window in the background, until it is in memory (awaited by a run.view). */
  background_load_ms: number;
  background_load_cpu_ms: number;
  background_longest_block_ms: number;
  /** The same host again (whole view in memory). */
  warm_ms: number;
  warm_cpu_ms: number;
  window_bytes: number;
  item_count: number;
}

async function timedView(ledger: Ledger, call: () => Promise<unknown>): Promise<{ ms: number; cpu: number; block: number; value: unknown }> {
  // Nothing else of this host runs meanwhile: the background check has finished.
  await ledger.backgroundCheck();
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await call();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await nextTurn();
  histogram.disable();
  return { ms, cpu: (used.user + used.system) / 1000, block: histogram.max / 1e6, value };
}

/**
 * run.view of one run through a real Workstation's router (input and output validated as for
 * any client): first (no snapshot), cold (fresh host, snapshot stored) and warm; and beside it
 * run.viewWindow as the app asks it (the newest items) cold on another fresh host, the whole
 * view's load that follows it in the background, and warm.
 */
export async function measureRunView(dataDir: string, runId: string): Promise<RunViewFigures> {
  const callOf = (name: 'run.view' | 'run.viewWindow') => (workstation: Awaited<ReturnType<typeof openWorkstation>>) => async () => {
    const outcome = await workstation.router.call(name, { runId }, { transport: 'memory' });
    if (!outcome.ok) throw new Error(`${name} failed: ${outcome.error.message}`);
    return outcome.value;
  };
  const call = callOf('run.view');
  const callWindow = callOf('run.viewWindow');
  const first = await openWorkstation({ dataDir, mode: 'headless' });
  let firstFigures: Awaited<ReturnType<typeof timedView>>;
  let events = 0;
  try {
    // Forget stored snapshots so "first" is a fold from nothing.
    first.ledger.snapshots.forget(runId);
    firstFigures = await timedView(first.ledger, call(first));
    events = (firstFigures.value as { lastSeq: number }).lastSeq;
    // The snapshot is stored in the background: wait for its row.
    for (let i = 0; i < 10_000 && !(await loadViewSnapshot(first.ledger, runId)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await first.close();
  }
  const windowed = await openWorkstation({ dataDir, mode: 'headless' });
  let window: RunViewWindowFigures;
  try {
    const cold = await timedView(windowed.ledger, callWindow(windowed));
    // The whole view loads in the background after the window's answer: run.view waits for that load.
    const background = await timedView(windowed.ledger, call(windowed));
    const warm = await timedView(windowed.ledger, callWindow(windowed));
    window = {
      cold_ms: round(cold.ms),
      cold_cpu_ms: round(cold.cpu),
      cold_longest_block_ms: round(cold.block),
      background_load_ms: round(background.ms),
      background_load_cpu_ms: round(background.cpu),
      background_longest_block_ms: round(background.block),
      warm_ms: round(warm.ms),
      warm_cpu_ms: round(warm.cpu),
      window_bytes: JSON.stringify(cold.value).length,
      item_count: (cold.value as { itemCount: number }).itemCount,
    };
  } finally {
    await windowed.close();
  }
  const host = await openWorkstation({ dataDir, mode: 'headless' });
  try {
    const cold = await timedView(host.ledger, call(host));
    const warm = await timedView(host.ledger, call(host));
    const answer = JSON.stringify(cold.value);
    const parseStarted = performance.now();
    JSON.parse(answer);
    const clientParseMs = performance.now() - parseStarted;
    return {
      events,
      first_ms: round(firstFigures.ms),
      first_cpu_ms: round(firstFigures.cpu),
      cold_ms: round(cold.ms),
      cold_cpu_ms: round(cold.cpu),
      warm_ms: round(warm.ms),
      warm_cpu_ms: round(warm.cpu),
      cold_longest_block_ms: round(cold.block),
      first_longest_block_ms: round(firstFigures.block),
      view_bytes: answer.length,
      client_parse_ms: round(clientParseMs),
      window,
    };
  } finally {
    await host.close();
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
