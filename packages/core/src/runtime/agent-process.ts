import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import type { ProtocolErrorKind } from '../contract/schemas/ledger.js';
import type { MessageChannel } from './adapter.js';
import { frameChannel } from './framing.js';

export interface AgentExit {
  code: number | null;
  signal: string | null;
}

export interface SpawnAgentOptions {
  command: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Raw stderr goes here (appended), one file per generation. */
  stderrFile: string;
  /** Raw protocol traffic goes here (appended). */
  protocolFile?: string;
  maxMessageBytes?: number;
  onProtocolError(kind: ProtocolErrorKind, detail: string, sample?: string): void;
  onActivity(): void;
}

/** How long each step of a graceful stop waits before the next, harder one. */
const STOP_GRACE_MS = 2_000;

/**
 * One agent process: spawned in its own process group (npm wrappers of native agents leave
 * orphans otherwise), framed stdio, stderr kept in a raw per-run log. `stop` closes stdin,
 * then SIGTERMs, then SIGKILLs the whole group.
 */
export class AgentProcess {
  readonly pid: number;
  readonly channel: MessageChannel;
  readonly exited: Promise<AgentExit>;
  private readonly child: ChildProcessWithoutNullStreams;
  private done = false;
  private readonly stderrTail: string[] = [];

  private constructor(child: ChildProcessWithoutNullStreams, options: SpawnAgentOptions) {
    this.child = child;
    this.pid = child.pid!;
    const stderr = fs.createWriteStream(options.stderrFile, { flags: 'a', mode: 0o600 });
    // A full disk loses the log, never the host.
    stderr.on('error', () => stderr.destroy());
    child.stderr.on('data', (chunk: Buffer) => {
      if (!stderr.destroyed) stderr.write(chunk);
      this.stderrTail.push(chunk.toString('utf8'));
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    const protocol = options.protocolFile ? fs.createWriteStream(options.protocolFile, { flags: 'a', mode: 0o600 }) : null;
    protocol?.on('error', () => protocol.destroy());
    this.channel = frameChannel(child.stdout, child.stdin, {
      ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
      onProtocolError: options.onProtocolError,
      onActivity: options.onActivity,
      ...(protocol ? { onTraffic: (direction: 'in' | 'out', line: string) => !protocol.destroyed && protocol.write(`${new Date().toISOString()} ${direction} ${line.length > 65_536 ? `${line.slice(0, 65_536)}…[${line.length} bytes]` : line}\n`) } : {}),
    });
    child.stdin.on('error', () => {}); // EPIPE after the agent died: the exit handler reports it.
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.done = true;
        stderr.end();
        protocol?.end();
        resolve({ code, signal });
      });
    });
  }

  /** Spawns the agent; rejects (ENOENT and the like) when it cannot start at all. */
  static spawn(options: SpawnAgentOptions): Promise<AgentProcess> {
    const [file, ...args] = options.command;
    if (!file) return Promise.reject(new Error('The agent command is empty.'));
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.once('error', (error) => reject(error));
      child.once('spawn', () => resolve(new AgentProcess(child, options)));
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** The last few stderr chunks, for the exit event. */
  stderrSummary(): string {
    return this.stderrTail.join('').slice(-4000);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  /** kill -9 of the whole group, at once (hang watchdog, tests). */
  kill(): void {
    this.signalGroup('SIGKILL');
  }

  /** Graceful stop: close stdin, then SIGTERM the group, then SIGKILL it. */
  async stop(graceMs = STOP_GRACE_MS): Promise<AgentExit> {
    const waitExit = (ms: number) => Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    if (this.done) return this.exited;
    this.child.stdin.end();
    if (await waitExit(graceMs)) return this.exited;
    this.signalGroup('SIGTERM');
    if (await waitExit(graceMs)) return this.exited;
    this.signalGroup('SIGKILL');
    return this.exited;
  }
}
