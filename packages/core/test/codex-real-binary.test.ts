// The Codex adapter against the REAL `codex app-server` (@openai/codex 0.169.0 installed in
// .cache/agents, outside the project's dependencies). Proves the message shapes; the second
// test drives real turns through a loopback Responses-API server (no network, no key).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionNotFoundError, type AgentRequests, type AgentUpdate, type PermissionAnswer, type PermissionAsk } from '../src/runtime/adapter.js';
import { createCodexAdapter } from '../src/runtime/codex/index.js';
import { frameChannel } from '../src/runtime/framing.js';
import { tempDir } from './helpers.js';

const CODEX = fileURLToPath(new URL('../../../.cache/agents/node_modules/.bin/codex', import.meta.url));

function unavailable(): string | null {
  if (!fs.existsSync(CODEX)) return `${CODEX} is missing (npm install --prefix .cache/agents @openai/codex@0.169.0 --no-save)`;
  const version = spawnSync(CODEX, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (version.status !== 0) return `${CODEX} --version failed: ${(version.stderr || String(version.error)).trim()}`;
  if (!version.stdout.includes('0.169.0')) return `expected codex 0.169.0, found ${version.stdout.trim()}`;
  return null;
}
const reason = unavailable();
if (reason) console.warn(`[codex-real-binary] skipped: ${reason}`);

class Host implements AgentRequests {
  readonly updates: Array<{ update: AgentUpdate; replay: boolean }> = [];
  readonly asks: PermissionAsk[] = [];
  readonly protocolErrors: string[] = [];
  private readonly waiters = new Set<() => void>();
  constructor(private readonly answer: (ask: PermissionAsk, signal: AbortSignal) => PermissionAnswer | Promise<PermissionAnswer> = () => 'allow_once') {}
  update(update: AgentUpdate, replay: boolean) {
    this.updates.push({ update, replay });
    this.poke();
  }
  async askPermission(ask: PermissionAsk, signal: AbortSignal) {
    this.asks.push(ask);
    this.poke();
    return this.answer(ask, signal);
  }
  readTextFile(): Promise<string> {
    throw new Error('not used by Codex');
  }
  writeTextFile(): Promise<void> {
    throw new Error('not used by Codex');
  }
  readonly terminals = {
    create: () => Promise.reject(new Error('not used')),
    output: () => Promise.reject(new Error('not used')),
    waitForExit: () => Promise.reject(new Error('not used')),
    kill: () => Promise.reject(new Error('not used')),
    release: () => Promise.reject(new Error('not used')),
  };
  protocolError(kind: string, detail: string) {
    this.protocolErrors.push(`${kind}: ${detail}`);
  }
  waitFor(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (predicate()) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
    });
  }
  private poke() {
    for (const waiter of [...this.waiters]) waiter();
  }
}

const groups: ChildProcessWithoutNullStreams[] = [];
const killGroup = (child: ChildProcessWithoutNullStreams) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    // The npm wrapper spawns the native binary: kill the whole process group.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  });
afterEach(async () => {
  await Promise.all(groups.splice(0).map(killGroup));
});

/** A CODEX_HOME whose only model provider is a loopback URL (nothing leaves the machine). */
function codexHome(port: number): string {
  const home = tempDir('keel-codex-home-');
  fs.writeFileSync(
    path.join(home, 'config.toml'),
    [
      'model = "mock-model"',
      'model_provider = "mock"',
      '[model_providers.mock]',
      'name = "mock"',
      `base_url = "http://127.0.0.1:${port}/v1"`,
      'wire_api = "responses"',
      'supports_websockets = false',
      '',
    ].join('\n'),
  );
  return home;
}

function launch(home: string, cwd: string, host: Host) {
  const child = spawn(CODEX, ['app-server'], { cwd, env: { ...process.env, CODEX_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stdin.on('error', () => {});
  child.stderr.resume(); // warnings about bubblewrap etc.; not protocol
  groups.push(child);
  const traffic: Array<{ direction: 'in' | 'out'; message: Record<string, unknown> }> = [];
  const channel = frameChannel(child.stdout, child.stdin, {
    onProtocolError: (kind, detail) => host.protocolError(kind, detail),
    onTraffic: (direction, line) => traffic.push({ direction, message: JSON.parse(line) as Record<string, unknown> }),
  });
  return { child, traffic, adapter: createCodexAdapter(channel, host, { cwd }) };
}

/** Scripted Responses-API SSE: the N-th model request gets script[N]. */
async function modelServer(script: object[][]) {
  let served = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (!request.url?.endsWith('/responses')) {
        response.writeHead(404).end();
        return;
      }
      const events = script[served] ?? [];
      served += 1;
      const id = `resp_${served}`;
      const usage = { input_tokens: 1, input_tokens_details: null, output_tokens: 1, output_tokens_details: null, total_tokens: 2 };
      const all = [{ type: 'response.created', response: { id } }, ...events, { type: 'response.completed', response: { id, usage } }];
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const event of all) response.write(`event: ${(event as { type: string }).type}\ndata: ${JSON.stringify(event)}\n\n`);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const call = (id: string, cmd: string) => ({
  type: 'response.output_item.done',
  item: { type: 'function_call', id: `fc_${id}`, call_id: id, name: 'exec_command', arguments: JSON.stringify({ cmd }) },
});
const say = (id: string, text: string) => [
  { type: 'response.output_item.added', item: { type: 'message', role: 'assistant', id, content: [] } },
  { type: 'response.output_text.delta', item_id: id, output_index: 0, content_index: 0, delta: text },
  { type: 'response.output_item.done', item: { type: 'message', role: 'assistant', id, content: [{ type: 'output_text', text }] } },
];

describe.skipIf(reason !== null)('Codex adapter over the real codex app-server 0.169.0', () => {
  it('initializes, starts a thread with Keel-asks-everything settings, and knows an unknown thread', async () => {
    const model = await modelServer([]);
    try {
      const cwd = tempDir('keel-codex-ws-');
      const host = new Host();
      const { adapter, traffic } = launch(codexHome(model.port), cwd, host);

      expect(await adapter.initialize()).toEqual({ loadSession: true, resumeSession: true });
      const { sessionId } = await adapter.newSession(cwd);
      expect(sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/); // UUIDv7

      const start = traffic.find((entry) => entry.direction === 'out' && entry.message.method === 'thread/start')!.message;
      const answer = traffic.find((entry) => entry.direction === 'in' && entry.message.id === start.id)!.message;
      expect(answer).not.toHaveProperty('jsonrpc');
      expect(answer.result).toMatchObject({ approvalPolicy: 'untrusted', approvalsReviewer: 'user', sandbox: { type: 'workspaceWrite' }, thread: { id: sessionId, turns: [] } });
      await expect(adapter.loadSession('01a1fd8a-0000-7000-8000-000000000000', cwd)).rejects.toBeInstanceOf(SessionNotFoundError);
      expect(host.protocolErrors).toEqual([]);
    } finally {
      await model.close();
    }
  }, 60_000);

  it('drives real turns: command and file-change approvals, then a kill mid-approval and thread/resume with the client ids', async () => {
    const model = await modelServer([
      [call('call_1', 'echo hello-from-codex')],
      [call('call_2', "apply_patch <<'PATCH'\n*** Begin Patch\n*** Add File: hello.txt\n+hi there\n*** End Patch\nPATCH")],
      say('msg_1', 'Done.'),
      [call('call_3', 'echo second')],
    ]);
    try {
      const cwd = tempDir('keel-codex-ws-');
      const home = codexHome(model.port);
      const host = new Host();
      const first = launch(home, cwd, host);
      await first.adapter.initialize();
      const { sessionId } = await first.adapter.newSession(cwd);

      expect(await first.adapter.prompt('do it', 'ik:1')).toEqual({ stopReason: 'end_turn' });
      expect(host.asks.map((ask) => ask.action)).toEqual([
        expect.objectContaining({ kind: 'exec', command: 'echo hello-from-codex', cwd }),
        expect.objectContaining({ kind: 'write', paths: [path.join(cwd, 'hello.txt')] }),
      ]);
      expect(fs.readFileSync(path.join(cwd, 'hello.txt'), 'utf8')).toBe('hi there\n');
      // Usage reports (thread/tokenUsage/updated) may come after the last message; they are checked in usage.test.ts.
      const live = host.updates.map((entry) => entry.update).filter((update) => update.kind !== 'usage');
      expect(live.some((update) => update.kind === 'tool_updated' && update.output?.includes('hello-from-codex'))).toBe(true);
      expect(live).toContainEqual(expect.objectContaining({ kind: 'tool_updated', diff: { path: path.join(cwd, 'hello.txt'), oldText: null, newText: 'hi there\n' } }));
      expect(live.at(-1)).toEqual({ kind: 'message', text: 'Done.' });

      // Second turn: kill the app-server while Codex waits for Keel's approval.
      const pending = first.adapter.prompt('again', 'ik:2');
      // Handle the rejection before the kill: it may land while killGroup still awaits the exit.
      const rejected = expect(pending).rejects.toThrow('agent process exited');
      await host.waitFor(() => host.asks.length === 3);
      await killGroup(first.child);
      await rejected;

      const replayHost = new Host();
      const second = launch(home, cwd, replayHost);
      await second.adapter.initialize();
      const history = await second.adapter.loadSession(sessionId, cwd);
      expect(history).toEqual({
        userMessages: [
          { text: 'do it', clientId: 'ik:1' },
          { text: 'again', clientId: 'ik:2' },
        ],
        complete: true,
      });
      expect(replayHost.updates.every((entry) => entry.replay)).toBe(true);
      expect(replayHost.updates.map((entry) => entry.update)).toContainEqual({ kind: 'user_message', text: 'again', clientId: 'ik:2' });
      expect(replayHost.asks).toEqual([]); // the approval is not re-issued by a resume
      expect([...host.protocolErrors, ...replayHost.protocolErrors]).toEqual([]);
    } finally {
      await model.close();
    }
  }, 120_000);
});
