// Writes one long, realistic run straight into a data dir's ledger (both stores, hash-chained,
// validated by the ledger like any producer's events) — no agent involved. Used by the UI
// benchmark (e2e/specs/conversation.spec.ts, scripts/bench-ui.mjs) BEFORE `keel serve` opens
// the data dir: the server holds the ledger lock while it runs.
//
//   node e2e/support/generate-run.mjs <dataDir> [events=100000] [workspace]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLedger } from '@keel/core';

/** A small seeded PRNG (mulberry32): the same seed gives the same run on every machine. */
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['the ', 'agent ', 'reads ', 'a ', 'file ', 'and ', 'then ', 'writes ', 'tests ', 'for ', 'it. ', '`npm test` ', '**passes** ', '\n\n', '- item\n'];
const LINES = ['ok\n', 'PASS src/a.test.ts\n', 'compiling...\n', 'warning: unused variable\n', '3 files changed, 12 insertions(+)\n'];
const TOOL_KINDS = ['execute', 'edit', 'read', 'search'];

/** A pid no process has (the host's reconcile would never touch it anyway: the run ends exited). */
function deadPid() {
  for (let pid = 4_000_000; ; pid++) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if (error.code === 'ESRCH') return pid;
    }
  }
}

/**
 * The events of the run, as ledger append inputs, exactly `total` of them: generation 1 of the
 * agent starts and binds a session, then turns — a prompt, streamed thoughts and messages,
 * plans, tool calls with streamed output and diffs, commands Keel ran, files Keel wrote,
 * approvals asked and decided, notes — each closed by `turn.ended`; at the end the agent
 * exits cleanly and the run is idle, so the host finds nothing to reconcile.
 */
export function* runEvents({ total = 100_000, seed = 7, workspace }) {
  const random = mulberry32(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const int = (min, max) => min + Math.floor(random() * (max - min + 1));
  const pid = deadPid();
  let count = 0;
  const ev = (type, payload, generation) => {
    count += 1;
    return generation === undefined ? { type, payload } : { type, generation, payload };
  };
  const closing = 3; // turn.ended, run.state idle, runtime.exited
  yield ev('run.created', { workspace, agent: { kind: 'builtin', script: 'edit-and-test' }, title: `${total.toLocaleString('en')} events (generated)`, approvalMode: 'interactive' });
  yield ev('run.state', { state: 'starting' });
  yield ev('runtime.started', { generation: 1, pid, command: [process.execPath, '/nonexistent/keel-generated-agent.js'], hostPid: process.pid }, 1);
  yield ev('session.bound', { generation: 1, sessionId: 'generated-session', outcome: 'new', method: 'session/new', remapped: false }, 1);
  yield ev('run.state', { state: 'idle' });

  let tool = 0;
  let approval = 0;
  let terminal = 0;
  for (let turn = 1; ; turn++) {
    // The last turn: a prompt and a message that fill the budget exactly, then the closing events.
    const last = total - count < 400;
    yield ev('prompt.sent', { turn, text: last ? 'Summarise everything you did.' : `Task ${turn}: make the ${pick(['parser', 'cache', 'router', 'tests'])} faster and keep the tests green.`, ik: `ik:${turn.toString(16).padStart(8, '0')}` }, 1);
    yield ev('run.state', { state: 'running' });
    if (last) {
      while (count < total - closing) yield ev('message.chunk', { turn, text: pick(WORDS) }, 1);
    } else {
      for (let step = int(2, 8); step > 0; step--) {
        const roll = random();
        if (roll < 0.2) {
          for (let n = int(5, 40); n > 0; n--) yield ev('thought.chunk', { turn, text: pick(WORDS) }, 1);
        } else if (roll < 0.5) {
          for (let n = int(10, 120); n > 0; n--) yield ev('message.chunk', { turn, text: pick(WORDS) }, 1);
        } else if (roll < 0.58) {
          const entries = Array.from({ length: int(2, 6) }, (_, i) => ({ content: `Step ${i + 1} of task ${turn}`, status: pick(['pending', 'in_progress', 'completed']), priority: pick(['high', 'medium', 'low']) }));
          yield ev('plan.updated', { entries }, 1);
        } else if (roll < 0.85) {
          const toolCallId = `call-${++tool}`;
          const kind = pick(TOOL_KINDS);
          yield ev('tool.started', { toolCallId, title: kind === 'execute' ? 'Run npm test' : kind === 'edit' ? `Edit src/file${tool % 9}.ts` : `Read src/file${tool % 9}.ts`, kind, input: { path: `src/file${tool % 9}.ts` } }, 1);
          for (let n = int(1, 12); n > 0; n--) {
            const diff = kind === 'edit' && random() < 0.3 ? { path: `src/file${tool % 9}.ts`, oldText: 'export const a = 1;\n', newText: `export const a = ${n};\n` } : undefined;
            yield ev('tool.updated', { toolCallId, status: 'in_progress', output: pick(LINES), ...(diff ? { diff } : {}) }, 1);
          }
          yield ev('tool.updated', { toolCallId, status: random() < 0.92 ? 'completed' : 'failed' }, 1);
        } else if (roll < 0.93) {
          // The agent asks; a person answers; Keel runs the command or writes the file.
          const approvalId = `appr-gen-${++approval}`;
          const exec = random() < 0.5;
          const action = exec
            ? { kind: 'exec', title: 'Run npm test', command: 'npm', args: ['test'], cwd: workspace }
            : { kind: 'write', title: `Write src/file${approval % 9}.ts`, paths: [path.join(workspace, `src/file${approval % 9}.ts`)] };
          yield ev('approval.requested', { approvalId, generation: 1, turn, action, actionKey: exec ? 'exec:npm test' : `write:src/file${approval % 9}.ts`, reason: 'no policy rule allows it: ask', source: 'agent', timeoutMs: 900_000 }, 1);
          yield ev('run.state', { state: 'awaiting_approval', detail: action.title });
          yield ev('approval.decided', { approvalId, decision: random() < 0.85 ? 'allow_once' : 'deny', by: 'user' });
          yield ev('run.state', { state: 'running' });
          if (exec) {
            const terminalId = `term-${++terminal}`;
            yield ev('terminal.started', { terminalId, command: 'npm', args: ['test'], cwd: workspace, approvalId }, 1);
            for (let n = int(1, 15); n > 0; n--) yield ev('terminal.output', { terminalId, text: pick(LINES) }, 1);
            yield ev('terminal.exited', { terminalId, exitCode: random() < 0.9 ? 0 : 1, signal: null }, 1);
          } else {
            yield ev('fs.written', { path: `src/file${approval % 9}.ts`, bytes: int(100, 4000), sha256: '0'.repeat(64), created: random() < 0.3, approvalId }, 1);
          }
        } else {
          yield ev('note', { text: `Checkpoint note for task ${turn}.` });
        }
      }
    }
    yield ev('turn.ended', { turn, stopReason: 'end_turn' }, 1);
    yield ev('run.state', { state: 'idle', stopReason: 'end_turn' });
    if (last) break;
  }
  yield ev('runtime.exited', { generation: 1, code: 0, signal: null, expected: true }, 1);
  if (count !== total) throw new Error(`generator produced ${count} events, not ${total}`);
}

/**
 * Appends a generated run of `total` events to the ledger in `dataDir` (created if needed).
 * Stream durability and batches of concurrent appends: one group commit per batch.
 * Resolves with the run id and how long it took.
 */
export async function generateRun({ dataDir, total = 100_000, seed = 7, workspace, batch = 2_000 }) {
  const started = performance.now();
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const ws = workspace ?? fs.mkdtempSync(path.join(os.tmpdir(), 'keel-generated-ws-'));
  const ledger = await openLedger({ dataDir, streamWindowMs: 2 });
  const runId = ledger.newRunId();
  try {
    let pending = [];
    for (const body of runEvents({ total, seed, workspace: ws })) {
      // run.created must be durable before anything else of the run is queued.
      if (body.type === 'run.created') {
        await ledger.append(runId, body);
        continue;
      }
      pending.push(ledger.append(runId, body, { durability: 'stream' }));
      if (pending.length >= batch) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
  } finally {
    await ledger.close();
  }
  return { runId, events: total, workspace: ws, ms: Math.round(performance.now() - started) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [dataDir, events = '100000', workspace] = process.argv.slice(2);
  if (!dataDir) {
    process.stderr.write('usage: node e2e/support/generate-run.mjs <dataDir> [events=100000] [workspace]\n');
    process.exit(2);
  }
  const result = await generateRun({ dataDir: path.resolve(dataDir), total: Number(events), workspace });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
