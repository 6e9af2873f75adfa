// Issue 9 with the REAL agents (Codex app-server, Claude Code via claude-agent-acp), offline,
// driven by a RunManager in this process:
//  a. kill -9 of the agent (controller.killAgent) while a shell command it started is running —
//     the command waits on a file the test creates later and also starts a detached (`setsid`)
//     child that does the same: after the restart no process of generation 1 is alive (its
//     KEEL_GENERATION_TAG is found nowhere in /proc, and neither marker appears once the test
//     lets them go), the leftovers are recorded as `runtime.swept`, the command's tool call ended
//     `interrupted` (the exit first, then runtime.swept and tool.interrupted, all before the
//     restart), and the fold has no tool call left pending or in progress.
//     Codex runs commands in its sandbox (bwrap, a PID namespace that dies with Codex), Claude
//     Code in a session of their own (setsid): the test records which case it saw and asks the
//     sweep for every long-lived process that was out of the agent's group and namespace.
//  b. remap: after a finished first turn, the agent's session store is wiped and the agent
//     killed — mid-turn (the second turn's model round held) or between turns: generation 2
//     cannot restore the session, Keel remaps once to a fresh one (session.bound fresh,
//     remapped), records a session.handoff built from the ledger (turn 1's prompt, tool call,
//     end and last message) and sends it first with the open turn (once) or with the next
//     prompt. The scripted model only acts on a request that carries the handoff ("your previous
//     session of this task was lost"); it does, and the task finishes (proof file, end_turn).
// The ledger verifies after each. Skipped (reason printed) when the agents are not installed:
// `node scripts/agents/install.mjs`. KEEL_TRACE_EVENTS=1 prints each run's events.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentPaths } from '../../../../scripts/agents/paths.mjs';
import type { AgentSpec, LedgerEvent } from '../../src/contract/schemas/ledger.js';
import { openLedger } from '../../src/ledger/index.js';
import { fold } from '../../src/replay/index.js';
import { createRun, ofType, removeTempDirs, tempDir, type RunHarness } from '../fixtures/runtime-kit.js';
import { claudeEnv, cleanUpAgentTest, codexEnv, fileChanges, groupMembers, taggedProcesses, trackRunAgents, waitUntil, type Subscribe } from './harness.js';
import { startScriptedModelServer, type Hold, type ScriptedModelServer } from './scripted-model-server.js';

const paths = agentPaths();
const missing = (what: string) => `${what} is not installed in ${paths.cache}: run \`node scripts/agents/install.mjs\` (or \`npm run test:agents\`)`;
if (!paths.codex) console.warn(`[real-agent-recovery] skipping Codex: ${missing('@openai/codex@0.169.0')}`);
if (!paths.claudeAcp) console.warn(`[real-agent-recovery] skipping Claude Code: ${missing('@agentclientprotocol/claude-agent-acp@0.49.0')}`);

const TRACE = process.env.KEEL_TRACE_EVENTS === '1';
const FIRST_PROMPT = 'Write the first file.';
const FIRST_COMMAND = 'echo one > first.txt';
const PROMPT = 'Write the proof file.';
const PROOF_COMMAND = 'echo keel-recovered > proof.txt';
const PROOF = 'keel-recovered\n';
const FINAL = 'Done: proof.txt holds the proof.';
/** The first words of Keel's handoff to a fresh session (runs/handoff.ts). */
const HANDOFF_MARK = 'your previous session of this task was lost';
const UNAWARE = 'I have no idea which task you mean.';

/**
 * The command the agent is killed in the middle of. It starts a detached child (its own session,
 * out of the agent's process group: what Claude Code's Bash tool does to every command) and both
 * wait for `release`, a file only the test creates, before writing their marker. `started.txt`
 * says both are running. Polling every 50 ms: a survivor writes its marker right after `release`.
 */
const WAIT_FOR_RELEASE = 'while [ ! -e release ]; do sleep 0.05; done';
/** The detached child's script: `sh -c` runs it in a new session (setsid). */
const DETACHED_SCRIPT = `echo up > detached-started.txt; ${WAIT_FOR_RELEASE}; echo late > detached-marker.txt`;
const LONG_COMMAND = [
  `setsid sh -c '${DETACHED_SCRIPT}' </dev/null >/dev/null 2>&1 &`,
  'echo started > started.txt;',
  `${WAIT_FOR_RELEASE}; echo late > marker.txt`,
].join(' ');
/** Generation 2's command after `release` exists: a second's wait, then the proof. A survivor of generation 1 would have written its marker long before. */
const LATER_COMMAND = `sleep 1; ${PROOF_COMMAND}`;

// ---------------------------------------------------------------------------------------

interface AgentUnderTest {
  name: 'codex' | 'claude';
  available: boolean;
  spec: AgentSpec;
  /** The agent's environment, and the dir that holds its session store. */
  env(model: ScriptedModelServer): { env: NodeJS.ProcessEnv; home: string };
  /** The session store files of `sessionId` in `home` (they exist once the agent flushed the prompt). */
  sessionFiles(home: string, ws: string, sessionId: string): string[];
}

/** Every file under `dir`, recursively (none when it does not exist). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** Changes anywhere under `dir` (the session stores' paths hold dates and ids: watch the whole home). */
const treeChanges =
  (dir: string): Subscribe =>
  (onChange) => {
    const watcher = fs.watch(dir, { recursive: true }, () => onChange());
    return () => watcher.close();
  };

const AGENTS: AgentUnderTest[] = [
  {
    name: 'codex',
    available: paths.codex !== null,
    spec: { kind: 'codex', command: [paths.codex ?? 'codex', 'app-server'] },
    env: (model) => {
      const home = tempDir('keel-rar-codex-home-');
      return { env: codexEnv(home, model.url), home };
    },
    // Codex keeps a thread as a rollout: $CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<threadId>.jsonl.
    sessionFiles: (home, _ws, threadId) => filesUnder(path.join(home, 'sessions')).filter((file) => file.endsWith(`${threadId}.jsonl`)),
  },
  {
    name: 'claude',
    available: paths.claudeAcp !== null,
    spec: { kind: 'acp', command: [paths.claudeAcp ?? 'claude-agent-acp'] },
    env: (model) => {
      const home = tempDir('keel-rar-claude-home-');
      return { env: { ...claudeEnv(home, model.url), CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }, home };
    },
    // Claude Code keeps a session as $HOME/.claude/projects/<cwd, non-alnum -> '-'>/<id>.jsonl.
    sessionFiles: (home, ws, sessionId) => {
      const file = path.join(home, '.claude', 'projects', ws.replace(/[^a-zA-Z0-9]/g, '-'), `${sessionId}.jsonl`);
      return fs.existsSync(file) ? [file] : [];
    },
  },
];

const servers: ScriptedModelServer[] = [];
const holds: Hold[] = [];
const harnesses: RunHarness[] = [];
/** Generation tags seen by the tests: after each, none may be left in /proc. */
const tags: string[] = [];

afterEach(async () => {
  await cleanUpAgentTest({ harnesses, servers, holds });
  // A failed test must not leave a generation's command polling a temp dir behind.
  for (const tag of tags.splice(0)) {
    for (const { pid } of taggedProcesses(tag)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  }
});
afterAll(() => {
  if (process.env.KEEL_KEEP_TEMP !== '1') removeTempDirs();
});

async function scripted(command: string): Promise<ScriptedModelServer> {
  const s = await startScriptedModelServer({ command, finalText: FINAL, description: 'Run the command' });
  servers.push(s);
  return s;
}

const exists = (ws: string, name: string) => fs.existsSync(path.join(ws, name));

/** Main model rounds (Claude's side requests left out). */
const modelRounds = (model: ScriptedModelServer) => model.requests.filter((r) => r.api === 'responses' || (r.api === 'messages' && r.reply !== 'side'));

/** Tool items of the replay fold that are still open: none may be left after a generation died. */
const openTools = (events: readonly LedgerEvent[]) =>
  fold(events)
    .items.filter((item) => item.kind === 'tool' && (item.status === 'pending' || item.status === 'in_progress'))
    .map((item) => (item.kind === 'tool' ? `${item.toolCallId} ${item.status} ${item.title}` : ''));

/** Where a live process sits: its process group, session and PID namespace (Linux /proc). */
function placeOf(pid: number): { ppid: number; pgid: number; sid: number; pidns: string } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), pgid: Number(fields[2]), sid: Number(fields[3]), pidns: fs.readlinkSync(`/proc/${pid}/ns/pid`) };
  } catch {
    return null;
  }
}

const describeProcess = ({ pid, command }: { pid: number; command: string[] }) => `${pid} ${JSON.stringify(placeOf(pid))} ${command.join(' ').slice(0, 160)}`;

function sequence(events: readonly LedgerEvent[]): string {
  const t0 = Date.parse(events[0]?.ts ?? '') || 0;
  return events
    .filter((e) => !e.type.endsWith('.chunk'))
    .map((e) => `${e.seq} +${Date.parse(e.ts) - t0}ms ${e.type}${e.generation === undefined ? '' : `[g${e.generation}]`} ${JSON.stringify(e.payload).slice(0, 200)}`)
    .join('\n  ');
}

/** `ledger.verify()` on the closed run's data dir, reopened read-only: both stores agree. */
async function expectLedgerVerifies(h: RunHarness): Promise<void> {
  const ledger = await openLedger({ dataDir: h.dataDir, readOnly: true });
  try {
    const report = ledger.verify(h.runId);
    expect(report.ok, JSON.stringify(report)).toBe(true);
  } finally {
    await ledger.close();
  }
}

/** A run of `agent` in a RunManager, approvals answered by the policy (`all`), every agent group and tag tracked. */
async function startRun(agent: AgentUnderTest, model: ScriptedModelServer) {
  const ws = fs.realpathSync(tempDir(`keel-rar-ws-${agent.name}-`));
  const { env, home } = agent.env(model);
  const h = await createRun({ agent: agent.spec, workspace: ws, approvalMode: 'all', tuning: { env, hangTimeoutMs: 60_000 } });
  harnesses.push(h);
  const { pids, tagOf, stop: stopTracking } = trackRunAgents(h, (tag) => tags.push(tag));
  return { h, ws, env, home, pids, tagOf, stopTracking };
}

type Run = Awaited<ReturnType<typeof startRun>>;

/**
 * One test: the scripted model (asking for `command`) and a run of `agent`, driven by `body`.
 * Then the run is closed: no process of any generation is left and the ledger verifies.
 */
async function withRun(agent: AgentUnderTest, command: string, what: string, body: (run: Run, model: ScriptedModelServer) => Promise<void>): Promise<void> {
  const started = Date.now();
  const model = await scripted(command);
  const run = await startRun(agent, model);
  try {
    await body(run, model);
  } finally {
    run.stopTracking();
  }

  await run.h.close();
  for (const pid of run.pids) expect(groupMembers(pid), `agent group ${pid}`).toEqual([]);
  for (const tag of run.tagOf.values()) expect(taggedProcesses(tag), `tag ${tag}`).toEqual([]);
  await expectLedgerVerifies(run.h);
  if (TRACE) console.log(`[real-agent-recovery] ${agent.name} ${what} took ${Date.now() - started} ms`);
}

// ---------------------------------------------------------------------------------------

for (const agent of AGENTS) {
  describe.skipIf(!agent.available)(`the real ${agent.name}, killed (kill -9) in the middle of a running command`, () => {
    it('no process of the dead generation survives (swept, markers never written), its tool call ends interrupted, none left open; the next turn works', async () => {
      await withRun(agent, LONG_COMMAND, 'kill mid-command', async ({ h, ws, home, pids, tagOf }, model) => {
        const { controller } = h;
        await controller.start();
        const bound1 = await h.waitForType('session.bound', (e) => e.payload.generation === 1, { guardMs: 30_000 });
        const { turn } = await controller.prompt(PROMPT);

        // Mid-command: the tool call is recorded, the command and its detached child are running.
        const toolStarted = await h.waitForType('tool.started', undefined, { guardMs: 30_000 });
        for (const name of ['started.txt', 'detached-started.txt']) {
          const file = path.join(ws, name);
          await waitUntil(() => fs.existsSync(file), 30_000, `${name} (the command runs)`, fileChanges(file));
        }
        const tag1 = tagOf.get(1);
        expect(tag1, 'runtime.started of generation 1 carries the tag').toBeTruthy();
        // The tag reached the command: the detached child (in a session of its own) and the
        // command's own shell, still waiting for `release`, carry it.
        const running = taggedProcesses(tag1!);
        const isDetached = (command: string[]) => command.length === 3 && command[0] === 'sh' && command[1] === '-c' && command[2] === DETACHED_SCRIPT;
        // A shell forks before it execs `sleep`: for that instant the child still shows its
        // parent's command line. Such a fork (or one already gone) is not a second detached command.
        const detachedAll = running.filter((p) => isDetached(p.command));
        const detachedPids = new Set(detachedAll.map((p) => p.pid));
        const detached = detachedAll.filter((p) => {
          const place = placeOf(p.pid);
          return place !== null && !detachedPids.has(place.ppid);
        });
        const foreground = running.filter((p) => !isDetached(p.command) && /(^|\/)(ba)?sh$/.test(p.command[0] ?? '') && p.command.join(' ').includes('echo late > marker.txt'));
        if (TRACE) console.log(`[real-agent-recovery] ${agent.name}: generation 1's tagged processes before the kill\n  ${running.map(describeProcess).join('\n  ')}`);
        expect(detached, JSON.stringify(running)).toHaveLength(1);
        expect(foreground.length, JSON.stringify(running)).toBeGreaterThanOrEqual(1);
        // Where each sat before the kill (they are gone after it).
        const placesBefore = new Map(running.map((p) => [p.pid, placeOf(p.pid)]));
        const detachedPlace = placesBefore.get(detached[0]!.pid);
        expect(detachedPlace!.pgid).not.toBe(controller.agentPid);
        const ownPidNs = fs.readlinkSync('/proc/self/ns/pid');
        if (agent.name === 'claude') {
          // Generation 2 restores the session (a remap is not the subject here): Claude Code
          // writes its transcript a few ms after starting the call; wait for that flush.
          const holdsCall = () => agent.sessionFiles(home, ws, bound1.payload.sessionId!).some((f) => fs.readFileSync(f, 'utf8').includes('"tool_use"'));
          await waitUntil(holdsCall, 10_000, 'the Claude transcript flush', treeChanges(home));
        }
        expect(exists(ws, 'marker.txt') || exists(ws, 'detached-marker.txt')).toBe(false);

        // --- kill -9 the agent's process group.
        const killedPid = controller.agentPid!;
        expect(killedPid).toBe(pids[0]);
        const killedAt = Date.now();
        controller.killAgent();
        const ended = await h.waitForType('turn.ended', (e) => e.payload.turn === turn, { guardMs: 45_000 });
        await h.waitForType('run.state', (e) => e.payload.state === 'idle', { after: ended.seq, guardMs: 30_000 });
        const recoveredMs = Date.now() - killedAt;

        // Nothing of generation 1 is alive: its group is empty and its tag is found nowhere.
        expect(groupMembers(killedPid)).toEqual([]);
        expect(taggedProcesses(tag1!)).toEqual([]);

        const events = h.events();
        if (TRACE) console.log(`[real-agent-recovery] ${agent.name} kill mid-command (recovered in ${recoveredMs} ms)\n  ${sequence(events)}`);
        const exited1 = ofType(events, 'runtime.exited').find((e) => e.payload.generation === 1)!;
        expect(exited1.payload).toMatchObject({ generation: 1, expected: false });
        // The detached child had left the agent's process group, so killing the group missed it.
        // Unless it lived in a PID namespace of the agent's sandbox (Codex runs commands under
        // bwrap --unshare-pid --die-with-parent: the kernel ends the namespace with the agent),
        // only the sweep could find it, by its tag: then it is recorded, after the exit and
        // before the restart.
        const restarting = ofType(events, 'runtime.restarting')[0]!;
        const swept = ofType(events, 'runtime.swept').filter((e) => e.payload.generation === 1);
        expect(swept.length).toBeLessThanOrEqual(1);
        for (const e of swept) {
          expect(e.seq).toBeGreaterThan(exited1.seq);
          expect(e.seq).toBeLessThan(restarting.seq);
        }
        const sweptPids = swept.flatMap((e) => e.payload.processes.map((p) => p.pid));
        // The command's long-lived processes (the detached child, the command's shell) that were
        // out of the agent's group and not in a sandbox's PID namespace: each one swept.
        const escaped = [...detached, ...foreground].filter((p) => {
          const place = placesBefore.get(p.pid);
          return place && place.pgid !== killedPid && place.pidns === ownPidNs;
        });
        if (escaped.length > 0) expect(swept, sequence(events)).toHaveLength(1);
        for (const p of escaped) {
          expect(sweptPids, `swept: ${JSON.stringify(swept.map((e) => e.payload))}`).toContain(p.pid);
          expect(swept[0]!.payload.processes.find((q) => q.pid === p.pid)!.command).toEqual(p.command);
        }
        // Which case each agent is in (so a change of the agents' behaviour shows here).
        expect(detachedPlace!.pidns === ownPidNs ? 'swept' : 'sandbox').toBe(agent.name === 'codex' ? 'sandbox' : 'swept');
        // The command's tool call ended: interrupted, with the generation and how it died, recorded
        // after the exit (and the sweep) and before the restart.
        const interrupted = ofType(events, 'tool.interrupted');
        expect(interrupted.map((e) => e.payload.generation)).toEqual([1]);
        expect(interrupted[0]!.payload.toolCallIds).toContain(toolStarted.payload.toolCallId);
        expect(interrupted[0]!.payload.reason).toMatch(/SIGKILL/);
        expect(interrupted[0]!.seq).toBeGreaterThan(Math.max(exited1.seq, ...swept.map((e) => e.seq)));
        expect(interrupted[0]!.seq).toBeLessThan(restarting.seq);
        // The fold (what the UI, the CLI and `keel replay` show): no tool call left open; ours interrupted.
        expect(openTools(events)).toEqual([]);
        const item = fold(events).items.find((i) => i.kind === 'tool' && i.toolCallId === toolStarted.payload.toolCallId);
        expect(item).toMatchObject({ kind: 'tool', status: 'interrupted', interruption: { generation: 1 } });
        // Recovery: restarted and re-bound; nothing from generation 1 after its exit (I6).
        expect(ofType(events, 'runtime.restarting').map((e) => e.payload.nextGeneration)).toEqual([2]);
        expect(ofType(events, 'session.bound').map((e) => e.payload.generation)).toEqual([1, 2]);
        expect(events.filter((e) => e.seq > exited1.seq && e.generation === 1)).toEqual([]);
        expect(ended.payload.stopReason).toBe('agent_restarted');
        expect(modelRounds(model)).toHaveLength(1);

        // --- let any survivor go: `release` now exists. Generation 2's turn then waits a second
        // (its command) and ends; a process of generation 1 still polling would have written its
        // marker by then.
        fs.writeFileSync(path.join(ws, 'release'), '');
        model.script.command = LATER_COMMAND;
        const mark = h.events().at(-1)!.seq;
        const next = await controller.prompt('Continue.');
        const nextEnded = await h.waitForType('turn.ended', (e) => e.payload.turn === next.turn, { after: mark, guardMs: 45_000 });
        expect(nextEnded.payload.stopReason).toBe('end_turn');
        expect(fs.readFileSync(path.join(ws, 'proof.txt'), 'utf8')).toBe(PROOF);
        expect(exists(ws, 'marker.txt'), 'the killed command wrote its marker').toBe(false);
        expect(exists(ws, 'detached-marker.txt'), 'the detached child of the killed command wrote its marker').toBe(false);
        const after = h.events().filter((e) => e.seq > mark);
        expect(after.every((e) => e.generation === undefined || e.generation === 2)).toBe(true);
        expect(ofType(after, 'tool.updated').some((e) => e.payload.status === 'completed')).toBe(true);
        expect(openTools(h.events())).toEqual([]);
      });
    }, 90_000);
  });

  describe.skipIf(!agent.available)(`the real ${agent.name} forgets the session between generations`, () => {
    /** Turn 1 runs to the end in generation 1: the handoff has a run to tell. */
    async function firstTurnDone(run: Awaited<ReturnType<typeof startRun>>, model: ScriptedModelServer) {
      const { h, ws } = run;
      await run.h.controller.start();
      const bound1 = await h.waitForType('session.bound', (e) => e.payload.generation === 1, { guardMs: 30_000 });
      expect(bound1.payload).toMatchObject({ outcome: 'new', remapped: false });
      const first = await h.controller.prompt(FIRST_PROMPT);
      const firstEnded = await h.waitForType('turn.ended', (e) => e.payload.turn === first.turn, { guardMs: 45_000 });
      expect(firstEnded.payload.stopReason).toBe('end_turn');
      expect(fs.readFileSync(path.join(ws, 'first.txt'), 'utf8')).toBe('one\n');
      expect(modelRounds(model).map((r) => r.reply)).toEqual(['tool_call', 'final']);
      return { sessionId: bound1.payload.sessionId!, firstTurn: first.turn };
    }

    /** Waits until the agent's store holds `text` for the session, then deletes the session's files. */
    async function wipeSession(agent: AgentUnderTest, run: Awaited<ReturnType<typeof startRun>>, sessionId: string, text: string): Promise<void> {
      const { home, ws } = run;
      const store = () => agent.sessionFiles(home, ws, sessionId);
      await waitUntil(() => store().some((file) => fs.readFileSync(file, 'utf8').includes(text)), 10_000, `${agent.name}'s session store holds ${JSON.stringify(text)}`, treeChanges(home));
      for (const file of store()) fs.rmSync(file);
      expect(store()).toEqual([]);
    }

    /** What the handoff says about turn 1 (prompt, tool call, end, last message). */
    function expectTurnOneTold(text: string, firstTurn: number): void {
      expect(text).toContain(HANDOFF_MARK);
      expect(text).toContain(`- The user asked (turn ${firstTurn}): ${FIRST_PROMPT}`);
      expect(text).toContain(`- Tool call "${FIRST_COMMAND}": completed`);
      expect(text).toContain(`- Turn ${firstTurn} ended: end_turn`);
      expect(text).toContain(`Your last message was:\n${FINAL}`);
    }

    /** Common end checks: bindings, one handoff, nothing of generation 1 after its exit, nothing left open, the fold's card. */
    function expectRemapped(events: LedgerEvent[], handoffSeq: number): void {
      expect(ofType(events, 'session.bound').map((e) => [e.payload.generation, e.payload.outcome, e.payload.remapped])).toEqual([
        [1, 'new', false],
        [2, 'fresh', true],
      ]);
      expect(ofType(events, 'session.handoff')).toHaveLength(1);
      const exited1 = ofType(events, 'runtime.exited').find((e) => e.payload.generation === 1)!;
      expect(exited1.payload.expected).toBe(false);
      expect(events.filter((e) => e.seq > exited1.seq && e.generation === 1)).toEqual([]);
      expect(ofType(events, 'tool.updated').some((e) => e.generation === 2 && e.payload.status === 'completed')).toBe(true);
      expect(openTools(events)).toEqual([]);
      // The fold shows the handoff as a recovery card, its text as the detail.
      expect(fold(events).items.find((item) => item.kind === 'recovery' && item.seq === handoffSeq)).toBeTruthy();
    }

    it('killed mid-turn: remaps once to a fresh session, records the handoff and re-sends the open turn with it; the original task finishes', async () => {
      await withRun(agent, FIRST_COMMAND, 'remap mid-turn', async (run, model) => {
        const { h, ws } = run;
        const { controller } = h;
        const { sessionId, firstTurn } = await firstTurnDone(run, model);

        // Turn 2's first round is held: the turn is in flight, the agent waits on the model.
        model.script.command = PROOF_COMMAND;
        const hold = model.hold((r) => (r.api === 'responses' || r.api === 'messages') && r.reply === 'tool_call');
        holds.push(hold);
        const { turn } = await controller.prompt(PROMPT);
        const held = await hold.arrived;
        expect(JSON.stringify(held.body)).toContain(PROMPT);

        // The agent's session store has the session with the new prompt; wipe it. Nothing is
        // written while the agent waits on the held round, so it stays gone.
        await wipeSession(agent, run, sessionId, PROMPT);
        // From now on the model acts only on a request that tells it what happened.
        model.script.mustSee = { text: HANDOFF_MARK, otherwise: UNAWARE };
        const roundsBefore = modelRounds(model).length;

        // --- kill -9 mid-turn.
        const killedPid = controller.agentPid!;
        const killedAt = Date.now();
        controller.killAgent();
        const bound2 = await h.waitForType('session.bound', (e) => e.payload.generation === 2, { guardMs: 45_000 });
        expect(bound2.payload).toMatchObject({ generation: 2, outcome: 'fresh', remapped: true });
        expect(bound2.payload.sessionId).not.toBe(sessionId);
        const handoff = await h.waitForType('session.handoff', undefined, { after: bound2.seq, guardMs: 5_000 });
        expect(handoff.payload).toMatchObject({ generation: 2, turn, truncated: false });
        expectTurnOneTold(handoff.payload.text, firstTurn);
        expect(handoff.payload.text).toContain(`The request in progress (turn ${turn}) follows this note.`);

        // The fresh session gets the open turn once, the handoff first, and finishes the original task.
        const ended = await h.waitForType('turn.ended', (e) => e.payload.turn === turn, { guardMs: 45_000 });
        const recoveredMs = Date.now() - killedAt;
        expect(ended.payload.stopReason).toBe('end_turn');
        expect(fs.readFileSync(path.join(ws, 'proof.txt'), 'utf8')).toBe(PROOF);
        expect(groupMembers(killedPid)).toEqual([]);

        const events = h.events();
        if (TRACE) console.log(`[real-agent-recovery] ${agent.name} remap mid-turn (finished ${recoveredMs} ms after the kill)\n  ${sequence(events)}`);
        // The model: after the kill, one request carrying the handoff and then the prompt (it asks for the tool), then the final round.
        const rounds = modelRounds(model).slice(roundsBefore);
        expect(rounds.map((r) => r.reply)).toEqual(['tool_call', 'final']);
        const resent = JSON.stringify(rounds[0]!.body);
        expect(resent).toContain(JSON.stringify(`${handoff.payload.text}\n\n---\n\n${PROMPT}`).slice(1, -1));
        // A fresh session: none of generation 1's conversation came with it, only the handoff's account of it.
        expect(resent.split(FIRST_PROMPT)).toHaveLength(2);
        // One prompt per turn: re-sent to the fresh session, never recorded as sent twice.
        expect(ofType(events, 'prompt.sent').map((e) => e.payload.turn)).toEqual([firstTurn, turn]);
        expect(ofType(events, 'turn.ended').map((e) => e.payload)).toEqual([
          { turn: firstTurn, stopReason: 'end_turn' },
          { turn, stopReason: 'end_turn' },
        ]);
        expect(ofType(events, 'note').some((e) => e.payload.text === `Turn ${turn} handed to the fresh session of generation 2, with the run so far.`)).toBe(true);
        expectRemapped(events, handoff.seq);
      });
    }, 90_000);

    it('killed between turns: the fresh session gets the handoff with the next prompt, which finishes', async () => {
      await withRun(agent, FIRST_COMMAND, 'remap between turns', async (run, model) => {
        const { h, ws } = run;
        const { controller } = h;
        const { sessionId, firstTurn } = await firstTurnDone(run, model);
        await h.waitForType('run.state', (e) => e.payload.state === 'idle', { after: h.of('turn.ended')[0]!.seq });
        // Idle: the store holds the whole first turn, down to the final message.
        await wipeSession(agent, run, sessionId, FINAL);
        model.script.command = PROOF_COMMAND;
        model.script.mustSee = { text: HANDOFF_MARK, otherwise: UNAWARE };

        // --- kill -9 while no turn is open.
        const killedPid = controller.agentPid!;
        controller.killAgent();
        const bound2 = await h.waitForType('session.bound', (e) => e.payload.generation === 2, { guardMs: 45_000 });
        expect(bound2.payload).toMatchObject({ generation: 2, outcome: 'fresh', remapped: true });
        const handoff = await h.waitForType('session.handoff', undefined, { after: bound2.seq, guardMs: 5_000 });
        // No turn was open: the handoff goes with the next one.
        expect(handoff.payload).toMatchObject({ generation: 2, turn: firstTurn + 1, truncated: false });
        expectTurnOneTold(handoff.payload.text, firstTurn);
        expect(handoff.payload.text).not.toContain('The request in progress');
        await h.waitForType('run.state', (e) => e.payload.state === 'idle', { after: handoff.seq });
        expect(groupMembers(killedPid)).toEqual([]);
        // The restart asked the model nothing.
        expect(modelRounds(model)).toHaveLength(2);

        const { turn } = await controller.prompt(PROMPT);
        expect(turn).toBe(firstTurn + 1);
        const ended = await h.waitForType('turn.ended', (e) => e.payload.turn === turn, { guardMs: 45_000 });
        expect(ended.payload.stopReason).toBe('end_turn');
        expect(fs.readFileSync(path.join(ws, 'proof.txt'), 'utf8')).toBe(PROOF);

        const events = h.events();
        if (TRACE) console.log(`[real-agent-recovery] ${agent.name} remap between turns\n  ${sequence(events)}`);
        const rounds = modelRounds(model).slice(2);
        expect(rounds.map((r) => r.reply)).toEqual(['tool_call', 'final']);
        expect(JSON.stringify(rounds[0]!.body)).toContain(JSON.stringify(`${handoff.payload.text}\n\n---\n\n${PROMPT}`).slice(1, -1));
        // The ledger records what the user typed; the handoff is its own event.
        expect(ofType(events, 'prompt.sent').map((e) => [e.payload.turn, e.payload.text])).toEqual([
          [firstTurn, FIRST_PROMPT],
          [turn, PROMPT],
        ]);
        expectRemapped(events, handoff.seq);
      });
    }, 90_000);
  });
}
