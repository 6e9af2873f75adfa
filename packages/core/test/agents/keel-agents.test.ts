// The REAL agents (Codex app-server, Claude Code via claude-agent-acp) driven by KEEL, offline:
// the scripted model on 127.0.0.1 asks for a shell command, Keel's approval path decides it,
// the ledger records the exchange. Part 1 runs the real `keel run` CLI end to end; part 2 runs
// a RunManager in this process, kills the agent while an approval waits for a person, and
// checks the restart, the session re-binding and the carry-over of the user's late decision.
// Skipped (reason printed) when the agents are not installed: `node scripts/agents/install.mjs`.
// Debugging: KEEL_TRACE_EVENTS=1 prints each run's event sequence and the model's requests;
// KEEL_KEEP_TEMP=1 keeps the data dirs (agent-N.protocol.log holds the raw traffic).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentPaths } from '../../../../scripts/agents/paths.mjs';
import type { AgentSpec, LedgerEvent } from '../../src/contract/schemas/ledger.js';
import type { RunUsage } from '../../src/contract/schemas/usage.js';
import { openLedger } from '../../src/ledger/index.js';
import { readRunEvents } from '../../src/runs/index.js';
import { createRun, keelBin, ofType, removeTempDirs, requireBuilt, tempDir, type RunHarness } from '../fixtures/runtime-kit.js';
import { claudeEnv, cleanUpAgentTest, codexEnv, fileChanges, groupMembers, runKeelCli, trackRunAgents, waitUntil } from './harness.js';
import { startScriptedModelServer, type ScriptedModelServer } from './scripted-model-server.js';

const paths = agentPaths();
const missing = (what: string) => `${what} is not installed in ${paths.cache}: run \`node scripts/agents/install.mjs\` (or \`npm run test:agents\`)`;
if (!paths.codex) console.warn(`[keel-agents] skipping Codex through Keel: ${missing('@openai/codex@0.169.0')}`);
if (!paths.claudeAcp) console.warn(`[keel-agents] skipping Claude Code through Keel: ${missing('@agentclientprotocol/claude-agent-acp@0.49.0')}`);

const COMMAND = 'echo keel-through > proof.txt';
const PROOF = 'keel-through\n';
const FINAL = 'Done: proof.txt holds the proof.';
const DENIED = 'The command was refused; proof.txt was not written.';
const PROMPT = 'Write the proof file.';
const TRACE = process.env.KEEL_TRACE_EVENTS === '1';

// ---------------------------------------------------------------------------------------
// One agent's setup, shared by both parts.

interface AgentUnderTest {
  name: 'codex' | 'claude';
  available: boolean;
  /** `--agent` for the CLI. */
  kind: 'codex' | 'acp';
  command: string[];
  /** The whole environment the agent needs (the CLI passes its own on). */
  env(model: ScriptedModelServer): NodeJS.ProcessEnv;
  /** The command as Keel's normalised exec action carries it. */
  actionCommand: string;
}

const AGENTS: AgentUnderTest[] = [
  {
    name: 'codex',
    kind: 'codex',
    available: paths.codex !== null,
    command: [paths.codex ?? 'codex', 'app-server'],
    env: (model) => codexEnv(tempDir('keel-ka-codex-home-'), model.url),
    // Codex asks with `/bin/bash -lc '<cmd>'`; Keel unwraps the script.
    actionCommand: COMMAND,
  },
  {
    name: 'claude',
    kind: 'acp',
    available: paths.claudeAcp !== null,
    command: [paths.claudeAcp ?? 'claude-agent-acp'],
    env: (model) => ({ ...claudeEnv(tempDir('keel-ka-claude-home-'), model.url), CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }),
    actionCommand: COMMAND,
  },
];

const servers: ScriptedModelServer[] = [];
const harnesses: RunHarness[] = [];

beforeAll(() => {
  if (AGENTS.some((a) => a.available)) requireBuilt();
});
// Keel first (expected stops), then whatever group is left, then the model servers.
afterEach(() => cleanUpAgentTest({ harnesses, servers }));
afterAll(() => {
  if (process.env.KEEL_KEEP_TEMP !== '1') removeTempDirs();
});

async function scripted(): Promise<ScriptedModelServer> {
  const s = await startScriptedModelServer({ command: COMMAND, finalText: FINAL, deniedText: DENIED, description: 'Write proof.txt' });
  servers.push(s);
  return s;
}

const proofIn = (ws: string): string | null => {
  const file = path.join(ws, 'proof.txt');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
};

/** A compact, readable event sequence: `type[g] detail`, consecutive chunks folded. */
function sequence(events: readonly LedgerEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    const p = e.payload as Record<string, any>;
    const g = e.generation === undefined ? '' : `[g${e.generation}]`;
    let detail = '';
    switch (e.type) {
      case 'run.state':
        detail = [p.state, p.stopReason].filter(Boolean).join(' ');
        break;
      case 'runtime.started':
        detail = `gen ${p.generation}`;
        break;
      case 'runtime.exited':
        detail = `gen ${p.generation} code=${p.code} signal=${p.signal} expected=${p.expected}`;
        break;
      case 'runtime.restarting':
        detail = `next ${p.nextGeneration} (${p.reason})`;
        break;
      case 'session.bound':
        detail = `${p.outcome} via ${p.method}${p.remapped ? ' remapped' : ''}`;
        break;
      case 'approval.requested':
        detail = `${p.action.kind} ${JSON.stringify(p.action.command ?? p.action.title)}`;
        break;
      case 'approval.decided':
        detail = `${p.decision} by ${p.by}${p.ref ? ' (carry-over)' : ''}`;
        break;
      case 'approval.reset':
        detail = `gen ${p.generation} x${p.approvalIds.length}`;
        break;
      case 'tool.started':
        detail = `${p.kind ?? ''} ${JSON.stringify(p.title)}`;
        break;
      case 'tool.updated':
        detail = [p.status, p.output ? 'output' : ''].filter(Boolean).join(' ');
        break;
      case 'turn.ended':
        detail = `turn ${p.turn} ${p.stopReason}`;
        break;
      case 'prompt.sent':
        detail = `turn ${p.turn} ${JSON.stringify(p.text)}`;
        break;
      case 'note':
        detail = JSON.stringify(String(p.text).slice(0, 80));
        break;
    }
    const line = `${e.type}${g}${detail ? ` ${detail}` : ''}`;
    const prev = out[out.length - 1];
    if (e.type.endsWith('.chunk') && prev?.startsWith(`${e.type}${g}`)) {
      const m = / x(\d+)$/.exec(prev);
      out[out.length - 1] = `${e.type}${g} x${m ? Number(m[1]) + 1 : 2}`;
    } else out.push(line);
  }
  return out;
}

const trace = (label: string, events: readonly LedgerEvent[]) => {
  if (TRACE) console.log(`[keel-agents] ${label}\n  ${sequence(events).join('\n  ')}`);
};

const shapeOf = (body: any): unknown =>
  (body?.input ?? body?.messages ?? []).map((m: any) =>
    m.type === 'function_call_output' ? `fco:${String(m.output).slice(0, 60)}` : m.type === 'message' || m.role
      ? `${m.role}:${(Array.isArray(m.content) ? m.content : [{ type: 'text', text: m.content }]).map((b: any) => b.type === 'tool_result' ? `tool_result${b.is_error ? '!' : ''}(${JSON.stringify(b.content).slice(0, 60)})` : b.type === 'tool_use' ? 'tool_use' : `${b.type}(${String(b.text ?? '').slice(0, 40)})`).join('+')}`
      : m.type);

const texts = (events: readonly LedgerEvent[], turn?: number) =>
  ofType(events, 'message.chunk')
    .filter((e) => turn === undefined || e.payload.turn === turn)
    .map((e) => e.payload.text)
    .join('');

/** After a run: every process group Keel started for the agent is gone (nothing leaked). */
function expectNoLeaks(pids: number[]): void {
  for (const pid of pids) expect(groupMembers(pid), `agent group ${pid}`).toEqual([]);
}

// ---------------------------------------------------------------------------------------
// Part 1: `keel run`, the real CLI, end to end.

for (const agent of AGENTS) describe.skipIf(!agent.available)(`keel run --agent ${agent.kind} with the real ${agent.name} (offline)`, () => {
  async function keelRun(approve: 'all' | 'none') {
    const model = await scripted();
    const data = tempDir('keel-ka-data-');
    const ws = fs.realpathSync(tempDir(`keel-ka-ws-${agent.name}-`));
    const started = Date.now();
    const result = await runKeelCli(
      keelBin,
      ['run', '--data', data, '--workspace', ws, '--agent', agent.kind, '--agent-cmd', agent.command.map((arg) => `'${arg}'`).join(' '), '--prompt', PROMPT, '--approve', approve, '--json'],
      { cwd: ws, env: agent.env(model) },
    );
    const ms = Date.now() - started;
    // The ledger, read-only, after the CLI released it.
    const ledger = await openLedger({ dataDir: data, readOnly: true });
    let events: LedgerEvent[];
    try {
      const runs = ledger.runs();
      expect(runs).toHaveLength(1);
      events = readRunEvents(ledger, runs[0]!.id);
    } finally {
      await ledger.close();
    }
    trace(`${agent.name} keel run --approve ${approve} (${ms} ms, exit ${result.code}) data=${data}`, events);
    if (TRACE) console.log(JSON.stringify(model.requests.map((r) => ({ api: r.api, reply: r.reply, shape: shapeOf(r.body) }))));
    return { model, data, ws, result, events, ms };
  }

  it('--approve all: the command runs through Keel\'s approval, exit 0, the ledger holds the exchange and verifies', async () => {
    const { model, data, ws, result, events } = await keelRun('all');
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    expect(proofIn(ws)).toBe(PROOF);

    // --json printed the whole run, identical to what the ledger holds.
    const printed = result.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LedgerEvent);
    expect(printed).toEqual(events);

    const types = events.map((e) => e.type);
    expect(ofType(events, 'prompt.sent').map((e) => e.payload.text)).toEqual([PROMPT]);
    const [requested] = ofType(events, 'approval.requested');
    expect(ofType(events, 'approval.requested')).toHaveLength(1);
    expect(requested!.payload).toMatchObject({ generation: 1, turn: 1, source: 'agent', action: { kind: 'exec', command: agent.actionCommand, cwd: ws } });
    if (agent.name === 'codex') {
      // Unwrapped from the shell line Codex runs, which stays visible in the detail.
      expect(requested!.payload.action.detail).toBe(`as run: /bin/bash -lc '${COMMAND}'`);
      expect(ofType(events, 'tool.started').map((e) => e.payload.title)).toEqual([COMMAND]);
    } else {
      // Claude Code's Bash call, with the input the model gave it.
      expect(requested!.payload.action).toMatchObject({ title: COMMAND, source: 'acp:execute' });
    }
    expect(ofType(events, 'approval.decided').map((e) => e.payload)).toEqual([
      { approvalId: requested!.payload.approvalId, decision: 'allow_once', by: 'auto', note: 'non-interactive run (--approve all)' },
    ]);
    // The tool call is recorded, and completed after the decision.
    const decidedAt = types.indexOf('approval.decided');
    const tool = ofType(events, 'tool.started');
    expect(tool.length).toBeGreaterThanOrEqual(1);
    const completed = ofType(events, 'tool.updated').filter((e) => e.payload.status === 'completed');
    expect(completed.length).toBeGreaterThanOrEqual(1);
    expect(completed.every((e) => e.seq > events[decidedAt]!.seq)).toBe(true);
    // The model's final text arrived as message chunks of turn 1.
    expect(texts(events, 1)).toBe(FINAL);
    expect(ofType(events, 'turn.ended').map((e) => e.payload)).toEqual([{ turn: 1, stopReason: 'end_turn' }]);
    expect(ofType(events, 'session.bound').map((e) => e.payload.outcome)).toEqual(['new']);
    // Order: prompt -> approval requested -> decided -> tool completed -> final text -> turn ended.
    const firstSeq = (type: string) => events.find((e) => e.type === type)!.seq;
    expect(firstSeq('prompt.sent')).toBeLessThan(firstSeq('approval.requested'));
    expect(firstSeq('approval.requested')).toBeLessThan(firstSeq('approval.decided'));
    expect(firstSeq('approval.decided')).toBeLessThan(firstSeq('message.chunk'));
    expect(firstSeq('message.chunk')).toBeLessThan(firstSeq('turn.ended'));
    // The agent ran once and was stopped on purpose (its exit is recorded as expected).
    expect(ofType(events, 'runtime.exited').map((e) => e.payload.expected)).toEqual([true]);

    // The model saw one tool call and got its result back.
    expect(model.toolResults()).toHaveLength(1);

    const verify = await runKeelCli(keelBin, ['ledger', 'verify', '--data', data], { cwd: ws, env: { PATH: process.env.PATH } });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // The replay fold agrees: the run's stop reason, nothing left waiting.
    const replay = await runKeelCli(keelBin, ['replay', '--data', data, '--run', events[0]!.run_id, '--json'], { cwd: ws, env: { PATH: process.env.PATH } });
    expect(replay.code, replay.stderr).toBe(0);
    const view = JSON.parse(replay.stdout) as { stopReason: string; pendingApprovals: unknown[]; lastSeq: number };
    expect(view).toMatchObject({ stopReason: 'end_turn', pendingApprovals: [], lastSeq: events.at(-1)!.seq });
    // Usage as the real agent reports it (issue 15 point 25): the scripted model answers each of
    // its two calls with 100 input and 20 output tokens; only Claude Code reports a cost (its own).
    const { usage } = view as unknown as { usage: RunUsage };
    expect(usage.tokens).toMatchObject({ input: 200, output: 40, total: 240 });
    expect(usage.context).toMatchObject({ used: 120 });
    expect(usage.context!.size).toBeGreaterThan(0);
    expect(usage.toolCalls).toBe(new Set(tool.map((e) => e.payload.toolCallId)).size);
    const turnSpan = Date.parse(ofType(events, 'turn.ended')[0]!.ts) - Date.parse(ofType(events, 'prompt.sent')[0]!.ts);
    expect(usage.durationMs).toBe(turnSpan);
    if (agent.name === 'codex') expect(usage.cost).toEqual([]);
    else {
      expect(usage.cost).toEqual([{ amount: expect.any(Number), currency: 'USD' }]);
      expect(usage.cost[0]!.amount).toBeGreaterThan(0);
    }
    expectNoLeaks(result.agentPids);
  }, 90_000);

  it('--approve none: Keel denies the command, nothing is written, the run still ends', async () => {
    const { model, data, ws, result, events } = await keelRun('none');
    expect(proofIn(ws)).toBeNull();
    // Nobody can answer: the policy's ask for the command becomes its unattended_ask (deny), with no approval card.
    const denied = ofType(events, 'policy.decided').filter((e) => !e.payload.observed && e.payload.decision === 'deny');
    // The command's strictest part decides (its redirection is a write, asked by default).
    expect(denied.map((e) => e.payload.unattended)).toEqual([true]);
    expect(denied[0]!.payload.action.parts?.map((part) => [part.kind, part.summary])).toEqual(
      expect.arrayContaining([['exec', 'echo keel-through'], ['write', expect.stringContaining('proof.txt')]]),
    );
    expect(ofType(events, 'approval.requested')).toEqual([]);
    // Both agents hand the refusal to the model and let it finish the turn normally.
    expect(ofType(events, 'tool.updated').some((e) => e.payload.status === 'failed')).toBe(true);
    expect(model.requests.filter((r) => r.api === 'responses' || (r.api === 'messages' && r.reply !== 'side')).map((r) => r.reply)).toEqual(['tool_call', 'denied']);
    expect(texts(events, 1)).toBe(DENIED);
    expect(ofType(events, 'turn.ended').map((e) => e.payload)).toEqual([{ turn: 1, stopReason: 'end_turn' }]);
    expect(result.code).toBe(0);
    const verify = await runKeelCli(keelBin, ['ledger', 'verify', '--data', data], { cwd: ws, env: { PATH: process.env.PATH } });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expectNoLeaks(result.agentPids);
  }, 90_000);
});

// ---------------------------------------------------------------------------------------
// Part 2: through the library, interactive approvals. The agent is killed while its approval
// waits for a person; the user decides the orphaned request afterwards; the restarted agent
// asks again for the same command and Keel answers it by carry-over.

/** Where Claude Code keeps a session transcript: $HOME/.claude/projects/<cwd, non-alnum -> '-'>/<id>.jsonl */
const claudeTranscript = (home: string, ws: string, sessionId: string) =>
  path.join(home, '.claude', 'projects', ws.replace(/[^a-zA-Z0-9]/g, '-'), `${sessionId}.jsonl`);

/** Tool-call rounds the model answered (side requests and Claude's warm-up left out). */
const modelRounds = (model: ScriptedModelServer) => model.requests.filter((r) => r.api === 'responses' || (r.api === 'messages' && r.reply !== 'side'));

for (const agent of AGENTS) {
  describe.skipIf(!agent.available)(`Keel kills the real ${agent.name} while an approval is pending`, () => {
    it('resets the approval, restarts and re-binds the session, then carries the late user decision over to the re-asked command', async () => {
      const started = Date.now();
      const model = await scripted();
      const ws = fs.realpathSync(tempDir(`keel-ka-ws-${agent.name}-`));
      const env = agent.env(model);
      const spec: AgentSpec = { kind: agent.kind, command: agent.command };
      const h = await createRun({ agent: spec, workspace: ws, approvalMode: 'interactive', tuning: { env, hangTimeoutMs: 60_000 } });
      harnesses.push(h);
      const { controller } = h;
      const { pids, stop: stopTracking } = trackRunAgents(h);
      try {
        // --- turn 1: the model asks for the command; nobody answers.
        await controller.start();
        const { turn } = await controller.prompt(PROMPT);
        const orphan = await h.waitForType('approval.requested');
        const orphanId = orphan.payload.approvalId;
        expect(orphan.payload).toMatchObject({ generation: 1, turn, source: 'agent', action: { kind: 'exec', command: agent.actionCommand, cwd: ws } });
        await h.waitFor((e) => e.type === 'run.state' && (e.payload as { state: string }).state === 'awaiting_approval', { label: 'awaiting_approval' });
        expect(modelRounds(model).map((r) => r.reply)).toEqual(['tool_call']);
        const firstCall = modelRounds(model)[0]!.callId!;
        const bound1 = h.of('session.bound')[0]!;
        expect(bound1.payload).toMatchObject({ generation: 1, outcome: 'new', remapped: false });
        if (agent.name === 'claude') {
          // Claude Code writes its transcript 0-50 ms after asking; killed before that, its
          // session is gone and Keel would (correctly) remap to a fresh one. Wait for it.
          const transcript = claudeTranscript(env.HOME!, ws, bound1.payload.sessionId!);
          await waitUntil(() => fs.existsSync(transcript) && fs.readFileSync(transcript, 'utf8').includes('"tool_use"'), 10_000, 'the Claude transcript flush', fileChanges(transcript));
        }
        expect(proofIn(ws)).toBeNull();

        // --- kill -9 the agent's process group.
        const killedPid = controller.agentPid!;
        expect(killedPid).toBe(pids[0]);
        const killedAt = Date.now();
        controller.killAgent();
        expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
        await h.waitFor((e) => e.type === 'run.state' && (e.payload as { state: string }).state === 'idle' && e.seq > h.of('turn.ended')[0]!.seq, { label: 'idle after restart' });
        const recoveredMs = Date.now() - killedAt;
        expect(groupMembers(killedPid)).toEqual([]);
        expect(proofIn(ws)).toBeNull();

        const events1 = h.events();
        trace(`${agent.name} kill during approval (recovered in ${recoveredMs} ms)`, events1);
        const exited = ofType(events1, 'runtime.exited');
        expect(exited.map((e) => e.payload)).toEqual([expect.objectContaining({ generation: 1, signal: 'SIGKILL', expected: false })]);
        const reset = ofType(events1, 'approval.reset');
        expect(reset.map((e) => e.payload)).toEqual([expect.objectContaining({ generation: 1, approvalIds: [orphanId] })]);
        expect(ofType(events1, 'runtime.restarting').map((e) => e.payload)).toEqual([expect.objectContaining({ nextGeneration: 2, attempt: 1, reason: 'agent_restarted' })]);
        const started2 = ofType(events1, 'runtime.started').filter((e) => e.payload.generation === 2);
        expect(started2).toHaveLength(1);
        const bound = ofType(events1, 'session.bound').filter((e) => e.payload.generation === 2);
        expect(bound).toHaveLength(1);
        // Both agents restore the killed session, with its history: Codex thread/resume, Claude session/load.
        expect(bound[0]!.payload).toMatchObject({ outcome: 'replayed', remapped: false, sessionId: bound1.payload.sessionId });
        // The record names the protocol's own method.
        expect(bound[0]!.payload.method).toBe(agent.name === 'codex' ? 'thread/resume' : 'session/load');
        expect(ofType(events1, 'turn.ended').map((e) => e.payload)).toEqual([{ turn, stopReason: 'agent_restarted' }]);
        // Order: exited -> reset -> restarting -> started(2) -> bound(2) -> turn ended.
        const seqs = [exited[0]!, reset[0]!, ofType(events1, 'runtime.restarting')[0]!, started2[0]!, bound[0]!, ofType(events1, 'turn.ended')[0]!].map((e) => e.seq);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
        // Nothing from the dead generation after its exit (I6), and the orphan was never decided.
        expect(events1.filter((e) => e.seq > exited[0]!.seq && e.generation === 1)).toEqual([]);
        expect(ofType(events1, 'approval.decided')).toEqual([]);
        // Restarting asked the model nothing.
        expect(modelRounds(model)).toHaveLength(1);

        // --- the user decides the orphaned request late: recorded, applied to nobody yet.
        await controller.decide(orphanId, 'allow_once');
        const late = h.of('approval.decided');
        expect(late.map((e) => e.payload)).toEqual([expect.objectContaining({ approvalId: orphanId, decision: 'allow_once', by: 'user' })]);

        // --- turn 2: the agent asks for the same command again; Keel answers by carry-over.
        const before = h.events().at(-1)!.seq;
        const { turn: turn2 } = await controller.prompt('Continue.');
        const again = await h.waitForType('approval.requested', undefined, { after: before });
        expect(again.payload).toMatchObject({ generation: 2, turn: turn2, action: { kind: 'exec', command: agent.actionCommand, cwd: ws }, actionKey: orphan.payload.actionKey });
        // Carry-over is written right after the request; a wait for a person would fail here.
        const carried = await h.waitForType('approval.decided', (e) => e.payload.approvalId === again.payload.approvalId, { after: again.seq, guardMs: 5_000 });
        expect(carried.payload).toMatchObject({ decision: 'allow_once', by: 'carryover', ref: orphanId });
        expect(await controller.waitForTurn(turn2)).toBe('end_turn');
        expect(proofIn(ws)).toBe(PROOF);

        const events2 = h.events().filter((e) => e.seq > before);
        trace(`${agent.name} turn 2 after the late decision`, events2);
        expect(events2.filter((e) => e.type === 'run.state').map((e) => (e.payload as { state: string }).state)).not.toContain('awaiting_approval');
        expect(ofType(events2, 'approval.requested')).toHaveLength(1);
        expect(ofType(events2, 'tool.updated').some((e) => e.payload.status === 'completed')).toBe(true);
        expect(texts(events2, turn2)).toBe(FINAL);
        expect(ofType(events2, 'turn.ended').map((e) => e.payload)).toEqual([{ turn: turn2, stopReason: 'end_turn' }]);
        expect(events2.every((e) => e.generation === undefined || e.generation === 2)).toBe(true);

        // The model: one call before the kill, the same call asked again, then the final text.
        const rounds = modelRounds(model);
        expect(rounds.map((r) => r.reply)).toEqual(['tool_call', 'tool_call', 'final']);
        const reask = rounds[1]!;
        const history = JSON.stringify(reask.body);
        if (agent.name === 'codex') {
          // Codex closed the killed call with "aborted" in the history it re-sent.
          expect(reask.body.input).toContainEqual(expect.objectContaining({ type: 'function_call_output', call_id: firstCall, output: 'aborted' }));
        } else {
          // Claude Code dropped the dangling tool_use and told the model to carry on.
          expect(history).not.toContain(firstCall);
          expect(history).toContain('Continue from where you left off.');
        }
        expect(model.toolResults().map((t) => t.callId)).toContain(rounds[1]!.callId);
      } finally {
        stopTracking();
      }

      // Stop Keel; the ledger verifies and no agent process is left behind.
      await h.close();
      expectNoLeaks(pids);
      const verify = await runKeelCli(keelBin, ['ledger', 'verify', '--data', h.dataDir], { cwd: ws, env: { PATH: process.env.PATH } });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      if (TRACE) console.log(`[keel-agents] ${agent.name} kill test took ${Date.now() - started} ms`);
    }, 120_000);
  });
}
