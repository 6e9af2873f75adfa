// The built-in agent as a real ACP process: spawned compiled, driven by the SDK's client side
// over stdio, with real files and real commands. Tests wait on protocol events, never on
// timers (the hang test proves silence by an answer ordered after it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionUpdate } from '@agentclientprotocol/sdk';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  builtinAgentCommand,
  listBuiltinScripts,
  loadScript,
  mergeFaults,
  parseFault,
  resolveBuiltinScript,
  formatFault,
} from '../src/runtime/builtin/index.js';
import { saysEngineGone } from '../src/runtime/acp/engine-gone.js';
import { AgentUnderTest, allowOnce, holdForever, rejectOnce, requireBuiltinDist } from './fixtures/builtin-harness.js';
import { tempDir } from './helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const HELLO_FILE = "Hello from Keel's built-in agent.\n";
const WRITE_AND_CHECK = 'Write hello.txt and check it';

const agents: AgentUnderTest[] = [];
function startAgent(options: { script: string; stateDir: string; cwd: string; faults?: string[] }): AgentUnderTest {
  const agent = new AgentUnderTest(options);
  agents.push(agent);
  return agent;
}

/** A prompt whose agent is expected to die or hang: its rejection is expected, not unhandled. */
function detached<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

async function started(script: string, faults: string[] = []) {
  const cwd = fs.realpathSync(tempDir('keel-builtin-ws-'));
  const stateDir = tempDir('keel-builtin-state-');
  const agent = startAgent({ script, stateDir, cwd, faults });
  await agent.initialize();
  const sessionId = await agent.newSession(cwd);
  return { agent, cwd, stateDir, sessionId };
}

const storedSession = (stateDir: string, sessionId: string) => JSON.parse(fs.readFileSync(path.join(stateDir, `${sessionId}.json`), 'utf8'));
const toolUpdates = (agent: AgentUnderTest, prefix: string) =>
  agent.updates
    .map(({ update }) => update)
    .filter((update): update is Extract<SessionUpdate, { toolCallId: string }> => 'toolCallId' in update && update.toolCallId.startsWith(prefix));
const textOf = (update: SessionUpdate | undefined) =>
  update && 'content' in update && Array.isArray(update.content)
    ? update.content.map((item) => (item.type === 'content' && item.content.type === 'text' ? item.content.text : '')).join('')
    : '';

function classify(line: Buffer): 'json' | 'garbage' | 'invalid_utf8' {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(line);
  } catch {
    return 'invalid_utf8';
  }
  try {
    JSON.parse(text);
    return 'json';
  } catch {
    return 'garbage';
  }
}

beforeAll(requireBuiltinDist);

afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.kill()));
});

describe('built-in agent: scripts', () => {
  it('edit-and-test runs a full turn: permissions with kind and paths, a real write, a real command, end_turn', async () => {
    const { agent, cwd, stateDir, sessionId } = await started('edit-and-test');
    const target = path.join(cwd, 'hello.txt');

    expect(await agent.prompt(sessionId, WRITE_AND_CHECK)).toEqual({ stopReason: 'end_turn' });

    expect(agent.permissions).toHaveLength(2);
    const [edit, exec] = agent.permissions;
    expect(edit!.toolCall).toMatchObject({ kind: 'edit', title: 'Write hello.txt', locations: [{ path: target }], rawInput: { path: target } });
    expect(edit!.options.map((option) => option.kind)).toEqual(['allow_once', 'allow_always', 'reject_once']);
    expect(exec!.toolCall).toMatchObject({ kind: 'execute', rawInput: { command: 'sh', args: ['-c', 'cat hello.txt && echo tests passed'], cwd } });
    // Each action is asked for before it happens.
    expect(agent.actions).toEqual(['permission:edit', `write:${target}`, 'permission:execute', 'terminal:sh']);

    expect(fs.readFileSync(target, 'utf8')).toBe(HELLO_FILE);
    const write = toolUpdates(agent, 'write-');
    expect(write[0]).toMatchObject({ sessionUpdate: 'tool_call', kind: 'edit', status: 'in_progress', locations: [{ path: target }] });
    expect(write.at(-1)).toMatchObject({
      sessionUpdate: 'tool_call_update',
      status: 'completed',
      content: [{ type: 'diff', path: target, oldText: null, newText: HELLO_FILE }],
    });

    expect(agent.createdTerminals.map(({ command, args, cwd: dir }) => ({ command, args, cwd: dir }))).toEqual([
      { command: 'sh', args: ['-c', 'cat hello.txt && echo tests passed'], cwd },
    ]);
    const run = toolUpdates(agent, 'run-');
    expect(run[0]).toMatchObject({ sessionUpdate: 'tool_call', kind: 'execute', status: 'in_progress' });
    expect(run.at(-1)).toMatchObject({ status: 'completed', rawOutput: { exitCode: 0 } });
    expect(textOf(run.at(-1))).toBe(`${HELLO_FILE}tests passed\n`);
    expect(agent.terminals.size).toBe(0); // released

    expect(agent.messages().at(-1)).toContain('tests passed');
    const stored = storedSession(stateDir, sessionId);
    expect(stored).toMatchObject({ schema_version: 1, turn: 1, step: 0 });
    expect(stored.history.map((entry: { role: string }) => entry.role)).toEqual(['user', 'agent', 'agent']);

    expect(await agent.prompt(sessionId, 'Anything else?')).toEqual({ stopReason: 'end_turn' });
    expect(agent.messages().at(-1)).toBe('The script has no more turns.');
  });

  it('a denied permission stops the turn with a message saying so', async () => {
    const { agent, cwd, stateDir, sessionId } = await started('edit-and-test');
    agent.answerPermission = rejectOnce;

    expect(await agent.prompt(sessionId, WRITE_AND_CHECK)).toEqual({ stopReason: 'end_turn' });

    expect(agent.permissions).toHaveLength(1);
    expect(agent.actions).toEqual(['permission:edit']);
    expect(fs.existsSync(path.join(cwd, 'hello.txt'))).toBe(false);
    expect(toolUpdates(agent, 'write-')).toEqual([]);
    expect(agent.messages().at(-1)).toBe('Permission to "Write hello.txt" was denied, so I am stopping this turn.');
    expect(storedSession(stateDir, sessionId)).toMatchObject({ turn: 1, step: 0 });
  });

  it('hello sends a thought, a two-entry plan, the greeting in chunks and the completed plan', async () => {
    const { agent, sessionId } = await started('hello');
    const script = loadScript(resolveBuiltinScript('hello'));
    const greeting = script.turns[0]!.steps.find((step) => 'message' in step) as { message: string; chunks: number };

    expect(await agent.prompt(sessionId, 'Hello')).toEqual({ stopReason: 'end_turn' });

    const updates = agent.updates.map(({ update }) => update);
    expect(updates.map((update) => update.sessionUpdate)).toEqual([
      'agent_thought_chunk',
      'plan',
      ...Array<string>(greeting.chunks).fill('agent_message_chunk'),
      'plan',
    ]);
    expect(updates[1]).toMatchObject({
      entries: [
        { content: 'Think of a greeting', status: 'in_progress', priority: 'high' },
        { content: 'Say hello', status: 'pending', priority: 'medium' },
      ],
    });
    const chunks = updates.filter((update) => update.sessionUpdate === 'agent_message_chunk');
    expect(new Set(chunks.map((chunk) => chunk.messageId)).size).toBe(1);
    expect(agent.messages()).toEqual([greeting.message]);
    const last = updates.at(-1);
    expect(last?.sessionUpdate === 'plan' && last.entries.every((entry) => entry.status === 'completed')).toBe(true);
  });

  it('long-stream delivers exactly 10,000 chunks, in order', async () => {
    const { agent, sessionId } = await started('long-stream');

    expect(await agent.prompt(sessionId, 'Stream')).toEqual({ stopReason: 'end_turn' });

    const numbers = agent.updates.flatMap(({ update }) => {
      const match = update.sessionUpdate === 'agent_message_chunk' && update.content.type === 'text' ? /^Streaming line (\d+) of 10000\.\n$/.exec(update.content.text) : null;
      return match ? [Number(match[1])] : [];
    });
    expect(numbers).toHaveLength(10_000);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
    expect(agent.messages().at(-1)).toBe('Done: 10,000 lines streamed.');
  });

  it('session/cancel ends the turn with cancelled; the next prompt finds the turn finished', async () => {
    // slow-stream makes the uncancelled stream far longer than the test timeout.
    const { agent, sessionId } = await started('long-stream', ['slow-stream=5']);
    const turn = agent.prompt(sessionId, 'Stream');
    await agent.until(() => agent.updates.some(({ update }) => update.sessionUpdate === 'agent_message_chunk'), 'the first chunk');
    await agent.cancel(sessionId);

    expect(await turn).toEqual({ stopReason: 'cancelled' });
    const chunks = agent.updates.filter(({ update }) => update.sessionUpdate === 'agent_message_chunk').length;
    expect(chunks).toBeLessThan(10_000);

    expect(await agent.prompt(sessionId, 'Again')).toEqual({ stopReason: 'end_turn' });
    expect(agent.messages().at(-1)).toBe('The script has no more turns.');
  });

  it('session/cancel during a permission request: the client answers cancelled and the turn ends cancelled', async () => {
    const { agent, cwd, sessionId } = await started('edit-and-test');
    agent.answerPermission = async (request) => {
      await agent.cancel(request.sessionId);
      return { outcome: { outcome: 'cancelled' } };
    };
    expect(await agent.prompt(sessionId, WRITE_AND_CHECK)).toEqual({ stopReason: 'cancelled' });
    expect(agent.actions).toEqual(['permission:edit']);
    expect(fs.existsSync(path.join(cwd, 'hello.txt'))).toBe(false);
  });

  it('tool failures are reported as failed tool calls and the turn goes on; onDeny continue; allow_always is remembered', async () => {
    const cwd = fs.realpathSync(tempDir('keel-builtin-ws-'));
    fs.writeFileSync(path.join(cwd, 'notes.txt'), 'some notes\n');
    const agent = startAgent({ script: fixture('builtin-tools.json'), stateDir: tempDir('keel-builtin-state-'), cwd });
    await agent.initialize();
    const sessionId = await agent.newSession(cwd);
    agent.answerPermission = (request) =>
      request.toolCall.kind === 'fetch' ? { outcome: { outcome: 'selected', optionId: 'allow-always' } } : rejectOnce(request);

    expect(await agent.prompt(sessionId, 'Try everything')).toEqual({ stopReason: 'end_turn' });

    const last = (prefix: string) => toolUpdates(agent, prefix).at(-1);
    expect(toolUpdates(agent, 'read-1-1')[0]).toMatchObject({ sessionUpdate: 'tool_call', kind: 'read', locations: [{ path: path.join(cwd, 'notes.txt') }] });
    expect(last('read-1-1')).toMatchObject({ status: 'completed' });
    expect(textOf(last('read-1-1'))).toBe('some notes\n');
    expect(last('read-1-2')).toMatchObject({ status: 'failed' });
    expect(textOf(last('read-1-2'))).toContain('missing.txt');
    expect(last('write-1-3')).toMatchObject({ status: 'failed' });
    expect(textOf(last('write-1-3'))).toContain('no-such-dir/out.txt');
    expect(last('run-1-4')).toMatchObject({ status: 'failed', rawOutput: { exitCode: 3 } });
    expect(textOf(last('run-1-4'))).toBe('oops\n[exited with code 3]');
    expect(agent.messages()).toEqual(['Permission to "Do something optional" was denied; continuing without it.', 'Still here.']);

    expect(await agent.prompt(sessionId, 'Fetch again')).toEqual({ stopReason: 'end_turn' });
    expect(agent.permissions.map((request) => request.toolCall.kind)).toEqual(['other', 'fetch']);
    expect(agent.messages().at(-1)).toBe('Fetched again without asking.');
  });
});

describe('built-in agent: sessions', () => {
  it('session/load after SIGKILL replays the history in order before answering; the next prompt resumes the turn', async () => {
    const { agent: first, cwd, stateDir, sessionId } = await started('edit-and-test');
    first.answerPermission = (request) => (request.toolCall.kind === 'execute' ? holdForever(request) : allowOnce(request));
    const interrupted = detached(first.prompt(sessionId, WRITE_AND_CHECK));
    await first.until(() => first.permissions.length === 2, 'the second permission request');
    expect(await first.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    await expect(interrupted).rejects.toThrow();

    const second = startAgent({ script: 'edit-and-test', stateDir, cwd });
    await second.initialize();
    const before = second.rawLines.length;
    expect(await second.load(sessionId, cwd)).toEqual({});

    // On the wire: the replayed updates come before the response to session/load.
    const wire = second.rawLines.slice(before).map((line) => JSON.parse(line.toString('utf8')));
    const answer = wire.findIndex((message) => 'id' in message && !('method' in message));
    expect(wire[answer]).toMatchObject({ result: {} });
    const replayed = wire.slice(0, answer).map((message) => [message.params.update.sessionUpdate, message.params.update.content.text]);
    const expected = [
      ['user_message_chunk', WRITE_AND_CHECK],
      ['agent_message_chunk', 'I wrote hello.txt. Now I will run the check.'],
    ];
    expect(replayed).toEqual(expected);
    await second.until(() => second.updates.length === 2, 'the replayed updates');
    expect(second.updates.map(({ update }) => [update.sessionUpdate, 'content' in update && !Array.isArray(update.content) ? update.content : null])).toEqual(
      expected.map(([kind, text]) => [kind, { type: 'text', text }]),
    );

    const from = second.updates.length;
    expect(await second.prompt(sessionId, 'Please go on')).toEqual({ stopReason: 'end_turn' });
    expect(second.messages(from)[0]).toBe('Resuming where I stopped (step 7).');
    // The interrupted step asks again, for the same tool call, and nothing done before is redone.
    expect(second.permissions.map((request) => request.toolCall.toolCallId)).toEqual([first.permissions[1]!.toolCall.toolCallId]);
    expect(second.actions).toEqual(['permission:execute', 'terminal:sh']);
    expect(second.messages(from).at(-1)).toContain('tests passed');
  });

  it('session/load or prompt of an unknown session is "Resource not found" (-32002)', async () => {
    const { agent, cwd } = await started('hello');
    await expect(agent.load('no-such-session', cwd)).rejects.toMatchObject({ code: -32002 });
    await expect(agent.load('../escape', cwd)).rejects.toMatchObject({ code: -32002 });
    await expect(agent.resume('no-such-session', cwd)).rejects.toMatchObject({ code: -32002 });
    await expect(agent.prompt('no-such-session', 'hi')).rejects.toMatchObject({ code: -32002 });
  });

  it('an invalid script makes the process exit non-zero, naming the file and the field on stderr', async () => {
    const file = fixture('builtin-invalid-script.json');
    const agent = startAgent({ script: file, stateDir: tempDir('keel-builtin-state-'), cwd: tempDir('keel-builtin-ws-') });
    expect(await agent.exited).toEqual({ code: 2, signal: null });
    expect(agent.stderr).toContain(file);
    expect(agent.stderr).toContain('turns[0].steps[1].message');
    expect(agent.rawLines).toEqual([]);
  });
});

describe('built-in agent: faults', () => {
  it('exit-at-step exits with code 17 exactly once; the restarted process resumes and finishes', async () => {
    const { agent: first, cwd, stateDir, sessionId } = await started('fault-crash');
    detached(first.prompt(sessionId, WRITE_AND_CHECK));
    expect(await first.exited).toEqual({ code: 17, signal: null });
    // Right after the write was allowed, before the write.
    expect(first.actions).toEqual(['permission:edit']);
    expect(fs.existsSync(path.join(cwd, 'hello.txt'))).toBe(false);
    expect(first.stderr).toContain('fault exit-at-step=4 fires');

    const second = startAgent({ script: 'fault-crash', stateDir, cwd });
    await second.initialize();
    expect(await second.resume(sessionId, cwd)).toEqual({});
    expect(second.rawLines.map((line) => JSON.parse(line.toString('utf8'))).filter((message) => message.method === 'session/update')).toEqual([]);
    expect(await second.prompt(sessionId, 'Please go on')).toEqual({ stopReason: 'end_turn' });
    expect(second.messages()[0]).toBe('Resuming where I stopped (step 4).');
    expect(second.actions).toEqual([`write:${path.join(cwd, 'hello.txt')}`, 'permission:execute', 'terminal:sh']);
    expect(fs.readFileSync(path.join(cwd, 'hello.txt'), 'utf8')).toBe(HELLO_FILE);
    expect(second.exit).toBeNull();
    expect(storedSession(stateDir, sessionId)).toMatchObject({ firedFaults: ['exit-at-step=4'], turn: 1, step: 0 });
  });

  it('exit-at-step=N:always exits again after every restart', async () => {
    const { agent: first, cwd, stateDir, sessionId } = await started('hello', ['exit-at-step=2:always']);
    detached(first.prompt(sessionId, 'Hello'));
    expect(await first.exited).toEqual({ code: 17, signal: null });

    const second = startAgent({ script: 'hello', stateDir, cwd, faults: ['exit-at-step=2:always'] });
    await second.initialize();
    await second.load(sessionId, cwd);
    const from = second.rawLines.length;
    detached(second.prompt(sessionId, 'Hello again'));
    expect(await second.exited).toEqual({ code: 17, signal: null });
    const said = second.rawLines.slice(from).map((line) => JSON.parse(line.toString('utf8')).params?.update?.content?.text);
    expect(said).toContain('Resuming where I stopped (step 2).');
  });

  it('hang-at-step stops answering (cancel included) but stays alive; it fires once, so the next process resumes', async () => {
    const { agent: first, cwd, stateDir, sessionId } = await started('fault-hang');
    const turn = detached(first.prompt(sessionId, WRITE_AND_CHECK));
    await first.until(() => first.stderr.includes('fault hang-at-step=5 fires'), 'the hang');
    const linesAtHang = first.rawLines.length;
    await first.cancel(sessionId);
    const another = detached(first.newSession(cwd));
    const heard: string[] = [];
    void turn.then(
      () => heard.push('prompt answered'),
      () => heard.push('prompt failed'),
    );
    void another.then(
      () => heard.push('session/new answered'),
      () => heard.push('session/new failed'),
    );
    // Silence is proved by a later answer, not by a window: the SDK under the agent answers a
    // request nobody handles ("method not found") without asking the agent's handlers, and it
    // reads stdin in order, so that answer comes only after the cancel and session/new above
    // were read and handed to the (hung) agent; stdout is read in order here too.
    const ping = await first.connection.agent.request('_keel/ping', {}).then(
      () => 'answered',
      (error: unknown) => error,
    );
    expect(ping).toMatchObject({ code: -32601 });
    expect(heard).toEqual([]);
    // The only line since the hang is that "method not found".
    expect(first.rawLines.slice(linesAtHang).map((line) => JSON.parse(line.toString('utf8')).error?.code)).toEqual([-32601]);
    expect(first.exit).toBeNull();
    expect(fs.readFileSync(path.join(cwd, 'hello.txt'), 'utf8')).toBe(HELLO_FILE);
    await first.kill('SIGKILL');

    const second = startAgent({ script: 'fault-hang', stateDir, cwd });
    await second.initialize();
    await second.load(sessionId, cwd);
    const from = second.updates.length;
    expect(await second.prompt(sessionId, 'Please go on')).toEqual({ stopReason: 'end_turn' });
    expect(second.messages(from)[0]).toBe('Resuming where I stopped (step 5).');
    expect(second.actions).toEqual(['permission:execute', 'terminal:sh']);
  });

  it('engine-gone-at-step answers the running prompt with Claude Code\'s "process exited" error, stays alive and forgets the session; session/load restores it once', async () => {
    const { agent, cwd, stateDir, sessionId } = await started('hello', ['engine-gone-at-step=3']);
    const failure = await agent.prompt(sessionId, 'Hello').then(
      () => null,
      (error: unknown) => error,
    );
    // The wire shape claude-agent-acp 0.49.0 produces (RequestError.internalError(undefined, text)).
    expect(failure).toMatchObject({ code: -32603, message: 'Internal error: The Claude Agent process exited unexpectedly. Please start a new session.' });
    expect(saysEngineGone(failure, { sessionId })).toBe(true);
    const response = agent.rawLines.map((line) => JSON.parse(line.toString('utf8'))).find((message) => 'error' in message);
    expect(response.error).toEqual({ code: -32603, message: 'Internal error: The Claude Agent process exited unexpectedly. Please start a new session.' });
    // Steps 1 and 2 ran (the thought, the plan); nothing of step 3 went out.
    expect(agent.updates.map(({ update }) => update.sessionUpdate)).toEqual(['agent_thought_chunk', 'plan']);
    // Its stderr line may arrive after the answer on stdout: waited for, not read at once.
    await agent.until(() => agent.stderr.includes('fault engine-gone-at-step=3 fires before step 3'), 'the fault said on stderr');
    expect(agent.exit).toBeNull();

    // Like claude-agent-acp after its engine died, the process no longer holds the session…
    const evicted = await agent.prompt(sessionId, 'Hello?').then(
      () => null,
      (error: unknown) => error,
    );
    expect(evicted).toMatchObject({ code: -32002, data: { sessionId } });
    expect(saysEngineGone(evicted, { sessionId })).toBe(true);
    // …but its history is kept: session/load (in the same process, as after a restart) restores it,
    // the turn resumes at step 3 and the fault, recorded as fired, does not fire again.
    expect(await agent.load(sessionId, cwd)).toEqual({});
    const from = agent.updates.length;
    expect(await agent.prompt(sessionId, 'Please go on')).toEqual({ stopReason: 'end_turn' });
    expect(agent.messages(from)[0]).toBe('Resuming where I stopped (step 3).');
    expect(agent.messages(from).at(-1)).toContain('Hello! I am Keel');
    expect(agent.exit).toBeNull();
    expect(storedSession(stateDir, sessionId)).toMatchObject({ firedFaults: ['engine-gone-at-step=3'], turn: 1, step: 0 });
  });

  it('engine-gone-at-step=N:always answers the error again after every restore', async () => {
    const { agent, cwd, sessionId } = await started('hello', ['engine-gone-at-step=2:always']);
    for (const text of ['Hello', 'Hello again']) {
      await expect(agent.prompt(sessionId, text)).rejects.toMatchObject({ code: -32603, message: expect.stringContaining('The Claude Agent process exited unexpectedly.') });
      await agent.load(sessionId, cwd);
    }
    await agent.until(() => (agent.stderr.match(/fault engine-gone-at-step=2:always fires/g) ?? []).length >= 2, 'both faults said on stderr');
    expect(agent.stderr.match(/fault engine-gone-at-step=2:always fires/g)).toHaveLength(2);
    expect(agent.exit).toBeNull();
  });

  it.each([
    ['garbage-at-step=2', 'garbage'],
    ['invalid-utf8-at-step=2', 'invalid_utf8'],
  ] as const)('%s puts exactly one bad line on stdout, between whole JSON lines, and the turn completes', async (fault, kind) => {
    const { agent, sessionId } = await started('hello', [fault]);
    expect(await agent.prompt(sessionId, 'Hello')).toEqual({ stopReason: 'end_turn' });

    const classes = agent.rawLines.map(classify);
    expect(classes.filter((found) => found !== 'json')).toEqual([kind]);
    const bad = classes.indexOf(kind);
    const around = [agent.rawLines[bad - 1], agent.rawLines[bad + 1]].map((line) => JSON.parse(line!.toString('utf8')).params.update.sessionUpdate);
    expect(around).toEqual(['agent_thought_chunk', 'plan']); // before step 2 (the plan), after step 1
    expect(agent.updates.map(({ update }) => update.sessionUpdate).filter((kindOf) => kindOf === 'plan')).toHaveLength(2);
  });

  it.each([
    ['big-message-at-step=3:200000', 200_000],
    ['big-message-at-step=1', 1024 * 1024],
  ] as const)('%s emits one agent_message_chunk of the requested size', async (fault, bytes) => {
    const { agent, sessionId } = await started('hello', [fault]);
    expect(await agent.prompt(sessionId, 'Hello')).toEqual({ stopReason: 'end_turn' });
    const sizes = agent.updates.flatMap(({ update }) => (update.sessionUpdate === 'agent_message_chunk' && update.content.type === 'text' ? [Buffer.byteLength(update.content.text)] : []));
    expect(sizes.filter((size) => size === bytes)).toHaveLength(1);
    expect(sizes.filter((size) => size > 1000)).toHaveLength(1);
  });
});

describe('built-in agent: catalog, command and fault syntax', () => {
  it('ships the six scripts, all valid; names resolve to the shipped files', () => {
    const scripts = listBuiltinScripts();
    expect(scripts.map((script) => script.name)).toEqual(['edit-and-test', 'fault-crash', 'fault-hang', 'hello', 'long-stream', 'markdown']);
    expect(resolveBuiltinScript('hello')).toBe(scripts.find((script) => script.name === 'hello')!.path);
    expect(() => resolveBuiltinScript('nope')).toThrow(/Unknown built-in agent script "nope" \(known: edit-and-test, /);
    // fault-crash exits right after the first permission, before the write.
    const crash = loadScript(resolveBuiltinScript('fault-crash'));
    const step = parseFault(crash.faults![0]!);
    expect(step.kind === 'exit-at-step' && crash.turns[0]!.steps[step.step - 2]).toHaveProperty('permission');
    expect(step.kind === 'exit-at-step' && crash.turns[0]!.steps[step.step - 1]).toHaveProperty('write');
  });

  it('builtinAgentCommand is node + the compiled main.js + arguments', () => {
    const argv = builtinAgentCommand({ script: 'hello', stateDir: 'state', faults: ['garbage-at-step=1', 'slow-stream=5'] });
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toMatch(/packages\/core\/dist\/runtime\/builtin\/main\.js$/);
    expect(argv.slice(2)).toEqual(['--script', 'hello', '--state-dir', path.resolve('state'), '--fault', 'garbage-at-step=1', '--fault', 'slow-stream=5']);
  });

  it('parses, formats and merges fault specs', () => {
    expect(parseFault('exit-at-step=3')).toEqual({ kind: 'exit-at-step', step: 3, always: false });
    expect(parseFault('exit-at-step=3:always')).toEqual({ kind: 'exit-at-step', step: 3, always: true });
    expect(parseFault('engine-gone-at-step=2:always')).toEqual({ kind: 'engine-gone-at-step', step: 2, always: true });
    expect(formatFault(parseFault('engine-gone-at-step=2'))).toBe('engine-gone-at-step=2');
    expect(parseFault('big-message-at-step=2')).toEqual({ kind: 'big-message-at-step', step: 2, always: false, bytes: 1024 * 1024 });
    expect(formatFault(parseFault('big-message-at-step=2:always:10'))).toBe('big-message-at-step=2:10:always');
    expect(parseFault('slow-stream=0')).toEqual({ kind: 'slow-stream', delayMs: 0 });
    for (const bad of ['exit-at-step', 'exit-at-step=0', 'exit-at-step=2:sometimes', 'garbage-at-step=1:10', 'slow-stream=x', 'boom=1']) {
      expect(() => parseFault(bad)).toThrow(`Invalid fault "${bad}"`);
    }
    const merged = mergeFaults(['exit-at-step=4', 'garbage-at-step=1'], ['exit-at-step=6', 'slow-stream=5']).map(formatFault);
    expect(merged).toEqual(['garbage-at-step=1', 'exit-at-step=6', 'slow-stream=5']);
    expect(mergeFaults(['exit-at-step=4'], ['none']).map(formatFault)).toEqual([]);
  });
});
