// Issue 9, point 3, with the REAL Claude Code (claude-agent-acp 0.49.0 and its native `claude`),
// offline. The scripted model holds Claude's first model round, so the turn is in flight; the
// test then SIGKILLs the native `claude` child only. The adapter process survives and answers the
// prompt "The Claude Agent process exited unexpectedly. Please start a new session.".
//  1. Keel's ACP adapter reads that answer as AgentEngineGoneError (and the "Session not found"
//     that follows, once the adapter evicted the session) — detection only.
//  2. Through a RunManager: Keel treats it like a crash of the agent: it kills the generation
//     (reason engine_lost), restarts (runtime.restarting, reason engine_lost), binds the session
//     in generation 2 (session.bound with its outcome), ends or re-sends the turn, and the next
//     prompt completes (end_turn).
// Skipped (reason printed) when the agent is not installed: `node scripts/agents/install.mjs`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentPaths } from '../../../../scripts/agents/paths.mjs';
import type { AgentSpec, LedgerEvent } from '../../src/contract/schemas/ledger.js';
import { createAcpAdapter } from '../../src/runtime/acp/acp-adapter.js';
import { AgentEngineGoneError, AgentRequestError, type AgentRequests } from '../../src/runtime/adapter.js';
import { frameChannel } from '../../src/runtime/framing.js';
import { createRun, keelBin, ofType, removeTempDirs, requireBuilt, tempDir, type RunHarness } from '../fixtures/runtime-kit.js';
import { claudeEnv, cleanUpAgentTest, fileChanges, groupMembers, runKeelCli, spawnAgent, trackRunAgents, waitUntil } from './harness.js';
import { startScriptedModelServer, type Hold, type ScriptedModelServer } from './scripted-model-server.js';

const paths = agentPaths();
if (!paths.claudeAcp) {
  console.warn(`[claude-engine-lost] skipped: @agentclientprotocol/claude-agent-acp@0.49.0 is not installed in ${paths.cache}: run \`node scripts/agents/install.mjs\``);
}

const COMMAND = 'echo keel-engine > proof.txt';
const PROOF = 'keel-engine\n';
const FINAL = 'Done: proof.txt holds the proof.';
const PROMPT = 'Write the proof file.';
const ENGINE_DIED = 'The Claude Agent process exited unexpectedly. Please start a new session.';
const TRACE = process.env.KEEL_TRACE_EVENTS === '1';

const servers: ScriptedModelServer[] = [];
const holds: Hold[] = [];
const harnesses: RunHarness[] = [];

beforeAll(() => {
  if (paths.claudeAcp) requireBuilt();
});
afterEach(() => cleanUpAgentTest({ harnesses, servers, holds }));
afterAll(() => {
  if (process.env.KEEL_KEEP_TEMP !== '1') removeTempDirs();
});

/** The scripted model, with Claude Code's first tool-call round (the prompt's) held. */
async function heldModel(): Promise<{ model: ScriptedModelServer; hold: Hold }> {
  const model = await startScriptedModelServer({ command: COMMAND, finalText: FINAL, description: 'Write proof.txt' });
  servers.push(model);
  const hold = model.hold((r) => r.api === 'messages' && r.reply === 'tool_call');
  holds.push(hold);
  return { model, hold };
}

const envFor = (model: ScriptedModelServer): NodeJS.ProcessEnv => ({ ...claudeEnv(tempDir('keel-cel-claude-home-'), model.url), CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });

/** Where Claude Code keeps a session transcript: $HOME/.claude/projects/<cwd, non-alnum -> '-'>/<id>.jsonl */
const claudeTranscript = (home: string, ws: string, sessionId: string) =>
  path.join(home, '.claude', 'projects', ws.replace(/[^a-zA-Z0-9]/g, '-'), `${sessionId}.jsonl`);

/** Live descendants of `root` (Linux /proc), each with the path of its executable. */
function descendants(root: number): Array<{ pid: number; exe: string }> {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Exited meanwhile.
    }
  }
  const found: Array<{ pid: number; exe: string }> = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    let exe = '';
    try {
      exe = fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
      // Exited meanwhile, or not ours to read.
    }
    found.push({ pid, exe });
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** The native `claude` engine under a claude-agent-acp process (not the adapter itself). */
function nativeClaudeUnder(adapterPid: number): number[] {
  return descendants(adapterPid)
    .filter((process) => path.basename(process.exe) === 'claude')
    .map((process) => process.pid);
}

/** Recording host for the bare adapter test: the held round means Claude asks for nothing. */
function quietHost(): AgentRequests & { protocolErrors: string[] } {
  const protocolErrors: string[] = [];
  return {
    protocolErrors,
    update: () => undefined,
    askPermission: async () => 'deny',
    readTextFile: async () => {
      throw new Error('not expected');
    },
    writeTextFile: async () => {
      throw new Error('not expected');
    },
    terminals: {
      create: () => Promise.reject(new Error('not expected')),
      output: () => Promise.reject(new Error('not expected')),
      waitForExit: () => Promise.reject(new Error('not expected')),
      kill: () => Promise.reject(new Error('not expected')),
      release: () => Promise.reject(new Error('not expected')),
    },
    protocolError: (kind, detail) => void protocolErrors.push(`${kind}: ${detail}`),
  };
}

const failureOf = (work: Promise<unknown>) =>
  work.then(
    () => null,
    (error: unknown) => error as Error,
  );

describe.skipIf(!paths.claudeAcp)('the real Claude Code: its native engine is killed mid-turn', () => {
  it("Keel's ACP adapter reads claude-agent-acp's answer as AgentEngineGoneError; the adapter process lives on", async () => {
    const { model, hold } = await heldModel();
    const ws = fs.realpathSync(tempDir('keel-cel-ws-'));
    const proc = spawnAgent(paths.claudeAcp!, [], { cwd: ws, env: envFor(model) });
    const host = quietHost();
    const channel = frameChannel(proc.child.stdout!, proc.child.stdin!, { onProtocolError: (kind, detail) => host.protocolError(kind, detail) });
    const adapter = createAcpAdapter(channel, host, { cwd: ws });
    await adapter.initialize();
    const { sessionId } = await adapter.newSession(ws);
    const turn = failureOf(adapter.prompt(PROMPT, 'ik-1'));

    // Mid-turn: Claude Code waits on the model.
    await hold.arrived;
    const engines = nativeClaudeUnder(proc.child.pid!);
    expect(engines, `processes under the adapter: ${JSON.stringify(descendants(proc.child.pid!))}`).toHaveLength(1);
    process.kill(engines[0]!, 'SIGKILL');

    const error = await turn;
    expect(error).toBeInstanceOf(AgentEngineGoneError);
    expect(error!.message).toBe(`Internal error: ${ENGINE_DIED}`);
    expect(proc.child.exitCode).toBeNull();
    expect(proc.child.signalCode).toBeNull();

    // claude-agent-acp evicted the session: the next prompt hears "Session not found", which is
    // the same loss (not an ordinary AgentRequestError).
    const again = await failureOf(adapter.prompt('Continue.', 'ik-2'));
    expect(again).toBeInstanceOf(AgentEngineGoneError);
    expect(again).not.toBeInstanceOf(AgentRequestError);
    expect(again!.message).toBe('Internal error: Session not found');
    expect(proc.child.exitCode).toBeNull();
    expect(host.protocolErrors).toEqual([]);
    expect(sessionId).toBeTruthy();
  }, 90_000);

  it('Keel recovers: generation killed for engine_lost, runtime.restarting engine_lost, generation 2 bound, the next prompt ends end_turn', async () => {
    const { model, hold } = await heldModel();
    const ws = fs.realpathSync(tempDir('keel-cel-ws-'));
    const env = envFor(model);
    const spec: AgentSpec = { kind: 'acp', command: [paths.claudeAcp!] };
    const h = await createRun({ agent: spec, workspace: ws, approvalMode: 'all', tuning: { env, hangTimeoutMs: 60_000 } });
    harnesses.push(h);
    const { controller } = h;
    const { pids, stop: stopTracking } = trackRunAgents(h);
    let events: LedgerEvent[] = [];
    try {
      await controller.start();
      const bound1 = await h.waitForType('session.bound', (e) => e.payload.generation === 1);
      expect(bound1.payload).toMatchObject({ outcome: 'new', remapped: false });
      const sessionId = bound1.payload.sessionId!;
      const { turn } = await controller.prompt(PROMPT);

      // Mid-turn: Claude Code waits on the held model round. Its transcript holds the prompt by
      // now (so the session can be restored); wait for the flush rather than racing it.
      await hold.arrived;
      const transcript = claudeTranscript(env.HOME!, ws, sessionId);
      await waitUntil(() => fs.existsSync(transcript) && fs.readFileSync(transcript, 'utf8').includes(PROMPT), 10_000, 'the Claude transcript flush', fileChanges(transcript));

      // Kill the engine, not the adapter.
      const adapterPid = controller.agentPid!;
      expect(adapterPid).toBe(pids[0]);
      const engines = nativeClaudeUnder(adapterPid);
      expect(engines, `processes under the adapter: ${JSON.stringify(descendants(adapterPid))}`).toHaveLength(1);
      process.kill(engines[0]!, 'SIGKILL');

      // Expected flow: Keel records what the agent said, kills generation 1 for engine_lost, restarts.
      const restarting = await h.waitForType('runtime.restarting', undefined, { guardMs: 30_000 });
      expect(restarting.payload).toMatchObject({ nextGeneration: 2, reason: 'engine_lost' });
      const bound2 = await h.waitForType('session.bound', (e) => e.payload.generation === 2, { guardMs: 60_000 });
      // Claude restores the session from its transcript (session/load, history replayed).
      expect(bound2.payload).toMatchObject({ generation: 2, method: 'session/load', outcome: 'replayed', remapped: false, sessionId });
      // The replayed history shows the prompt arrived, so it is not sent twice (I6): the turn ends,
      // with the reason shown — not as a plain agent error.
      const ended = await h.waitForType('turn.ended', (e) => e.payload.turn === turn, { guardMs: 30_000 });
      expect(ended.payload.stopReason).toBe('engine_lost');
      await h.waitForType('run.state', (e) => e.payload.state === 'idle', { after: ended.seq, guardMs: 30_000 });
      const modelRounds = () => model.requests.filter((r) => r.api === 'messages' && r.reply !== 'side');
      expect(modelRounds().map((r) => [r.reply, r.held ?? false])).toEqual([['tool_call', true]]);

      events = h.events();
      if (TRACE) console.log(events.map((e) => `${e.seq} ${e.type}${e.generation === undefined ? '' : `[g${e.generation}]`} ${JSON.stringify(e.payload).slice(0, 140)}`).join('\n'));
      // What the agent said is on record.
      expect(ofType(events, 'note').some((e) => String(e.payload.text).includes(ENGINE_DIED))).toBe(true);
      // Generation 1 ended (killed by Keel, its whole group), generation 2 started and was bound.
      expect(ofType(events, 'runtime.exited').map((e) => e.payload.generation)).toContain(1);
      expect(ofType(events, 'runtime.started').map((e) => e.payload.generation)).toEqual([1, 2]);
      expect(ofType(events, 'session.bound').map((e) => e.payload.generation)).toEqual([1, 2]);
      expect(groupMembers(adapterPid)).toEqual([]);
      // Order: restarting -> started(2) -> bound(2).
      const started2 = ofType(events, 'runtime.started').find((e) => e.payload.generation === 2)!;
      expect(restarting.seq).toBeLessThan(started2.seq);
      expect(started2.seq).toBeLessThan(bound2.seq);
      // Nothing from the dead generation after it was killed (I6).
      const exited1 = ofType(events, 'runtime.exited').find((e) => e.payload.generation === 1)!;
      expect(events.filter((e) => e.seq > exited1.seq && e.generation === 1)).toEqual([]);

      // The next prompt completes in generation 2 with the real command run.
      const next = await controller.prompt('Continue.');
      const nextEnded = await h.waitForType('turn.ended', (e) => e.payload.turn === next.turn, { guardMs: 60_000 });
      expect(nextEnded.payload.stopReason).toBe('end_turn');
      expect(fs.readFileSync(path.join(ws, 'proof.txt'), 'utf8')).toBe(PROOF);
      const after = h.events().filter((e) => e.seq > events.at(-1)!.seq);
      expect(after.every((e) => e.generation === undefined || e.generation === 2)).toBe(true);
      expect(ofType(after, 'turn.ended').map((e) => e.payload)).toEqual([{ turn: next.turn, stopReason: 'end_turn' }]);
    } finally {
      stopTracking();
    }

    await h.close();
    for (const pid of pids) expect(groupMembers(pid), `agent group ${pid}`).toEqual([]);
    const verify = await runKeelCli(keelBin, ['ledger', 'verify', '--data', h.dataDir], { cwd: ws, env: { PATH: process.env.PATH } });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 150_000);
});
