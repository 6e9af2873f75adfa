// Test-only plumbing to run the real agents: process groups, a minimal Codex app-server
// JSON-RPC client, and an ACP client (the SDK's client side) with real fs/terminal handlers.
// Keel's own adapters live in packages/core/src/runtime; these tests do not depend on them.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { client, methods, ndJsonStream, type ClientConnection } from '@agentclientprotocol/sdk';
import type * as acp from '@agentclientprotocol/sdk';
import { Changes, waitUntil, type Subscribe } from '../fixtures/wait-kit.js';
import type { RunHarness } from '../fixtures/runtime-kit.js';
import type { Hold, ScriptedModelServer } from './scripted-model-server.js';

export { Changes, fileChanges, waitUntil, type Subscribe } from '../fixtures/wait-kit.js';

// ---------------------------------------------------------------------------------------
// Process groups: the npm wrappers can orphan their native child, so every agent gets its own
// group (detached) and is killed as a group.

export interface AgentProcess {
  child: ChildProcess;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<AgentProcess>();

export function spawnAgent(bin: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): AgentProcess {
  const child = spawn(bin, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const proc = { child, stderr, exited };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** SIGKILL the whole process group and wait for the leader to exit. */
export async function killGroup(proc: AgentProcess): Promise<void> {
  if (proc.child.pid && proc.child.exitCode === null && proc.child.signalCode === null) {
    try {
      process.kill(-proc.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await proc.exited;
}

/**
 * Process groups this test did not spawn itself but must not leak: the agents Keel spawns
 * (each in its own group, led by the pid `runtime.started` records).
 */
const foreignGroups = new Set<number>();

export function trackGroup(pgid: number): void {
  foreignGroups.add(pgid);
}

/**
 * Live (non-zombie) processes whose process group is `pgid`, read from /proc (Linux). A
 * container's PID 1 may never reap orphans, so zombies do not count as leaks.
 */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return members;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') members.push(Number(entry));
  }
  return members;
}

/**
 * Live (non-zombie) processes whose environment holds exactly `KEEL_GENERATION_TAG=<tag>`, read
 * from /proc (Linux), each with its argv. The test's own check, independent of Keel's sweep:
 * a process of a killed generation that is still listed here could still change the workspace.
 */
export function taggedProcesses(tag: string): Array<{ pid: number; command: string[] }> {
  const entry = Buffer.from(`KEEL_GENERATION_TAG=${tag}`);
  const found: Array<{ pid: number; command: string[] }> = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return found;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'Z' || state === 'X') continue;
      const environ = fs.readFileSync(`/proc/${name}/environ`);
      // A whole NUL-separated entry, not a prefix of a longer value.
      let hit = false;
      for (let at = environ.indexOf(entry); at !== -1 && !hit; at = environ.indexOf(entry, at + 1)) {
        const end = at + entry.length;
        hit = (at === 0 || environ[at - 1] === 0) && (end === environ.length || environ[end] === 0);
      }
      if (!hit) continue;
      const command = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (command.at(-1) === '') command.pop();
      found.push({ pid: Number(name), command });
    } catch {
      // Exited meanwhile, or not ours to read.
    }
  }
  return found;
}

/** For afterEach: kill every agent group still running (ours and Keel's). */
export async function killAllAgents(): Promise<void> {
  for (const pgid of foreignGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  foreignGroups.clear();
  await Promise.all([...live].map(killGroup));
}

/**
 * Tracks the agents Keel starts for run `h` (from its `runtime.started` events): each agent's pid
 * (= process group, handed to trackGroup so killAllAgents ends it) and each generation's tag
 * (also passed to `onTag` as it is recorded). `stop` ends the tracking.
 */
export function trackRunAgents(
  h: Pick<RunHarness, 'runId' | 'ledger'>,
  onTag?: (tag: string) => void,
): { pids: number[]; tagOf: Map<number, string>; stop: () => void } {
  const pids: number[] = [];
  const tagOf = new Map<number, string>();
  const stop = h.ledger.onCommit((e) => {
    if (e.run_id !== h.runId || e.type !== 'runtime.started') return;
    const { pid, generation, tag } = e.payload as { pid: number; generation: number; tag?: string };
    pids.push(pid);
    trackGroup(pid);
    if (tag) {
      tagOf.set(generation, tag);
      onTag?.(tag);
    }
  });
  return { pids, tagOf, stop };
}

/**
 * For afterEach: close the run harnesses (Keel's expected stops), kill every agent group still
 * running, release the held model rounds, then close the model servers; empties the lists.
 */
export async function cleanUpAgentTest(state: { harnesses: RunHarness[]; servers: ScriptedModelServer[]; holds?: Hold[] }): Promise<void> {
  await Promise.all(state.harnesses.map((h) => h.close()));
  state.harnesses.length = 0;
  await killAllAgents();
  for (const hold of state.holds?.splice(0) ?? []) hold.release();
  await Promise.all(state.servers.map((s) => s.close()));
  state.servers.length = 0;
}

// ---------------------------------------------------------------------------------------
// The real `keel` CLI as a child process (its own process group). Agents Keel starts get
// their own groups; their pids are read from the `--json` event stream as it arrives and
// tracked, so killAllAgents ends them even when the CLI dies first.

export interface KeelCliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Agent pids (= process group ids) from `runtime.started` events on stdout. */
  agentPids: number[];
}

export async function runKeelCli(
  keelBin: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; guardMs?: number },
): Promise<KeelCliResult> {
  const proc = spawnAgent(process.execPath, [keelBin, ...args], opts);
  proc.child.stdin!.end();
  // 'close', not 'exit': stdout is fully read by then.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let stdout = '';
  let scanned = 0;
  const agentPids: number[] = [];
  proc.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    let nl: number;
    while ((nl = stdout.indexOf('\n', scanned)) >= 0) {
      const line = stdout.slice(scanned, nl);
      scanned = nl + 1;
      if (!line.startsWith('{')) continue;
      try {
        const event = JSON.parse(line) as { type?: string; payload?: { pid?: number } };
        if (event.type === 'runtime.started' && typeof event.payload?.pid === 'number') {
          agentPids.push(event.payload.pid);
          trackGroup(event.payload.pid);
        }
      } catch {
        // Not an event line.
      }
    }
  });
  const guardMs = opts.guardMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void killAllAgents();
      reject(new Error(`keel ${args.join(' ')} did not finish within ${guardMs} ms\nstdout:\n${stdout.slice(-3000)}\nstderr:\n${proc.stderr.join('').slice(-3000)}`));
    }, guardMs);
  });
  try {
    const { code, signal } = await Promise.race([closed, guard]);
    return { code, signal, stdout, stderr: proc.stderr.join(''), agentPids };
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------
// Codex app-server: newline-delimited JSON-RPC without the `jsonrpc` field (DESIGN §6).

export interface CodexMessage {
  id?: number | string;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string };
}

export class CodexRpc {
  /** Every message the server sent: notifications, server requests, responses. */
  readonly received: CodexMessage[] = [];
  /** Fires after each message lands in `received`. */
  readonly changes = new Changes();
  private nextId = 1;
  private readonly pending = new Map<number | string, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  constructor(readonly proc: AgentProcess) {
    let buf = '';
    proc.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) this.onMessage(JSON.parse(line) as CodexMessage);
      }
    });
    void proc.exited.then(() => {
      for (const p of this.pending.values()) p.reject(new Error('codex app-server exited'));
      this.pending.clear();
    });
  }

  private onMessage(msg: CodexMessage): void {
    this.received.push(msg);
    this.changes.notify();
    if (msg.method === undefined && msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`${msg.error.code}: ${msg.error.message}`));
      else p?.resolve(msg.result);
    }
  }

  private send(msg: CodexMessage): void {
    this.proc.child.stdin!.write(`${JSON.stringify(msg)}\n`);
  }

  request<T = any>(method: string, params: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ id, method, params });
    });
  }

  notify(method: string, params?: unknown): void {
    this.send(params === undefined ? { method } : { method, params });
  }

  respond(id: number | string, result: unknown): void {
    this.send({ id, result });
  }

  /** Wait for a server message (notification or server request) with this method. */
  waitFor(method: string, ms = 30_000, where: (m: CodexMessage) => boolean = () => true): Promise<CodexMessage> {
    return waitUntil(() => this.received.find((m) => m.method === method && where(m)), ms, method, this.changes.subscribe);
  }

  async initialize(): Promise<any> {
    const res = await this.request('initialize', { clientInfo: { name: 'keel-test', title: 'Keel tests', version: '0.0.0' }, capabilities: null });
    this.notify('initialized');
    return res;
  }
}

/**
 * A private CODEX_HOME (and HOME) whose only model provider is the scripted server: no login.
 * Returns the environment for `codex app-server`.
 */
export function codexEnv(dir: string, modelBaseUrl: string): NodeJS.ProcessEnv {
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'config.toml'),
    [
      'model = "scripted-model"',
      'model_provider = "scripted"',
      // Don't phone home: no update checks, no analytics.
      'check_for_update_on_startup = false',
      '[analytics]',
      'enabled = false',
      '[model_providers.scripted]',
      'name = "Scripted"',
      `base_url = "${modelBaseUrl}/v1"`,
      'wire_api = "responses"',
      // The provider's API key comes from this env var: a dummy value replaces `codex login`.
      'env_key = "KEEL_SCRIPTED_API_KEY"',
      // Fail fast instead of retrying against a test server.
      'request_max_retries = 0',
      'stream_max_retries = 0',
      '',
    ].join('\n'),
  );
  return {
    PATH: process.env.PATH,
    // A private HOME too: commands run in a login shell (`bash -lc`) that reads its profile.
    HOME: home,
    CODEX_HOME: dir,
    KEEL_SCRIPTED_API_KEY: 'dummy',
  };
}

// ---------------------------------------------------------------------------------------
// ACP client (Claude Code via claude-agent-acp), with real fs and terminal handlers.

export interface AcpClientLog {
  updates: acp.SessionNotification[];
  permissions: acp.RequestPermissionRequest[];
  /** Client methods the agent called (fs/*, terminal/*). */
  calls: string[];
  /** Fires after each update or permission request lands in the log. */
  changes: Subscribe;
}

export type PermissionAnswer = (req: acp.RequestPermissionRequest) => Promise<acp.RequestPermissionResponse> | acp.RequestPermissionResponse;

export function allowOnce(req: acp.RequestPermissionRequest): acp.RequestPermissionResponse {
  const option = req.options.find((o) => o.kind === 'allow_once') ?? req.options[0];
  return { outcome: { outcome: 'selected', optionId: option!.optionId } };
}

interface Terminal {
  child: ChildProcess;
  output: string;
  exit: Promise<acp.WaitForTerminalExitResponse>;
  status: acp.TerminalExitStatus | null;
}

export function connectAcp(proc: AgentProcess, answer: PermissionAnswer): { conn: ClientConnection; log: AcpClientLog } {
  const changes = new Changes();
  const log: AcpClientLog = { updates: [], permissions: [], calls: [], changes: changes.subscribe };
  const terminals = new Map<string, Terminal>();
  let nextTerminal = 1;

  const app = client()
    .onNotification(methods.client.session.update, ({ params }) => {
      log.updates.push(params);
      changes.notify();
    })
    .onRequest(methods.client.session.requestPermission, ({ params }) => {
      log.permissions.push(params);
      changes.notify();
      return answer(params);
    })
    .onRequest(methods.client.fs.readTextFile, ({ params }) => {
      log.calls.push(methods.client.fs.readTextFile);
      let content = fs.readFileSync(params.path, 'utf8');
      if (params.line || params.limit) {
        const start = Math.max(0, (params.line ?? 1) - 1);
        content = content.split('\n').slice(start, params.limit ? start + params.limit : undefined).join('\n');
      }
      return { content };
    })
    .onRequest(methods.client.fs.writeTextFile, ({ params }) => {
      log.calls.push(methods.client.fs.writeTextFile);
      fs.mkdirSync(path.dirname(params.path), { recursive: true });
      fs.writeFileSync(params.path, params.content);
      return {};
    })
    .onRequest(methods.client.terminal.create, ({ params }) => {
      log.calls.push(methods.client.terminal.create);
      const env = { ...process.env, ...Object.fromEntries((params.env ?? []).map((e) => [e.name, e.value])) };
      // No args means `command` is a shell command line.
      const child = params.args?.length
        ? spawn(params.command, params.args, { cwd: params.cwd ?? undefined, env })
        : spawn('/bin/sh', ['-c', params.command], { cwd: params.cwd ?? undefined, env });
      const term: Terminal = { child, output: '', status: null, exit: Promise.resolve({}) };
      const limit = params.outputByteLimit ?? 1_000_000;
      const onData = (d: Buffer) => {
        term.output = (term.output + d.toString('utf8')).slice(-limit);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      term.exit = new Promise((resolve) => {
        child.once('close', (code, signal) => {
          term.status = { exitCode: code, signal };
          resolve(term.status);
        });
      });
      const terminalId = `term-${nextTerminal++}`;
      terminals.set(terminalId, term);
      return { terminalId };
    })
    .onRequest(methods.client.terminal.output, ({ params }) => {
      log.calls.push(methods.client.terminal.output);
      const t = terminals.get(params.terminalId)!;
      return { output: t.output, truncated: false, exitStatus: t.status };
    })
    .onRequest(methods.client.terminal.waitForExit, ({ params }) => {
      log.calls.push(methods.client.terminal.waitForExit);
      return terminals.get(params.terminalId)!.exit;
    })
    .onRequest(methods.client.terminal.kill, ({ params }) => {
      log.calls.push(methods.client.terminal.kill);
      terminals.get(params.terminalId)?.child.kill('SIGKILL');
      return {};
    })
    .onRequest(methods.client.terminal.release, ({ params }) => {
      log.calls.push(methods.client.terminal.release);
      terminals.get(params.terminalId)?.child.kill('SIGKILL');
      terminals.delete(params.terminalId);
      return {};
    });

  const stream = ndJsonStream(
    Writable.toWeb(proc.child.stdin!) as WritableStream<Uint8Array>,
    Readable.toWeb(proc.child.stdout!) as ReadableStream<Uint8Array>,
  );
  return { conn: app.connect(stream), log };
}

export const ACP_CLIENT_CAPABILITIES: acp.ClientCapabilities = {
  fs: { readTextFile: true, writeTextFile: true },
  terminal: true,
};

/** Environment for claude-agent-acp against the scripted server, isolated from the user. */
export function claudeEnv(home: string, modelBaseUrl: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    // A private HOME: no user settings, credentials or transcripts leak in or out.
    HOME: home,
    ANTHROPIC_BASE_URL: modelBaseUrl,
    ANTHROPIC_API_KEY: 'dummy',
    // Claude Code refuses to run as root without it (we run tests as root).
    IS_SANDBOX: '1',
    // Offline hygiene: no telemetry, error reports or update checks.
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
  };
}
