import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ulid } from 'ulid';
import { quoteWord, type Action, type AppendInput, type PolicyActionSource } from '../contract/index.js';
import { isSensitiveEnv } from '../policy/index.js';
import type { AgentRequests, Generation, PermissionAnswer } from '../runtime/index.js';
import { OutputBudget, readLines, readRegularFile, resolveInWorkspace, Terminals, writeRegularFile } from '../workspace/index.js';
import type { ApprovalWaiters } from './approval-waiters.js';
import type { PolicyGate } from './policy-gate.js';
import type { RunInput } from './inputs.js';

export interface AgentRequestsDeps {
  workspace: string;
  /** Added to the environment of every command Keel runs for the agent. */
  env: Record<string, string>;
  /**
   * The run's variables, as the agent process has them over Keel's own: a command Keel runs for
   * the agent starts from them (then the agent's own `env`), so it runs with the PATH the policy
   * judged it with (runs/policy-gate.ts `env`).
   */
  runEnv?: Record<string, string>;
  waiters: ApprovalWaiters;
  /** Judges every request before the decider sees it (I8); follows tool calls for what the agent did unasked. */
  policy: PolicyGate;
  dispatch(input: RunInput): Promise<unknown>;
  /** Whether the generation is still the one the run talks to and its exit is not being recorded. */
  live(): boolean;
  whileBusy<T>(work: () => Promise<T>): Promise<T>;
  touch(): void;
  protocolError: AgentRequests['protocolError'];
}

/** Why the agent asks, in its words when it gave any beyond the title (a card must not say the title twice). */
function reasonFor(action: Action, reason: string): string {
  if (reason.trim() !== '' && reason.trim() !== action.title.trim()) return reason;
  const what = { exec: 'run a command', write: 'change a file', read: 'read a file', network: 'use the network', generic: 'do something that needs your permission' }[action.kind];
  return `The agent asks to ${what}.`;
}

/**
 * The action a terminal/create request is judged as. Variables the agent sets for its command
 * can change what runs (PATH, LD_PRELOAD, NODE_OPTIONS, ...): those are judged as `env
 * NAME=VALUE command args`, the way the engine judges them in a command line, so neither an
 * allow rule trusting a program found on Keel's PATH nor a grant for the bare command covers them.
 */
function terminalAction(request: { command: string; args: string[]; env?: Record<string, string> }, cwd: string): Action {
  const env = Object.entries(request.env ?? {});
  const badName = env.find(([name]) => name === '' || name.includes('=') || name.includes('\0'));
  if (badName) throw new Error(`Refused to run ${request.command}: ${JSON.stringify(badName[0])} is not an environment variable name.`);
  const assignments = env.filter(([name]) => isSensitiveEnv(name)).map(([name, value]) => `${name}=${value}`);
  if (assignments.length > 0 && (request.command.startsWith('-') || request.command.includes('='))) {
    throw new Error(`Refused to run ${JSON.stringify(request.command)} with ${assignments.map((word) => word.split('=')[0]).join(', ')} set: Keel cannot judge that command name.`);
  }
  const argv = [...(assignments.length > 0 ? ['env', ...assignments] : []), request.command, ...request.args];
  return { kind: 'exec', title: argv.map(quoteWord).join(' '), command: argv[0]!, args: argv.slice(1), cwd };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const stale = () => new Error('This agent process has been replaced; the request is dropped.');

/**
 * Keel's side of one generation's connection: the agent's updates become decider inputs;
 * its permission requests wait for the decider's answer; its file reads and writes and its
 * commands run in the workspace (realpath-checked), each covered by a grant from an allowed
 * request of the same generation or asked by Keel itself.
 */
export function serveAgentRequests(generation: Generation, deps: AgentRequestsDeps): { host: AgentRequests; terminals: Terminals } {
  const number = generation.number;
  const { workspace, waiters, dispatch, live } = deps;
  const record = (body: AppendInput, durability: 'critical' | 'stream' = 'critical') => dispatch({ kind: 'recorded', generation: number, body, durability });
  const inWorkspace = (target: string) => resolveInWorkspace(workspace, target);
  const budget = new OutputBudget();
  const terminals = new Terminals({
    // A dead generation's commands are killed with it; their last words are not recorded (I6).
    started: async (terminalId, command, args, cwd, pid) => {
      if (live()) await record({ type: 'terminal.started', payload: { terminalId, command, args, cwd, ...(pid ? { pid } : {}) } });
    },
    output: (terminalId, text) => {
      const kept = live() ? budget.take(terminalId, text) : null;
      if (kept !== null) void record({ type: 'terminal.output', payload: { terminalId, text: kept } }, 'stream').catch(() => {});
    },
    exited: (terminalId, exit) => {
      if (live()) void record({ type: 'terminal.exited', payload: { terminalId, exitCode: exit.exitCode, signal: exit.signal } }).catch(() => {});
    },
  });

  /** Judged by the policy, then asks the decider; resolves with the answer once it is durable and delivered. */
  const ask = async (
    action: Action,
    reason: string,
    source: 'agent' | 'keel',
    policySource: PolicyActionSource,
    options: { signal?: AbortSignal; toolCallId?: string } = {},
  ): Promise<PermissionAnswer> => {
    await deps.policy.ready();
    if (!live()) throw stale();
    const policy = deps.policy.judgeSafely(action, policySource, options.toolCallId ? { toolCallId: options.toolCallId } : {});
    deps.policy.noteRequest(number, action, options.toolCallId);
    const approvalId = ulid();
    const answered = waiters.wait(approvalId, number);
    const paths = action.paths ?? [];
    const insideWorkspace = paths.length > 0 && paths.every((p) => inWorkspace(p).inside);
    try {
      await dispatch({ kind: 'permission_requested', request: { approvalId, generation: number, action, reason, source, insideWorkspace, policy } });
    } catch (error) {
      waiters.forget(approvalId);
      throw error;
    }
    options.signal?.addEventListener('abort', () => void dispatch({ kind: 'approval_withdrawn', approvalId }).catch(() => {}), { once: true });
    return answered;
  };
  const permitted = async (action: Action, reason: string, policySource: PolicyActionSource): Promise<boolean> => {
    if (waiters.consumeGrant(number, action)) return true;
    const answer = await ask(action, reason, 'keel', policySource);
    return answer === 'allow_once' || answer === 'allow_always';
  };
  const busy = deps.whileBusy;

  const host: AgentRequests = {
    update: (update, replay) => {
      if (!live() || replay) return; // Replayed history is already in the ledger.
      deps.touch();
      void dispatch({ kind: 'agent_update', generation: number, update }).catch(() => {});
      // A tool call the agent finished without any request covering it: judged after the fact.
      const observed = deps.policy.observe(number, update);
      if (observed) void dispatch({ kind: 'policy_observed', generation: number, judgement: observed }).catch(() => {});
    },
    askPermission: (request, signal) => {
      if (!live()) return Promise.reject(stale());
      // Adapters abort a request's signal both when the agent withdraws it (Codex
      // serverRequest/resolved, ACP $/cancel_request) and when the connection dies. A dead
      // agent withdraws nothing: its requests are orphaned by the exit path (approval.reset),
      // so a late decision can still be carried over (I5). Everything a closed channel sets
      // off runs in microtasks, so one macrotask later `disconnected` tells the two apart.
      const withdrawn = new AbortController();
      const onAbort = () =>
        setImmediate(() => {
          if (!generation.disconnected && generation.process?.running) withdrawn.abort(signal.reason);
        });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      const action = request.action.paths ? { ...request.action, paths: request.action.paths.map((p) => inWorkspace(p).path) } : request.action;
      const toolCallId = request.toolCallId;
      return busy(() => ask(action, reasonFor(action, request.reason), 'agent', deps.policy.permissionSource, { signal: withdrawn.signal, ...(toolCallId ? { toolCallId } : {}) }));
    },
    readTextFile: (target, line, limit) =>
      busy(async () => {
        if (!live()) throw stale();
        const resolved = inWorkspace(target);
        const read: Action = { kind: 'read', title: resolved.inside ? `Read ${target}` : `Read ${target} (outside the workspace)`, paths: [resolved.path] };
        const why = resolved.inside ? 'The agent asks Keel to read this file for it.' : 'The file is outside the workspace.';
        if (!(await permitted(read, why, 'keel.fs_read'))) throw new Error(`Reading ${target} was not allowed.`);
        return readLines(await readRegularFile(resolved.path), line, limit);
      }),
    writeTextFile: (target, content) =>
      busy(async () => {
        if (!live()) throw stale();
        const resolved = inWorkspace(target);
        if (!resolved.inside) throw new Error(`Refused to write ${target}: it is outside the workspace.`);
        const relative = path.relative(fs.realpathSync(workspace), resolved.path);
        if (!(await permitted({ kind: 'write', title: `Write ${relative}`, paths: [resolved.path] }, 'The agent asks Keel to write this file for it.', 'keel.fs_write'))) {
          throw new Error(`Writing ${relative} was not allowed.`);
        }
        if (!live()) throw stale();
        // Judged again after the wait: the tree may have changed while the user decided.
        const now = inWorkspace(target);
        if (!now.inside || now.path !== resolved.path) throw new Error(`Refused to write ${target}: it changed while waiting for approval.`);
        const { created } = await writeRegularFile(resolved.path, content);
        await record({ type: 'fs.written', payload: { path: resolved.path, bytes: Buffer.byteLength(content), sha256: sha256(content), created } });
      }),
    terminals: {
      create: (request) =>
        busy(async () => {
          if (!live()) throw stale();
          const cwd = inWorkspace(request.cwd ?? workspace);
          if (!cwd.inside) throw new Error(`Refused to run a command in ${request.cwd}: it is outside the workspace.`);
          const action = terminalAction(request, cwd.path);
          if (!(await permitted(action, 'The agent asks Keel to run this command for it.', 'keel.terminal'))) throw new Error(`Running ${action.title} was not allowed.`);
          if (!live()) throw stale();
          return terminals.start(request.command, request.args, cwd.path, { ...deps.runEnv, ...request.env, ...deps.env }, request.outputByteLimit);
        }),
      output: async (terminalId) => terminals.output(terminalId),
      waitForExit: (terminalId) => busy(() => terminals.waitForExit(terminalId)),
      kill: async (terminalId) => terminals.kill(terminalId),
      release: async (terminalId) => terminals.release(terminalId),
    },
    protocolError: deps.protocolError,
  };
  return { host, terminals };
}
