import { spawn, type ChildProcess } from 'node:child_process';
import { ulid } from 'ulid';
import type { TerminalExit } from '../runtime/index.js';

const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;

interface Terminal {
  child: ChildProcess;
  output: string;
  truncated: boolean;
  limit: number;
  exit: TerminalExit | null;
  exited: Promise<TerminalExit>;
}

export interface TerminalEvents {
  /** Resolves once the start is recorded: the agent learns the terminal id only after that (I1). */
  started(terminalId: string, command: string, args: string[], cwd: string, pid: number | undefined): Promise<void>;
  output(terminalId: string, text: string): void;
  exited(terminalId: string, exit: TerminalExit): void;
}

/**
 * Commands Keel runs for an agent (ACP `terminal/*`): real processes in their own process
 * group, output kept up to a byte limit (oldest dropped first, as ACP specifies), all killed
 * when the generation that started them ends.
 */
export class Terminals {
  private readonly terminals = new Map<string, Terminal>();

  constructor(private readonly events: TerminalEvents) {}

  async start(command: string, args: string[], cwd: string, env: Record<string, string> | undefined, limit = DEFAULT_OUTPUT_LIMIT): Promise<string> {
    const terminalId = `term_${ulid()}`;
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const terminal: Terminal = {
      child,
      output: '',
      truncated: false,
      limit,
      exit: null,
      exited: new Promise((resolve) => {
        const finish = (exit: TerminalExit) => {
          if (terminal.exit) return;
          terminal.exit = exit;
          this.events.exited(terminalId, exit);
          resolve(exit);
        };
        child.once('error', (error) => {
          append(`${error.message}\n`);
          finish({ exitCode: 127, signal: null });
        });
        child.once('close', (code, signal) => finish({ exitCode: code, signal }));
      }),
    };
    const append = (text: string) => {
      this.events.output(terminalId, text);
      terminal.output += text;
      const bytes = Buffer.byteLength(terminal.output);
      if (bytes > terminal.limit) {
        const buffer = Buffer.from(terminal.output);
        let cut = bytes - terminal.limit;
        // Never split a UTF-8 character: move forward to the next character boundary.
        while (cut < buffer.length && (buffer[cut]! & 0xc0) === 0x80) cut += 1;
        terminal.output = buffer.subarray(cut).toString('utf8');
        terminal.truncated = true;
      }
    };
    child.stdout?.setEncoding('utf8').on('data', append);
    child.stderr?.setEncoding('utf8').on('data', append);
    this.terminals.set(terminalId, terminal);
    await this.events.started(terminalId, command, args, cwd, child.pid);
    return terminalId;
  }

  private get(terminalId: string): Terminal {
    const terminal = this.terminals.get(terminalId);
    if (!terminal) throw new Error(`Unknown terminal ${terminalId}.`);
    return terminal;
  }

  output(terminalId: string) {
    const terminal = this.get(terminalId);
    return { output: terminal.output, truncated: terminal.truncated, exitStatus: terminal.exit };
  }

  waitForExit(terminalId: string): Promise<TerminalExit> {
    return this.get(terminalId).exited;
  }

  kill(terminalId: string): void {
    const terminal = this.get(terminalId);
    if (terminal.child.pid === undefined) return;
    // The whole group, even after its leader exited: a backgrounded child must not outlive it.
    try {
      process.kill(-terminal.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  release(terminalId: string): void {
    this.kill(terminalId);
    this.terminals.delete(terminalId);
  }

  /** Kills every command and resolves once their exits are reported (or after `graceMs`). */
  async killAll(graceMs = 2_000): Promise<void> {
    const exits = [...this.terminals.values()].map((terminal) => terminal.exited);
    for (const terminalId of [...this.terminals.keys()]) this.release(terminalId);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(exits), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }
}
