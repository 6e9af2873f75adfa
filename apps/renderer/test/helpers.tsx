import {
  KeelRpcError,
  LEDGER_SCHEMA_VERSION,
  type ApprovalDecision,
  type EventType,
  type ItemOfKind,
  type KeelClient,
  type LedgerEvent,
  type PayloadOf,
  type ProcedureName,
  type RunSummary,
  type SubscribeHandlers,
} from '@keel/core/contract';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { vi } from 'vitest';
import { ClientProvider } from '../src/lib/client-context.js';

export interface OpenStream {
  stream: string;
  params: unknown;
  handlers: SubscribeHandlers<unknown>;
  closed: boolean;
  /** The params as the transport would send them now (re-evaluated if a function). */
  currentParams(): unknown;
}

/** A stand-in for the typed client: procedures answered by `handlers`, streams recorded for the test to drive. */
export function mockClient(handlers: Partial<Record<ProcedureName, (input: any) => unknown>> = {}) {
  const streams: OpenStream[] = [];
  const invoke = vi.fn(async (method: ProcedureName, input: unknown) => {
    const handler = handlers[method];
    if (!handler) throw new KeelRpcError('unknown_method', `no mock for ${method}`);
    return handler(input);
  });
  const subscribe = vi.fn((stream: string, params: unknown, subscriber: SubscribeHandlers<unknown>) => {
    const entry: OpenStream = {
      stream,
      params,
      handlers: subscriber,
      closed: false,
      currentParams: () => (typeof params === 'function' ? (params as () => unknown)() : params),
    };
    streams.push(entry);
    return () => {
      entry.closed = true;
    };
  });
  const client = { invoke, subscribe } as unknown as KeelClient;
  return { client, invoke, subscribe, streams };
}

/** The newest open subscription to `name` a test's mock client recorded (throws when there is none). */
export function openStream(streams: OpenStream[], name: string): OpenStream {
  const stream = streams.filter((each) => each.stream === name && !each.closed).at(-1);
  if (!stream) throw new Error(`no open ${name} stream`);
  return stream;
}

export function renderWithClient(ui: ReactElement, client: KeelClient, mode: 'socket' | 'electron' = 'socket') {
  return render(
    <ClientProvider connection={{ client, mode, reconnectNow: () => {}, checkToken: async () => 'valid' }}>{ui}</ClientProvider>,
  );
}

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

/** Builds a run's ledger events one body at a time, with contiguous seqs. */
export class EventLog {
  readonly events: LedgerEvent[] = [];
  generation = 1;
  constructor(readonly runId = 'run-1') {}

  add<T extends EventType>(type: T, payload: PayloadOf<T>): this {
    return this.raw(type, payload);
  }

  /** Any type, even one this build does not know. */
  raw(type: string, payload: unknown): this {
    const seq = this.events.length + 1;
    this.events.push({
      schema_version: LEDGER_SCHEMA_VERSION,
      run_id: this.runId,
      seq,
      ts: new Date(Date.UTC(2025, 0, 1) + seq * 1000).toISOString(),
      type,
      generation: this.generation,
      payload,
      prev: seq % 2 ? HASH_A : HASH_B,
      hash: seq % 2 ? HASH_B : HASH_A,
    });
    return this;
  }
}

/**
 * A run touching every item kind: prompts, streamed messages and thoughts, a plan, tool calls
 * with output and diffs, approvals in every state, Keel-run commands and file writes, an agent
 * crash with a restart and a session re-bind, a stopped runtime, a repair, notes, and an event
 * type from the future. `turns` repeats the middle part to make it long.
 */
export function richRun(turns = 3, runId = 'run-1'): LedgerEvent[] {
  const log = new EventLog(runId);
  log.add('run.created', { workspace: '/work/repo', agent: { kind: 'builtin', script: 'edit-and-test' }, title: 'Rich run' });
  log.add('run.state', { state: 'starting' });
  log.add('runtime.started', { generation: 1, pid: 100, command: ['node', 'agent.js'], hostPid: 1 });
  log.add('session.bound', { generation: 1, sessionId: 's-1', outcome: 'new', method: 'session/new', remapped: false });
  log.add('run.state', { state: 'idle' });
  for (let turn = 1; turn <= turns; turn++) {
    log.add('prompt.sent', { turn, text: `Do step ${turn}`, ik: `ik:${turn}` });
    log.add('run.state', { state: 'running' });
    for (const word of ['Let ', 'me ', 'think.']) log.add('thought.chunk', { turn, text: word });
    log.add('plan.updated', {
      entries: [
        { content: 'Write hello.txt', status: turn > 1 ? 'completed' : 'in_progress', priority: 'high' },
        { content: 'Run the check', status: 'pending' },
      ],
    });
    const approvalId = `ap-${turn}`;
    log.add('approval.requested', {
      approvalId,
      generation: log.generation,
      turn,
      action: { kind: 'write', title: 'Write hello.txt', paths: ['/work/repo/hello.txt'] },
      actionKey: `write:/work/repo/hello.txt:${turn}`,
      reason: 'Writes inside the workspace ask (policy rule workspace.write)',
      source: 'agent',
      timeoutMs: 900000,
    });
    log.add('run.state', { state: 'awaiting_approval' });
    log.add('approval.decided', { approvalId, decision: 'allow_once', by: 'user' });
    log.add('run.state', { state: 'running' });
    log.add('fs.written', { path: '/work/repo/hello.txt', bytes: 34, sha256: 'c'.repeat(64), created: turn === 1, approvalId });
    log.add('tool.started', { toolCallId: `t-${turn}`, title: 'Edit hello.txt', kind: 'edit', input: { path: 'hello.txt' } });
    log.add('tool.updated', { toolCallId: `t-${turn}`, status: 'in_progress', diff: { path: 'hello.txt', oldText: turn === 1 ? null : 'old\n', newText: 'Hello\n' } });
    log.add('tool.updated', { toolCallId: `t-${turn}`, status: 'completed', output: 'wrote 1 file\n' });
    for (const word of ['I wrote ', '**hello.txt**', '.']) log.add('message.chunk', { turn, text: word });
    log.add('terminal.started', { terminalId: `term-${turn}`, command: 'sh', args: ['-c', 'cat hello.txt'], cwd: '/work/repo' });
    log.add('terminal.output', { terminalId: `term-${turn}`, text: 'Hello\n' });
    log.add('terminal.exited', { terminalId: `term-${turn}`, exitCode: 0, signal: null });
    log.add('approval.requested', {
      approvalId: `${approvalId}-net`,
      generation: log.generation,
      turn,
      action: { kind: 'network', title: 'Fetch a page' },
      actionKey: 'network:example',
      reason: 'Network access asks',
      source: 'keel',
    });
    log.add('approval.timed_out', { approvalId: `${approvalId}-net` });
    log.add('note', { text: `note ${turn}` });
    log.add('turn.ended', { turn, stopReason: 'end_turn' });
    log.add('run.state', { state: 'idle' });
  }
  // A crash: the pending approval is orphaned, the agent restarts and the session is re-bound.
  const turn = turns + 1;
  log.add('prompt.sent', { turn, text: 'Now crash', ik: `ik:${turn}` });
  log.add('approval.requested', {
    approvalId: 'ap-orphan',
    generation: log.generation,
    turn,
    action: { kind: 'exec', title: 'Run npm test', command: 'npm', args: ['test'], cwd: '/work/repo' },
    actionKey: 'exec:npm test',
    reason: 'Commands ask',
    source: 'agent',
  });
  log.add('runtime.exited', { generation: 1, code: null, signal: 'SIGKILL', expected: false, stderrTail: 'killed' });
  log.add('approval.reset', { generation: 1, approvalIds: ['ap-orphan'], reason: 'the agent process exited' });
  log.add('runtime.restarting', { nextGeneration: 2, attempt: 1, delayMs: 250, reason: 'exited' });
  log.generation = 2;
  log.add('runtime.started', { generation: 2, pid: 101, command: ['node', 'agent.js'], hostPid: 1 });
  log.add('session.bound', { generation: 2, sessionId: 's-1', outcome: 'restored', method: 'session/load', remapped: false });
  log.add('turn.ended', { turn, stopReason: 'agent_restarted' });
  log.add('ledger.repaired', { reason: 'torn tail', truncatedBytes: 12, brokenFile: 'run-1.ndjson.broken-1', keptThroughSeq: 3 });
  log.raw('future.event', { anything: true });
  log.add('runtime.stopped', { stopReason: 'runtime_stopped', attempts: 5, detail: 'exit 1 five times' });
  log.add('run.state', { state: 'stopped', stopReason: 'runtime_stopped', detail: 'exit 1 five times' });
  return log.events;
}

/** An approval item as the fold makes one (for card tests that need an exact state). */
export function approvalItem(overrides: Partial<ItemOfKind<'approval'>> = {}): ItemOfKind<'approval'> {
  return {
    kind: 'approval',
    seq: 10,
    lastSeq: 10,
    ts: '2025-01-01T00:00:10.000Z',
    turn: 1,
    approvalId: 'ap-1',
    generation: 1,
    action: { kind: 'exec', title: 'Run the tests', command: 'npm', args: ['test', '--', '--watch=false'], cwd: '/work/repo' },
    actionKey: 'exec:npm test',
    reason: 'Commands outside the allowlist ask (rule exec.default)',
    source: 'agent',
    status: 'pending',
    decision: null,
    by: null,
    ref: null,
    note: null,
    timeoutMs: null,
    ...overrides,
  };
}

export const DECISIONS: ApprovalDecision[] = ['allow_once', 'allow_run', 'deny'];

/** A run summary as runs.list gives one: an idle local run of the built-in `hello` script in /home/me/<id>; `overrides` set the rest. */
export function runSummary(id: string, overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    state: 'idle',
    created: '2025-01-01T00:00:00.000Z',
    updated: '2025-01-01T00:00:00.000Z',
    lastSeq: 1,
    quarantined: false,
    quarantineReason: null,
    readOnly: false,
    origin: 'local',
    workspace: `/home/me/${id}`,
    agent: { kind: 'builtin', script: 'hello' },
    title: null,
    stopReason: null,
    ...overrides,
  };
}

/** jsdom lays nothing out: cmdk scrolls the chosen item into view, and measures the list. Call in beforeAll. */
export function stubLayout(): void {
  Element.prototype.scrollIntoView = function scrollIntoView() {};
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
}
