import { LEDGER_SCHEMA_VERSION, type EventType, type LedgerEvent, type PayloadOf } from '../contract/index.js';

/** A small seeded PRNG (mulberry32): the same seed gives the same run on every machine. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticRunOptions {
  readonly seed?: number;
  readonly runId?: string;
  /** ts of seq 1, in ms since the epoch; each later event is 7 ms after the previous one. */
  readonly startMs?: number;
}

interface Body {
  readonly type: string;
  readonly payload: unknown;
}

const WORDS = ['the ', 'agent ', 'reads ', 'a ', 'file ', 'and ', 'then ', 'writes ', 'tests ', 'for ', 'it. ', '\n'];
const LINES = ['ok\n', 'PASS src/a.test.ts\n', 'compiling...\n', 'warning: unused\n', '3 files changed\n'];
const TOOL_KINDS = ['execute', 'edit', 'read', 'search'];
const STATUSES = ['pending', 'in_progress', 'completed'] as const;
/** Dummy chain hashes: the fold never checks them. */
const HASH_A = '0'.repeat(64);
const HASH_B = 'f'.repeat(64);

const body = <T extends EventType>(type: T, payload: PayloadOf<T>): Body => ({ type, payload });

/**
 * An endless, realistic-looking mix of turns: prompts, streamed thoughts and messages
 * (sometimes without a turn), plans, tool calls whose updates interleave with messages,
 * approvals, agent crashes with a new generation, and the rare note, repair, unknown
 * future type, invalid payload and update for a tool that never started.
 */
function* bodies(random: () => number, generation: { value: number }): Generator<Body> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  yield body('run.created', { workspace: '/work/repo', agent: { kind: 'builtin', script: 'demo' }, title: 'synthetic run' });
  yield body('run.state', { state: 'starting' });
  yield body('run.state', { state: 'idle' });
  let toolNumber = 0;
  for (let turn = 1; ; turn++) {
    yield body('prompt.sent', { turn, text: `prompt ${turn}`, ik: `ik:${turn.toString(16).padStart(8, '0')}` });
    yield body('run.state', { state: 'running' });
    for (let step = int(1, 8); step > 0; step--) {
      const roll = random();
      if (roll < 0.2) {
        for (let n = int(1, 20); n > 0; n--) yield body('thought.chunk', { turn, text: pick(WORDS) });
      } else if (roll < 0.45) {
        const withTurn = random() < 0.7;
        for (let n = int(1, 40); n > 0; n--) yield body('message.chunk', withTurn ? { turn, text: pick(WORDS) } : { text: pick(WORDS) });
      } else if (roll < 0.55) {
        const entries = Array.from({ length: int(1, 6) }, (_, i) => ({ content: `step ${i + 1}`, status: pick(STATUSES) }));
        yield body('plan.updated', { entries });
      } else if (roll < 0.85) {
        const toolCallId = `tool-${++toolNumber}`;
        yield body('tool.started', { toolCallId, title: `tool ${toolNumber}`, kind: pick(TOOL_KINDS), input: { command: 'npm test' } });
        for (let n = int(0, 10); n > 0; n--) {
          if (random() < 0.2) yield body('message.chunk', { turn, text: pick(WORDS) });
          const diff = random() < 0.15 ? { path: `src/file${int(1, 3)}.ts`, oldText: random() < 0.3 ? null : 'old', newText: `new ${n}` } : undefined;
          yield body('tool.updated', { toolCallId, status: 'in_progress', output: pick(LINES), ...(diff ? { diff } : {}) });
        }
        yield body('tool.updated', { toolCallId, status: random() < 0.9 ? 'completed' : 'failed' });
      } else if (roll < 0.9) {
        yield body('run.state', { state: 'awaiting_approval', detail: 'exec npm install' });
        yield body('run.state', { state: 'running' });
      } else if (roll < 0.93) {
        yield body('run.state', { state: 'interrupted', stopReason: 'agent_crashed', detail: 'exit 137' });
        generation.value++;
        yield body('run.state', { state: 'starting' });
        yield body('run.state', { state: 'running' });
      } else if (roll < 0.96) {
        yield body('note', { text: `note in turn ${turn}` });
      } else if (roll < 0.97) {
        yield body('ledger.repaired', { reason: 'torn tail', truncatedBytes: int(1, 500), brokenFile: 'run.ndjson.broken', keptThroughSeq: 1 });
      } else if (roll < 0.98) {
        yield { type: 'future.event', payload: { anything: true } };
      } else if (roll < 0.99) {
        yield { type: 'message.chunk', payload: { turn, text: 42 } };
      } else {
        yield body('tool.updated', { toolCallId: `ghost-${turn}`, output: 'late output\n' });
      }
    }
    yield body('turn.ended', { turn, stopReason: 'end_turn' });
    yield body('run.state', { state: 'idle' });
  }
}

/** `count` ledger events of one synthetic run, seqs 1..count, built lazily. */
export function* syntheticRun(count: number, options: SyntheticRunOptions = {}): Generator<LedgerEvent> {
  const runId = options.runId ?? 'synthetic';
  const startMs = options.startMs ?? Date.UTC(2025, 0, 1);
  const generation = { value: 1 };
  const source = bodies(mulberry32(options.seed ?? 1), generation);
  for (let seq = 1; seq <= count; seq++) {
    const { type, payload } = source.next().value as Body;
    yield {
      schema_version: LEDGER_SCHEMA_VERSION,
      run_id: runId,
      seq,
      ts: new Date(startMs + seq * 7).toISOString(),
      type,
      generation: generation.value,
      payload,
      prev: seq % 2 ? HASH_A : HASH_B,
      hash: seq % 2 ? HASH_B : HASH_A,
    };
  }
}
