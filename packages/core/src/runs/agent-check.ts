import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROTOCOL_VERSION } from '@agentclientprotocol/sdk';
import type { AgentSpec } from '../contract/index.js';

/** How long a custom agent has to answer `initialize` when a run is created or its agent changed. */
export const AGENT_CHECK_TIMEOUT_MS = 10_000;

export type AgentCheck = { ok: true; path: string | null } | { ok: false; problem: string };

/** `bin` as the agent's process would find it: a path (relative to cwd) or a name on PATH. */
export function resolveProgram(bin: string, cwd: string, pathVariable = process.env.PATH ?? ''): string | null {
  const candidates = bin.includes('/') ? [path.resolve(cwd, bin)] : pathVariable.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, bin));
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/**
 * Checks an agent before a run uses it (issue 15): the program must exist, and an ACP agent must
 * answer the `initialize` handshake within `timeoutMs`. The process is ended right after. The
 * built-in agent is Keel's own and needs no check; Codex is only looked up (its handshake starts
 * a session server).
 */
export async function checkAgent(agent: AgentSpec, cwd: string, timeoutMs = AGENT_CHECK_TIMEOUT_MS): Promise<AgentCheck> {
  if (agent.kind === 'builtin') return { ok: true, path: null };
  const command = agent.command ?? (agent.kind === 'codex' ? ['codex', 'app-server'] : []);
  const bin = command[0]?.trim();
  if (!bin) return { ok: false, problem: 'The agent command is empty: type the program that starts the agent, e.g. `gemini --acp`.' };
  const found = resolveProgram(bin, cwd);
  if (!found) {
    return {
      ok: false,
      problem: bin.includes('/') ? `There is no program at ${bin}.` : `“${bin}” was not found on PATH. Install it, or type its full path.`,
    };
  }
  if (agent.kind === 'codex') return { ok: true, path: found };
  const answered = await handshake(found, command.slice(1), cwd, timeoutMs);
  return answered === null ? { ok: true, path: found } : { ok: false, problem: answered };
}

/** Starts the program and sends `initialize`; null when it answered, else what went wrong in words. */
function handshake(program: string, args: string[], cwd: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    } catch (error) {
      resolve(`It could not be started: ${(error as Error).message}.`);
      return;
    }
    let settled = false;
    let stdout = '';
    let stderr = '';
    const finish = (problem: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      resolve(problem);
    };
    const timer = setTimeout(
      () => finish(`It started but did not answer the ACP handshake (initialize) within ${Math.round(timeoutMs / 1000)} s. Is this an ACP agent? Some need a flag such as --acp.`),
      timeoutMs,
    );
    child.on('error', (error) => finish(`It could not be started: ${error.message}.`));
    // 'exit' can come before the last stderr bytes are read: say it once stderr has ended too
    // (or shortly after, when a left-behind child keeps the pipe open).
    child.on('exit', (code, signal) => {
      const say = () => {
        const tail = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 300);
        finish(`It exited (${signal ?? `code ${code}`}) before answering the ACP handshake${tail ? `: ${tail}` : '.'}`);
      };
      if (!child.stderr || child.stderr.readableEnded) return say();
      child.stderr.once('end', say);
      setTimeout(say, 500).unref();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      let newline: number;
      while ((newline = stdout.indexOf('\n')) !== -1) {
        const line = stdout.slice(0, newline).trim();
        stdout = stdout.slice(newline + 1);
        if (!line) continue;
        let message: { id?: unknown; result?: unknown; error?: { message?: string } };
        try {
          message = JSON.parse(line);
        } catch {
          finish(`It answered with something that is not ACP (not JSON): “${line.slice(0, 80)}”.`);
          return;
        }
        if (message.id !== 1) continue;
        if (message.error || message.result === undefined) finish(`It refused the ACP handshake: ${message.error?.message ?? 'no reason given'}.`);
        else finish(null);
        return;
      }
    });
    child.stdin?.on('error', () => {});
    child.stdin?.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, clientCapabilities: {} } })}\n`);
  });
}
