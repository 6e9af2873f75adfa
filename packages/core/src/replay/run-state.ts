import type { Action, AgentSpec, ApprovalDecision, ApprovalMode, ApprovalStatus, EventBody, LedgerEvent, RunStateName } from '../contract/index.js';
import { decodeBody } from './decode.js';

type ApprovalSettlement = 'approval.decided' | 'approval.timed_out' | 'approval.cancelled' | 'approval.reset';

/**
 * The one transition rule for approvals, shared by every fold (I9): a decision always lands
 * (a person may decide an orphaned request, for carry-over); a timeout or cancel does not
 * overturn a request already settled; a reset orphans only what still waits.
 */
export function approvalStatusAfter(status: ApprovalStatus, settlement: ApprovalSettlement): ApprovalStatus {
  switch (settlement) {
    case 'approval.decided':
      return 'decided';
    case 'approval.timed_out':
    case 'approval.cancelled':
      return status === 'decided' || status === 'timed_out' || status === 'cancelled' ? status : settlement === 'approval.timed_out' ? 'timed_out' : 'cancelled';
    case 'approval.reset':
      return status === 'pending' ? 'orphaned' : status;
  }
}

export interface ApprovalRecord {
  approvalId: string;
  generation: number;
  turn: number | null;
  actionKey: string;
  action: Action;
  status: ApprovalStatus;
}

/** A person's decision on an action, kept for carry-over to a later generation. */
export interface UserDecision {
  approvalId: string;
  decision: ApprovalDecision;
  /** The generation whose request it answered. */
  generation: number;
  /** A later generation already received it once (single use, except allow_run). */
  carried: boolean;
}

/** A prompt whose turn has not ended. */
export interface OpenTurn {
  turn: number;
  text: string;
  ik: string;
}

/**
 * What the run core knows about a run: a fold of its ledger events, and nothing else (I1).
 * The decider reads it; broker restore, host-crash reconciliation and attention are all
 * answered from it, so each derived fact has one formula (I9).
 */
export interface RunState {
  runId: string;
  lastSeq: number;
  workspace: string;
  agent: AgentSpec;
  approvalMode: ApprovalMode;
  title: string | null;
  state: RunStateName;
  stopReason: string | null;
  /** The agent's session (ACP session id, Codex thread id), once bound. */
  sessionId: string | null;
  /** The latest generation that started. */
  generation: number;
  /** The latest generation's exit is recorded (a clean close, or a crash Keel saw). */
  lastGenerationExited: boolean;
  /** Agent pid and command line per generation, to recognise orphans after a host crash. */
  agents: Map<number, { pid: number; command: string[]; tag: string | null }>;
  hostPid: number | null;
  /** Commands Keel started for the agent and never saw end. */
  openTerminals: Map<string, { pid: number; command: string[] }>;
  currentTurn: number;
  openTurn: OpenTurn | null;
  /** Tool calls the agent started and never reported finished, with their generation. */
  openTools: Map<string, number>;
  /** The latest handoff to a fresh session and the turn that carries it to the agent. */
  handoff: { turn: number; text: string } | null;
  /** Stop reason of every ended turn. */
  turnStops: Map<number, string>;
  /** A restart is recorded and its generation has not started (nor the runtime stopped). */
  restartPending: boolean;
  /** Why the last generation was restarted. */
  lastRestartReason: string | null;
  approvals: Map<string, ApprovalRecord>;
  /** Approvals still waiting, in request order. */
  pendingApprovals: string[];
  /** The latest person's decision per action key. */
  decisions: Map<string, UserDecision>;
}

export function initialRunState(runId: string): RunState {
  return {
    runId,
    lastSeq: 0,
    workspace: '',
    agent: { kind: 'builtin' },
    approvalMode: 'interactive',
    title: null,
    state: 'created',
    stopReason: null,
    sessionId: null,
    generation: 0,
    lastGenerationExited: true,
    agents: new Map(),
    hostPid: null,
    openTerminals: new Map(),
    currentTurn: 0,
    openTurn: null,
    openTools: new Map(),
    handoff: null,
    turnStops: new Map(),
    restartPending: false,
    lastRestartReason: null,
    approvals: new Map(),
    pendingApprovals: [],
    decisions: new Map(),
  };
}

/** The event types the run state reads; everything else (text, tools) passes by undecoded. */
export const RUN_STATE_TYPES = [
  'run.created',
  'run.agent_changed',
  'run.state',
  'run.recovered',
  'session.bound',
  'runtime.started',
  'runtime.exited',
  'runtime.restarting',
  'runtime.stopped',
  'terminal.started',
  'terminal.exited',
  'prompt.sent',
  'turn.ended',
  'approval.requested',
  'approval.decided',
  'approval.timed_out',
  'approval.cancelled',
  'approval.reset',
  'tool.started',
  'tool.updated',
  'tool.interrupted',
  'session.handoff',
] as const;
const READ: ReadonlySet<string> = new Set(RUN_STATE_TYPES);

/** Applies one committed event, in seq order (mutates `state`: the fold owns it). */
export function applyRunEvent(state: RunState, event: LedgerEvent): void {
  if (event.seq <= state.lastSeq) return; // A repeat.
  state.lastSeq = event.seq;
  if (!READ.has(event.type)) return;
  const decoded = decodeBody(event);
  if (decoded.status === 'ok') applyBody(state, decoded.body, event.generation ?? null);
}

export function readRunState(runId: string, events: Iterable<LedgerEvent>): RunState {
  const state = initialRunState(runId);
  for (const event of events) applyRunEvent(state, event);
  return state;
}

function applyBody(state: RunState, body: EventBody, generation: number | null): void {
  switch (body.type) {
    case 'tool.started':
      if (generation !== null) state.openTools.set(body.payload.toolCallId, generation);
      return;
    case 'tool.updated': {
      const { toolCallId, status } = body.payload;
      if (status === 'completed' || status === 'failed') state.openTools.delete(toolCallId);
      // A call first seen through an update (no tool.started) is open once it says it runs.
      else if (status !== undefined && generation !== null && !state.openTools.has(toolCallId)) state.openTools.set(toolCallId, generation);
      return;
    }
    case 'tool.interrupted':
      for (const toolCallId of body.payload.toolCallIds) state.openTools.delete(toolCallId);
      return;
    case 'run.agent_changed':
      state.agent = body.payload.agent;
      return;
    case 'run.created':
      state.workspace = body.payload.workspace;
      state.agent = body.payload.agent;
      state.approvalMode = body.payload.approvalMode ?? 'interactive';
      state.title = body.payload.title ?? null;
      return;
    case 'run.state':
      state.state = body.payload.state;
      state.stopReason = body.payload.stopReason ?? null;
      return;
    case 'run.recovered':
      state.restartPending = false;
      return;
    case 'session.handoff':
      state.handoff = { turn: body.payload.turn, text: body.payload.text };
      return;
    case 'session.bound':
      state.sessionId = body.payload.sessionId ?? state.sessionId;
      return;
    case 'runtime.started': {
      const { generation, pid, command, hostPid, tag } = body.payload;
      state.generation = Math.max(state.generation, generation);
      state.agents.set(generation, { pid, command, tag: tag ?? null });
      state.hostPid = hostPid;
      state.lastGenerationExited = false;
      state.restartPending = false;
      return;
    }
    case 'runtime.exited':
      if (body.payload.generation === state.generation) state.lastGenerationExited = true;
      return;
    case 'runtime.restarting':
      state.restartPending = true;
      state.lastRestartReason = body.payload.reason;
      return;
    case 'runtime.stopped':
      state.restartPending = false;
      return;
    case 'terminal.started':
      if (body.payload.pid !== undefined) {
        state.openTerminals.set(body.payload.terminalId, { pid: body.payload.pid, command: [body.payload.command, ...body.payload.args] });
      }
      return;
    case 'terminal.exited':
      state.openTerminals.delete(body.payload.terminalId);
      return;
    case 'prompt.sent': {
      const { turn, text, ik } = body.payload;
      state.currentTurn = Math.max(state.currentTurn, turn);
      state.openTurn = { turn, text, ik };
      return;
    }
    case 'turn.ended':
      state.turnStops.set(body.payload.turn, body.payload.stopReason);
      if (state.openTurn?.turn === body.payload.turn) state.openTurn = null;
      return;
    case 'approval.requested': {
      const { approvalId, generation, turn, action, actionKey } = body.payload;
      const known = state.approvals.get(approvalId);
      state.approvals.set(approvalId, { approvalId, generation, turn: turn ?? null, action, actionKey, status: known?.status ?? 'pending' });
      if (!known) state.pendingApprovals = [...state.pendingApprovals, approvalId];
      return;
    }
    case 'approval.decided': {
      const { approvalId, decision, by, ref } = body.payload;
      const request = state.approvals.get(approvalId);
      settle(state, approvalId, 'approval.decided');
      if (!request) return;
      if (by === 'user') state.decisions.set(request.actionKey, { approvalId, decision, generation: request.generation, carried: false });
      if (by === 'carryover' && ref !== undefined) {
        const earlier = state.decisions.get(request.actionKey);
        if (earlier?.approvalId === ref && earlier.decision !== 'allow_run') earlier.carried = true;
      }
      return;
    }
    case 'approval.timed_out':
    case 'approval.cancelled':
      settle(state, body.payload.approvalId, body.type);
      return;
    case 'approval.reset':
      for (const approvalId of body.payload.approvalIds) settle(state, approvalId, 'approval.reset');
      return;
  }
}

function settle(state: RunState, approvalId: string, settlement: ApprovalSettlement): void {
  const request = state.approvals.get(approvalId);
  if (!request) return;
  const before = request.status;
  request.status = approvalStatusAfter(before, settlement);
  if (before === 'pending' && request.status !== 'pending') state.pendingApprovals = state.pendingApprovals.filter((id) => id !== approvalId);
}

/** Requests of `generation` that still wait. */
export function pendingOf(state: RunState, generation: number): string[] {
  return state.pendingApprovals.filter((id) => state.approvals.get(id)?.generation === generation);
}

/** Tool calls `generation` left open, in the order they started. */
export function openToolsOf(state: RunState, generation: number): string[] {
  return [...state.openTools].filter(([, owner]) => owner === generation).map(([toolCallId]) => toolCallId);
}
