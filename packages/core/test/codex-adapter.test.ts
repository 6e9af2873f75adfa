// The Codex adapter against a scripted fake `codex app-server` (real process, real stdio,
// Keel's framing). The host is a recording stub: it records updates and answers approvals.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentRequestError,
  SessionNotFoundError,
  type AgentRequests,
  type AgentUpdate,
  type PermissionAnswer,
  type PermissionAsk,
} from '../src/runtime/adapter.js';
import { createCodexAdapter } from '../src/runtime/codex/index.js';
import { frameChannel } from '../src/runtime/framing.js';
import { tempDir } from './helpers.js';

const FAKE = fileURLToPath(new URL('./fixtures/fake-codex-app-server.mjs', import.meta.url));

type Answerer = (ask: PermissionAsk, signal: AbortSignal) => PermissionAnswer | Promise<PermissionAnswer>;

class RecordingHost implements AgentRequests {
  readonly updates: Array<{ update: AgentUpdate; replay: boolean }> = [];
  readonly asks: PermissionAsk[] = [];
  readonly aborted: PermissionAsk[] = [];
  readonly protocolErrors: Array<{ kind: string; detail: string }> = [];
  private readonly waiters = new Set<() => void>();

  constructor(private readonly answer: Answerer = () => 'allow_once') {}

  update(update: AgentUpdate, replay: boolean): void {
    this.updates.push({ update, replay });
    this.poke();
  }

  async askPermission(ask: PermissionAsk, signal: AbortSignal): Promise<PermissionAnswer> {
    this.asks.push(ask);
    signal.addEventListener('abort', () => {
      this.aborted.push(ask);
      this.poke();
    });
    this.poke();
    return this.answer(ask, signal);
  }

  readTextFile(): Promise<string> {
    throw new Error('Codex never asks Keel to read files');
  }
  writeTextFile(): Promise<void> {
    throw new Error('Codex never asks Keel to write files');
  }
  readonly terminals = {
    create: () => Promise.reject(new Error('not used by Codex')),
    output: () => Promise.reject(new Error('not used by Codex')),
    waitForExit: () => Promise.reject(new Error('not used by Codex')),
    kill: () => Promise.reject(new Error('not used by Codex')),
    release: () => Promise.reject(new Error('not used by Codex')),
  };

  protocolError(kind: string, detail: string): void {
    this.protocolErrors.push({ kind, detail });
    this.poke();
  }

  live(): AgentUpdate[] {
    return this.updates.filter((entry) => !entry.replay).map((entry) => entry.update);
  }

  /** Resolves once `predicate` holds, re-checked after every recorded event. */
  waitFor(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate()) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  private poke(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  await Promise.all(
    children.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
});

interface Fake {
  dir: string;
  scenarioPath: string;
  statePath: string;
}

function fake(scenario: object): Fake {
  const dir = tempDir('keel-codex-');
  const scenarioPath = path.join(dir, 'scenario.json');
  fs.writeFileSync(scenarioPath, JSON.stringify(scenario));
  return { dir, scenarioPath, statePath: path.join(dir, 'state.json') };
}

type Traffic = Array<{ direction: 'in' | 'out'; message: Record<string, unknown> }>;

/** One app-server process (one generation) and a fresh adapter over it. */
function launch(setup: Fake, host: RecordingHost) {
  const child = spawn(process.execPath, [FAKE, '--scenario', setup.scenarioPath, '--state', setup.statePath], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {}); // EPIPE after a kill
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  children.push(child);
  const traffic: Traffic = [];
  const channel = frameChannel(child.stdout, child.stdin, {
    onProtocolError: (kind, detail) => host.protocolError(kind, detail),
    onTraffic: (direction, line) => traffic.push({ direction, message: JSON.parse(line) as Record<string, unknown> }),
  });
  const adapter = createCodexAdapter(channel, host, { cwd: setup.dir });
  const sent = (method: string) => traffic.filter((entry) => entry.direction === 'out' && entry.message.method === method).map((entry) => entry.message);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, adapter, traffic, sent, exited };
}

interface FakeState {
  threads: Record<string, { settings: Record<string, unknown>; turns: Array<{ status: string; items: Array<Record<string, unknown>> }> }>;
  log: Array<Record<string, unknown>>;
}
const readState = (setup: Fake) => JSON.parse(fs.readFileSync(setup.statePath, 'utf8')) as FakeState;

async function started(setup: Fake, host: RecordingHost) {
  const session = launch(setup, host);
  await session.adapter.initialize();
  const { sessionId } = await session.adapter.newSession(setup.dir);
  return { ...session, sessionId };
}

describe('Codex adapter over the fake app-server', () => {
  it('streams a full turn: reasoning, plan, message deltas, an approved command with its output', async () => {
    const setup = fake({
      turns: [
        [
          { reasoning: ['Looking at the tests'] },
          { plan: [{ step: 'Run the tests', status: 'inProgress' }, { step: 'Fix them', status: 'pending' }] },
          { message: ['Running ', 'the tests.'] },
          { command: 'npm test', output: ['ok 1\n', 'ok 2\n'] },
          { message: 'All green.', stream: false },
        ],
      ],
    });
    const host = new RecordingHost();
    const { adapter, sent, traffic, sessionId } = await started(setup, host);

    expect(await adapter.prompt('run the tests', 'ik:turn-1')).toEqual({ stopReason: 'end_turn' });

    // Handshake and thread settings: Codex must ask Keel for everything.
    expect(sent('initialized')).toHaveLength(1);
    expect(traffic.every((entry) => entry.direction === 'in' || !('jsonrpc' in entry.message))).toBe(true);
    expect(sent('thread/start')[0]!.params).toMatchObject({ cwd: setup.dir, approvalPolicy: 'untrusted', approvalsReviewer: 'user', sandbox: 'workspace-write' });
    // The idempotency key travels as clientUserMessageId and Codex stores it.
    expect(sent('turn/start')[0]!.params).toMatchObject({ threadId: sessionId, clientUserMessageId: 'ik:turn-1', input: [{ type: 'text', text: 'run the tests' }] });
    expect(readState(setup).threads[sessionId]!.turns[0]!.items[0]).toMatchObject({ type: 'userMessage', clientId: 'ik:turn-1' });

    const updates = host.live();
    const toolCallId = (updates.find((update) => update.kind === 'tool_started') as { toolCallId: string }).toolCallId;
    expect(updates).toEqual([
      { kind: 'thought', text: 'Looking at the tests' },
      {
        kind: 'plan',
        entries: [
          { content: 'Run the tests', status: 'in_progress' },
          { content: 'Fix them', status: 'pending' },
        ],
      },
      { kind: 'message', text: 'Running ' },
      { kind: 'message', text: 'the tests.' },
      { kind: 'tool_started', toolCallId, title: 'npm test', toolKind: 'execute', input: { command: 'npm test', cwd: setup.dir } },
      { kind: 'tool_updated', toolCallId, output: 'ok 1\n' },
      { kind: 'tool_updated', toolCallId, output: 'ok 2\n' },
      { kind: 'tool_updated', toolCallId, status: 'completed' },
      { kind: 'message', text: 'All green.' },
    ]);
    expect(host.asks).toEqual([
      { action: { kind: 'exec', title: 'Run npm test', command: 'npm test', cwd: setup.dir, detail: "as run: /bin/bash -lc 'npm test'" }, reason: 'Run npm test', toolCallId },
    ]);
    expect(readState(setup).log.filter((entry) => entry.approval)).toMatchObject([{ approval: 'command', decision: 'accept' }]);
    expect(host.protocolErrors).toEqual([]);
  });

  it('a declined command answers decline; the tool fails and the turn goes on', async () => {
    const setup = fake({ turns: [[{ command: 'rm -rf build', onDecline: [{ message: 'OK, leaving it.' }] }]] });
    const host = new RecordingHost(() => 'deny');
    const { adapter } = await started(setup, host);

    expect(await adapter.prompt('clean up', 'ik:1')).toEqual({ stopReason: 'end_turn' });
    expect(readState(setup).log.filter((entry) => entry.approval)).toMatchObject([{ approval: 'command', decision: 'decline' }]);
    const updates = host.live();
    expect(updates).toContainEqual(expect.objectContaining({ kind: 'tool_updated', status: 'failed' }));
    expect(updates.at(-1)).toEqual({ kind: 'message', text: 'OK, leaving it.' });
    expect(updates.some((update) => update.kind === 'tool_updated' && update.output !== undefined)).toBe(false);
  });

  it('a file change asks with its paths after showing the diffs; allow_always answers acceptForSession', async () => {
    const setup = fake({
      turns: [
        [
          {
            fileChange: [
              { path: 'src/a.ts', kind: 'update', diff: '@@ -1,2 +1,2 @@\n keep\n-old\n+new\n' },
              { path: 'notes.md', kind: 'add', diff: 'hello\n' },
            ],
          },
          { message: 'done' },
        ],
      ],
    });
    const host = new RecordingHost(() => 'allow_always');
    const { adapter } = await started(setup, host);

    expect(await adapter.prompt('edit', 'ik:1')).toEqual({ stopReason: 'end_turn' });
    const a = path.join(setup.dir, 'src/a.ts');
    const notes = path.join(setup.dir, 'notes.md');
    expect(host.asks).toHaveLength(1);
    expect(host.asks[0]!.action).toMatchObject({ kind: 'write', paths: [a, notes], title: `Edit ${a}, ${notes}` });
    const diffs = host.live().filter((update) => update.kind === 'tool_updated' && update.diff);
    expect(diffs.map((update) => (update as { diff: unknown }).diff)).toEqual([
      { path: a, oldText: 'keep\nold\n', newText: 'keep\nnew\n' },
      { path: notes, oldText: null, newText: 'hello\n' },
    ]);
    expect(host.live()).toContainEqual({ kind: 'tool_updated', toolCallId: host.asks[0]!.toolCallId, status: 'completed' });
    expect(readState(setup).log.filter((entry) => entry.approval)).toMatchObject([{ approval: 'fileChange', decision: 'acceptForSession' }]);
  });

  it("a 'cancelled' answer sends cancel; Codex interrupts the turn and the prompt ends cancelled", async () => {
    const setup = fake({ turns: [[{ command: 'make deploy' }, { message: 'never' }]] });
    const host = new RecordingHost(() => 'cancelled');
    const { adapter } = await started(setup, host);

    expect(await adapter.prompt('deploy', 'ik:1')).toEqual({ stopReason: 'cancelled' });
    expect(readState(setup).log.filter((entry) => entry.approval)).toMatchObject([{ approval: 'command', decision: 'cancel' }]);
    expect(host.live()).not.toContainEqual({ kind: 'message', text: 'never' });
  });

  it('cancel() sends turn/interrupt for the running turn and the prompt resolves cancelled', async () => {
    const setup = fake({ turns: [[{ message: 'working' }, { waitForInterrupt: true }]] });
    const host = new RecordingHost();
    const { adapter, sent, traffic, sessionId } = await started(setup, host);

    const prompt = adapter.prompt('long job', 'ik:1');
    await host.waitFor(() => host.live().some((update) => update.kind === 'message'));
    await adapter.cancel();
    expect(await prompt).toEqual({ stopReason: 'cancelled' });

    const turnStartId = sent('turn/start')[0]!.id;
    const turnId = (traffic.find((entry) => entry.direction === 'in' && entry.message.id === turnStartId)!.message.result as { turn: { id: string } }).turn.id;
    expect(sent('turn/interrupt').map((message) => message.params)).toEqual([{ threadId: sessionId, turnId }]);
  });

  it('cancel() during a pending approval: Codex withdraws the request, the host signal aborts, nothing is answered', async () => {
    const setup = fake({ turns: [[{ command: 'sleep 100' }]] });
    const host = new RecordingHost((_ask, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve('cancelled'))));
    const { adapter, traffic } = await started(setup, host);

    const prompt = adapter.prompt('wait', 'ik:1');
    await host.waitFor(() => host.asks.length === 1);
    await adapter.cancel();
    expect(await prompt).toEqual({ stopReason: 'cancelled' });
    await host.waitFor(() => host.aborted.length === 1);
    const serverRequestId = traffic.find((entry) => entry.direction === 'in' && entry.message.method === 'item/commandExecution/requestApproval')!.message.id;
    expect(traffic.filter((entry) => entry.direction === 'out' && entry.message.id === serverRequestId && !entry.message.method)).toEqual([]);
  });

  it('after a kill mid-turn, thread/resume returns the persisted client message ids and replays the history', async () => {
    // dieAt: the fake SIGKILLs itself before step 1 of the second turn.
    const setup = fake({ turns: [[{ message: 'first answer' }], [{ message: 'partial' }, { message: 'never' }]], dieAt: { turn: 1, step: 1 } });
    const first = new RecordingHost();
    const a = await started(setup, first);
    expect(await a.adapter.prompt('one', 'ik:1')).toEqual({ stopReason: 'end_turn' });
    await expect(a.adapter.prompt('two', 'ik:2')).rejects.toThrow('agent process exited');
    await a.exited;
    expect(a.child.signalCode).toBe('SIGKILL');
    await expect(a.adapter.prompt('three', 'ik:3')).rejects.toThrow('agent process exited');

    // Next generation: loadSession replays, with the client ids Keel checks before any resend.
    const second = new RecordingHost();
    const b = launch(setup, second);
    await b.adapter.initialize();
    const history = await b.adapter.loadSession(a.sessionId, setup.dir);
    expect(history).toEqual({
      userMessages: [
        { text: 'one', clientId: 'ik:1' },
        { text: 'two', clientId: 'ik:2' },
      ],
      complete: true,
    });
    expect(second.updates.every((entry) => entry.replay)).toBe(true);
    expect(second.updates.map((entry) => entry.update)).toEqual([
      { kind: 'user_message', text: 'one', clientId: 'ik:1' },
      { kind: 'message', text: 'first answer' },
      { kind: 'user_message', text: 'two', clientId: 'ik:2' },
      { kind: 'message', text: 'partial' },
    ]);
    // The killed turn is stored as interrupted, as real Codex reports it.
    expect(readState(setup).threads[a.sessionId]!.turns.map((turn) => turn.status)).toEqual(['completed', 'interrupted']);
    // The thread is live again in this generation.
    expect(await b.adapter.prompt('three', 'ik:3')).toEqual({ stopReason: 'end_turn' });
    b.child.kill('SIGKILL');
    await b.exited;

    // resumeSession: same history, no replay, turns paged with thread/turns/list.
    const third = new RecordingHost();
    const c = launch(setup, third);
    await c.adapter.initialize();
    const resumed = await c.adapter.resumeSession(a.sessionId, setup.dir);
    expect(resumed.userMessages.map((message) => message.clientId)).toEqual(['ik:1', 'ik:2', 'ik:3']);
    expect(resumed.complete).toBe(true);
    expect(third.updates).toEqual([]);
    expect(c.sent('thread/resume')[0]!.params).toMatchObject({ threadId: a.sessionId, excludeTurns: true, approvalPolicy: 'untrusted' });
    expect(c.sent('thread/turns/list')).toHaveLength(1);
  });

  it('when thread/resume carries no turns: user messages come from thread/turns/list, nothing is replayed', async () => {
    const setup = fake({ turns: [[{ message: 'answer' }]], resumeOmitsTurns: true });
    const a = await started(setup, new RecordingHost());
    await a.adapter.prompt('one', 'ik:1');
    a.child.kill('SIGKILL');
    await a.exited;

    const host = new RecordingHost();
    const b = launch(setup, host);
    await b.adapter.initialize();
    expect(await b.adapter.loadSession(a.sessionId, setup.dir)).toEqual({ userMessages: [{ text: 'one', clientId: 'ik:1' }], complete: true });
    expect(host.updates).toEqual([]);
    b.child.kill('SIGKILL');
    await b.exited;

    // A Codex that can neither hydrate nor list turns: absence proves nothing.
    fs.writeFileSync(setup.scenarioPath, JSON.stringify({ resumeOmitsTurns: true, noTurnsList: true }));
    const c = launch(setup, new RecordingHost());
    await c.adapter.initialize();
    expect(await c.adapter.loadSession(a.sessionId, setup.dir)).toEqual({ userMessages: [], complete: false });
  });

  it('an unknown thread is SessionNotFoundError (unknown id and malformed id alike)', async () => {
    const setup = fake({});
    const { adapter } = launch(setup, new RecordingHost());
    await adapter.initialize();
    await expect(adapter.loadSession('01a1fd8a-0000-7000-8000-000000000000', setup.dir)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(adapter.resumeSession('01a1fd8a-0000-7000-8000-000000000000', setup.dir)).rejects.toThrow(/no rollout found/);
    await expect(adapter.loadSession('not-a-thread', setup.dir)).rejects.toBeInstanceOf(SessionNotFoundError);
  });

  it('an unknown server request gets method-not-found and a protocol error; the turn still completes', async () => {
    const setup = fake({ turns: [[{ request: { method: 'item/tool/requestUserInput' } }, { message: 'after' }]] });
    const host = new RecordingHost();
    const { adapter, traffic } = await started(setup, host);

    expect(await adapter.prompt('go', 'ik:1')).toEqual({ stopReason: 'end_turn' });
    const request = traffic.find((entry) => entry.direction === 'in' && entry.message.method === 'item/tool/requestUserInput')!.message;
    const answer = traffic.find((entry) => entry.direction === 'out' && entry.message.id === request.id)!.message;
    expect(answer.error).toMatchObject({ code: -32601 });
    expect(host.protocolErrors).toEqual([{ kind: 'rpc_error', detail: expect.stringContaining('item/tool/requestUserInput') }]);
    expect(host.asks).toEqual([]);
    expect(host.live().at(-1)).toEqual({ kind: 'message', text: 'after' });
  });

  it('an unknown approval kind gets a generic card with the method as source, answered in the {decision} convention', async () => {
    const method = 'item/networkRule/requestApproval';
    const setup = fake({ turns: [[{ request: { method, params: { threadId: 'x', itemId: 'rule_1', reason: 'needs example.com' } } }]] });
    const host = new RecordingHost(() => 'deny');
    const { adapter } = await started(setup, host);

    expect(await adapter.prompt('go', 'ik:1')).toEqual({ stopReason: 'end_turn' });
    expect(host.asks).toEqual([{ action: expect.objectContaining({ kind: 'generic', source: method }), reason: 'needs example.com', toolCallId: 'rule_1' }]);
    expect(readState(setup).log.find((entry) => entry.serverRequest === method)).toMatchObject({ result: { decision: 'decline' }, error: null });
  });

  it('a killed process rejects the pending prompt', async () => {
    const setup = fake({ turns: [[{ message: 'started' }, { waitForInterrupt: true }]] });
    const host = new RecordingHost();
    const { adapter, child } = await started(setup, host);

    const prompt = adapter.prompt('hang', 'ik:1');
    await host.waitFor(() => host.live().length > 0);
    child.kill('SIGKILL');
    await expect(prompt).rejects.toThrow('agent process exited');
  });

  it("a failed turn, and an interrupt Keel did not ask for, are agent_error with Codex's message", async () => {
    const setup = fake({ turns: [[{ fail: 'model exploded' }], [{ interruptSelf: 'stopped elsewhere' }]] });
    const { adapter } = await started(setup, new RecordingHost());

    expect(await adapter.prompt('one', 'ik:1')).toEqual({ stopReason: 'agent_error', detail: 'model exploded' });
    expect(await adapter.prompt('two', 'ik:2')).toEqual({ stopReason: 'agent_error', detail: 'Codex interrupted the turn without Keel asking: stopped elsewhere' });
  });

  it('a JSON-RPC error answering turn/start rejects with AgentRequestError', async () => {
    const setup = fake({ failTurnStart: 'model unavailable' });
    const { adapter } = await started(setup, new RecordingHost());
    const failure = adapter.prompt('one', 'ik:1');
    await expect(failure).rejects.toBeInstanceOf(AgentRequestError);
    await expect(failure).rejects.toThrow('model unavailable');
  });
});
