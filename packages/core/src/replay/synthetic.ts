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
 * (sometimes without a turn), plans, tool calls whose updates interleave with messages
 * (some with a command Keel runs or a file it writes), approvals that are decided, time
 * out, get cancelled or stay pending, agent crashes with a new generation (approvals reset,
 * a session re-bound, sometimes a hang, a protocol error, a stopped runtime or a host
 * recovery first), and the rare note, repair, unknown future type, invalid payload and
 * update for a tool or terminal that never started.
 */
function* bodies(random: () => number, generation: { value: number }): Generator<Body> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  yield body('run.created', { workspace: '/work/repo', agent: { kind: 'builtin', script: 'demo' }, title: 'synthetic run' });
  yield body('run.state', { state: 'starting' });
  yield body('runtime.started', { generation: generation.value, pid: 1000, command: ['keel-agent'], hostPid: 999 });
  yield body('session.bound', { generation: generation.value, sessionId: 'session-1', outcome: 'new', method: 'session/new', remapped: false });
  yield body('run.state', { state: 'idle' });
  let toolNumber = 0;
  let approvalNumber = 0;
  /** Requests nobody answered yet, and those a crash orphaned (decided later, then carried over). */
  let pending: string[] = [];
  let orphaned: string[] = [];
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
        const kind = pick(TOOL_KINDS);
        yield body('tool.started', { toolCallId, title: `tool ${toolNumber}`, kind, input: { command: 'npm test' } });
        // Some execute calls run a command through Keel, some edits write through Keel.
        const terminalId = kind === 'execute' && random() < 0.5 ? `term-${toolNumber}` : null;
        if (terminalId) yield body('terminal.started', { terminalId, command: 'npm', args: ['test'], cwd: '/work/repo' });
        for (let n = int(0, 10); n > 0; n--) {
          if (random() < 0.2) yield body('message.chunk', { turn, text: pick(WORDS) });
          const diff = random() < 0.15 ? { path: `src/file${int(1, 3)}.ts`, oldText: random() < 0.3 ? null : 'old', newText: `new ${n}` } : undefined;
          if (terminalId && random() < 0.6) yield body('terminal.output', { terminalId, text: pick(LINES) });
          yield body('tool.updated', { toolCallId, status: 'in_progress', output: pick(LINES), ...(diff ? { diff } : {}) });
        }
        if (terminalId) yield body('terminal.exited', random() < 0.9 ? { terminalId, exitCode: int(0, 1), signal: null } : { terminalId, exitCode: null, signal: 'SIGKILL' });
        if (kind === 'edit' && random() < 0.5) yield body('fs.written', { path: `src/file${int(1, 3)}.ts`, bytes: int(0, 4000), sha256: HASH_A, created: random() < 0.3 });
        yield body('tool.updated', { toolCallId, status: random() < 0.9 ? 'completed' : 'failed' });
      } else if (roll < 0.9) {
        const approvalId = `appr-${++approvalNumber}`;
        const action = { kind: 'exec' as const, title: 'npm install', command: 'npm', args: ['install'], cwd: '/work/repo' };
        const request = { generation: generation.value, action, actionKey: 'exec:npm install', reason: 'not in the allow list', source: 'agent' as const };
        yield body('approval.requested', { approvalId, ...request, ...(random() < 0.7 ? { turn } : {}), ...(random() < 0.5 ? { timeoutMs: 900_000 } : {}) });
        yield body('run.state', { state: 'awaiting_approval', detail: 'exec npm install' });
        const outcome = random();
        if (orphaned.length > 0 && outcome < 0.3) {
          // The user answers a card a crash orphaned; the same action asked again gets it.
          const earlier = orphaned.shift()!;
          yield body('approval.decided', { approvalId: earlier, decision: 'allow_once', by: 'user', note: 'the process that asked is gone' });
          yield body('approval.decided', { approvalId, decision: 'allow_once', by: 'carryover', ref: earlier, note: 'decided earlier' });
        } else if (outcome < 0.75) {
          yield body('approval.decided', { approvalId, decision: random() < 0.8 ? 'allow_once' : random() < 0.5 ? 'allow_run' : 'deny', by: random() < 0.8 ? 'user' : 'auto' });
        } else if (outcome < 0.82) {
          yield body('approval.timed_out', { approvalId });
        } else if (outcome < 0.88) {
          yield body('approval.cancelled', { approvalId, reason: 'the turn was cancelled' });
        } else {
          pending.push(approvalId); // Left for the next crash to orphan.
        }
        yield body('run.state', { state: 'running' });
      } else if (roll < 0.93) {
        yield* crash(turn);
      } else if (roll < 0.96) {
        yield body('note', { text: `note in turn ${turn}` });
      } else if (roll < 0.97) {
        yield body('ledger.repaired', { reason: 'torn tail', truncatedBytes: int(1, 500), brokenFile: 'run.ndjson.broken', keptThroughSeq: 1 });
      } else if (roll < 0.98) {
        yield { type: 'future.event', payload: { anything: true } };
      } else if (roll < 0.99) {
        yield { type: 'message.chunk', payload: { turn, text: 42 } };
      } else if (random() < 0.8) {
        yield body('tool.updated', { toolCallId: `ghost-${turn}`, output: 'late output\n' });
      } else {
        yield body('terminal.output', { terminalId: `ghost-term-${turn}`, text: 'late output\n' });
      }
    }
    yield body('turn.ended', { turn, stopReason: 'end_turn' });
    yield body('run.state', { state: 'idle' });
  }

  /** The agent dies mid-turn; the next generation starts and re-binds the session. */
  function* crash(turn: number): Generator<Body> {
    const dead = generation.value;
    const cause = random();
    if (cause < 0.1) yield body('runtime.hang', { generation: dead, idleMs: 120_000 });
    else if (cause < 0.15) yield body('runtime.protocol_error', { generation: dead, kind: pick(['garbage', 'invalid_utf8', 'invalid_message'] as const), detail: 'line 1', sample: '{oops' });
    else if (cause < 0.2) yield body('run.recovered', { reason: 'host_interrupted', previousState: 'running', hostPid: 999 });
    yield body('runtime.exited', random() < 0.5 ? { generation: dead, code: 137, signal: null, expected: false } : { generation: dead, code: null, signal: 'SIGKILL', expected: false });
    if (pending.length > 0) {
      yield body('approval.reset', { generation: dead, approvalIds: pending, reason: 'the agent process exited' });
      orphaned = [...orphaned, ...pending].slice(-8);
      pending = [];
    }
    yield body('run.state', { state: 'interrupted', stopReason: 'agent_crashed', detail: 'exit 137' });
    if (random() < 0.1) {
      yield body('runtime.stopped', { stopReason: 'runtime_stopped', attempts: 5, detail: 'restarts are exhausted' });
      yield body('run.state', { state: 'stopped', stopReason: 'runtime_stopped' });
    } else {
      yield body('runtime.restarting', { nextGeneration: dead + 1, attempt: int(1, 3), delayMs: int(0, 2000), reason: 'agent_restarted' });
    }
    generation.value++;
    yield body('run.state', { state: 'starting' });
    yield body('runtime.started', { generation: generation.value, pid: 1000 + generation.value, command: ['keel-agent'], hostPid: 999 });
    const outcome = pick(['replayed', 'replayed', 'restored', 'fresh', 'unavailable'] as const);
    yield body('session.bound', { generation: generation.value, sessionId: 'session-1', outcome, method: 'session/load', remapped: outcome === 'fresh' && random() < 0.5 });
    if (random() < 0.2) yield body('prompt.skipped', { turn, ik: `ik:${turn.toString(16).padStart(8, '0')}`, reason: 'the agent already has it' });
    yield body('run.state', { state: 'running' });
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
