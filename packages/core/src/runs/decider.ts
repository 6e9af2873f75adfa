import type { Action, AppendInput, ApprovalDecision, ApprovalMode, RunStateName } from '../contract/index.js';
import { stopReasonInfo } from '../contract/index.js';
import { openToolsOf, pendingOf, type RunState } from '../replay/index.js';
import { mayResend, type PermissionAnswer } from '../runtime/index.js';
import { actionKey } from './action-key.js';
import { decideCancelDeadline } from './cancel-deadline.js';
import { checkpointDecision } from './checkpoint-decisions.js';
import { eventForUpdate } from './agent-events.js';
import { withHandoff } from './handoff.js';
import { idempotencyKey } from './idempotency.js';
import { askAnsweredByMode, observedDecision, policyDecidedEvent, settleByPolicy } from './policy-decisions.js';
import type { Decision, Effect, RunInput, RuntimeFacts } from './inputs.js';

/** Agent-provided text that goes into a note is cut to this. */
const NOTE_LIMIT = 90_000;

type Event = Decision['events'][number];
const critical = (body: AppendInput): Event => ({ body, durability: 'critical' });
const inGeneration = (generation: number, body: AppendInput): AppendInput => ({ ...body, generation }) as AppendInput;
const runState = (state: RunStateName, extra: { stopReason?: string; detail?: string } = {}): Event => critical({ type: 'run.state', payload: { state, ...extra } });
const nothing = (): Decision => ({ events: [], effects: [] });
const refuse = (code: NonNullable<Decision['error']>['code'], message: string): Decision => ({ events: [], effects: [], error: { code, message } });

const toAnswer = (decision: ApprovalDecision): PermissionAnswer => (decision === 'allow_run' ? 'allow_always' : decision === 'allow_once' ? 'allow_once' : 'deny');

/** Reads inside the workspace are allowed without asking; a read elsewhere is a question. */
function autoDecision(mode: ApprovalMode, action: Action, insideWorkspace: boolean): ApprovalDecision | null {
  const safeRead = action.kind === 'read' && insideWorkspace;
  if (mode === 'interactive') return safeRead ? 'allow_once' : null;
  if (mode === 'all') return 'allow_once';
  if (mode === 'reads') return safeRead ? 'allow_once' : 'deny';
  return 'deny';
}

/** The generation Keel talks to is this one and is not on its way out. */
function isLive(facts: RuntimeFacts, generation: number): boolean {
  const live = facts.live;
  return live !== null && live.generation === generation && live.lifecycle !== 'exited' && live.lifecycle !== 'stopping';
}

/** Nothing of a generation is recorded after its exit (I6). */
function isStale(state: RunState, generation: number): boolean {
  return generation < state.generation || (generation === state.generation && state.lastGenerationExited);
}

/** While a turn runs, the run waits for a person exactly when an approval is pending. */
function pendingStateChange(state: RunState, facts: RuntimeFacts, pendingAfter: number): Event[] {
  if (!state.openTurn || facts.closed || !facts.live || !isLive(facts, facts.live.generation)) return [];
  const next: RunStateName = pendingAfter > 0 ? 'awaiting_approval' : 'running';
  return next === state.state ? [] : [runState(next)];
}

/** Settles waiting approvals as cancelled, visibly, and answers the agent. */
function cancelApprovals(ids: readonly string[], reason: string): Decision {
  return {
    events: ids.map((approvalId) => critical({ type: 'approval.cancelled', payload: { approvalId, reason } })),
    effects: ids.map((approvalId): Effect => ({ kind: 'answer', approvalId, answer: 'cancelled' })),
  };
}

/** Ends the open turn (if any) without a generation: the runtime ended it, not the agent. */
function endOpenTurn(state: RunState, stopReason: string): Event[] {
  return state.openTurn ? [critical({ type: 'turn.ended', payload: { turn: state.openTurn.turn, stopReason } })] : [];
}

/**
 * The run core's one decision function: the run's state (a fold of its durable events), what
 * is known of the agent process, and one input give the events to record and the effects to
 * run once they are durable. Pure: no clock, no ids, no I/O.
 */
export function decide(state: RunState, facts: RuntimeFacts, input: RunInput): Decision {
  switch (input.kind) {
    case 'start': {
      if (facts.closed) return refuse('unavailable', 'The run is closed.');
      if (facts.live && facts.live.lifecycle !== 'exited') return nothing();
      const generation = state.generation + 1;
      return { events: [runState('starting', { detail: input.reason })], effects: [{ kind: 'spawn', generation, reason: input.reason }] };
    }
    case 'agent_spawned': {
      const { generation, pid, command, hostPid, tag } = input;
      return { events: [critical({ type: 'runtime.started', payload: { generation, pid, command, hostPid, tag } })], effects: [{ kind: 'initialize', generation }] };
    }
    case 'spawn_failed':
      return stopRuntime(state, 'agent_unavailable', input.attempts, `Could not start ${input.command.join(' ')}: ${input.detail}`);
    case 'start_failed': {
      if (!isLive(facts, input.generation)) return nothing(); // Its exit decides.
      const note = critical({ type: 'note', payload: { text: `Generation ${input.generation} failed to start: ${input.message}`.slice(0, NOTE_LIMIT) } });
      return { events: facts.live?.killedFor ? [] : [note], effects: [{ kind: 'kill', generation: input.generation, reason: 'agent_unavailable' }] };
    }
    case 'session_bound':
      return sessionBound(state, facts, input);
    case 'session_unavailable': {
      const { generation, binding } = input;
      const bound = critical(inGeneration(generation, { type: 'session.bound', payload: { generation, ...binding } }));
      const stopped = stopRuntime(state, 'session_unavailable', input.attempts, binding.detail ?? 'the agent could not create a session');
      return { events: [bound, ...stopped.events], effects: [{ kind: 'stop', generation }] };
    }
    case 'agent_exited':
      return agentExited(state, input.exit);
    case 'engine_lost': {
      if (!isLive(facts, input.generation)) return nothing();
      const note = critical({ type: 'note', payload: { text: `The agent said its engine is gone: ${input.detail}`.slice(0, NOTE_LIMIT) } });
      return { events: [note], effects: [{ kind: 'kill', generation: input.generation, reason: 'engine_lost' }] };
    }
    case 'hang': {
      const { generation, idleMs } = input;
      const hang: AppendInput = { type: 'runtime.hang', payload: { generation, idleMs } };
      return { events: [critical(input.whileStarting ? hang : inGeneration(generation, hang))], effects: [{ kind: 'kill', generation, reason: 'agent_hung' }] };
    }
    case 'protocol_error': {
      const { generation, errorKind, detail, sample, fatal } = input;
      if (facts.live?.generation !== generation) return nothing();
      const body: AppendInput = { type: 'runtime.protocol_error', payload: { generation, kind: errorKind, detail, ...(sample ? { sample } : {}) } };
      return { events: [critical(inGeneration(generation, body))], effects: fatal ? [{ kind: 'kill', generation, reason: 'protocol_error' }] : [] };
    }
    case 'agent_update': {
      if (isStale(state, input.generation)) return nothing();
      const event = eventForUpdate(input.update, state.openTurn?.turn ?? null);
      return event ? { events: [{ body: inGeneration(input.generation, event.body), durability: event.durability }], effects: [] } : nothing();
    }
    case 'recorded':
      if (isStale(state, input.generation)) return nothing();
      return { events: [{ body: inGeneration(input.generation, input.body), durability: input.durability ?? 'critical' }], effects: [] };
    case 'policy_recorded':
      return { events: input.events.map(critical), effects: [] };
    case 'policy_observed':
      if (isStale(state, input.generation)) return nothing();
      return observedDecision(input.generation, input.judgement, isLive(facts, input.generation), (reason, detail) => stopRuntime(state, reason, 0, detail).events);
    case 'turn_finished':
      return turnFinished(state, facts, input);
    case 'permission_requested':
      return permissionRequested(state, facts, input.request);
    case 'approval_decided':
      return approvalDecided(state, facts, input.approvalId, input.decision);
    case 'approval_timed_out':
    case 'approval_withdrawn': {
      const { approvalId } = input;
      if (state.approvals.get(approvalId)?.status !== 'pending') return nothing();
      const body: AppendInput =
        input.kind === 'approval_timed_out'
          ? { type: 'approval.timed_out', payload: { approvalId } }
          : { type: 'approval.cancelled', payload: { approvalId, reason: 'the agent withdrew the request' } };
      return {
        events: [critical(body), ...pendingStateChange(state, facts, state.pendingApprovals.length - 1)],
        effects: [{ kind: 'answer', approvalId, answer: 'cancelled' }],
      };
    }
    case 'prompt':
      return prompt(state, facts, input.text, input.afterStart ?? false);
    case 'cancel': {
      if (!state.openTurn || !facts.live || facts.live.lifecycle === 'exited') return refuse('conflict', 'No turn is running.');
      return {
        events: [critical({ type: 'note', payload: { text: `Cancel requested for turn ${state.openTurn.turn}.` } })],
        effects: [{ kind: 'cancel_turn', generation: facts.live.generation, turn: state.openTurn.turn }],
      };
    }
    case 'cancel_delivered': {
      // ACP: after session/cancel the client answers every pending permission request "cancelled".
      const cancelled = cancelApprovals(state.pendingApprovals, 'the turn was cancelled');
      return { events: [...cancelled.events, ...(cancelled.events.length > 0 ? pendingStateChange(state, facts, 0) : [])], effects: cancelled.effects };
    }
    case 'host_recovered':
      return hostRecovered(state, input);
    case 'cancel_deadline':
      return decideCancelDeadline(state, facts, input);
    case 'checkpoint_taken':
    case 'drift_checked':
    case 'worktree_checked':
    case 'restore_requested':
    case 'restore_finished':
      return checkpointDecision(state, facts, input);
  }
}

function prompt(state: RunState, facts: RuntimeFacts, text: string, afterStart: boolean): Decision {
  if (facts.closed) return refuse('unavailable', 'The run is closed.');
  if (facts.ledgerFailure) return refuse('unavailable', `This run can no longer record events: ${facts.ledgerFailure}`);
  if (state.openTurn) return refuse('conflict', `Turn ${state.openTurn.turn} is still running; cancel it or wait.`);
  if (facts.readOnly) return refuse('forbidden', 'This run is read-only.');
  if (state.state === 'stopped') return refuse('unavailable', 'The agent runtime is stopped; restart it first.');
  if (facts.restartArmed) return refuse('unavailable', 'The agent is restarting; try again in a moment.');
  // Only a generation that finished starting (session bound, earlier turn settled) takes prompts.
  const live = facts.live;
  if (!live || live.lifecycle !== 'ready' || live.killedFor) {
    return afterStart ? refuse('unavailable', 'The agent runtime is stopped; restart it first.') : { ...nothing(), needsStart: true };
  }
  const turn = state.currentTurn + 1;
  const ik = idempotencyKey({ runId: state.runId, turn, text });
  return {
    events: [critical(inGeneration(live.generation, { type: 'prompt.sent', payload: { turn, text, ik } })), runState('running')],
    effects: [{ kind: 'send_turn', generation: live.generation, turn, text: withHandoff(state.handoff, turn, text), ik }],
    reply: { turn, ik },
  };
}

function stopRuntime(state: RunState, stopReason: string, attempts: number, detail: string): Decision {
  return {
    events: [
      critical({ type: 'runtime.stopped', payload: { stopReason, attempts, detail } }),
      ...endOpenTurn(state, stopReason),
      runState('stopped', { stopReason, detail }),
    ],
    effects: [],
  };
}

/**
 * The session is bound (I6); a turn that was in flight when the previous generation died is
 * re-sent only when the agent's own history proves it never arrived (a prompt is never sent
 * twice), otherwise it ends and the next prompt continues the run.
 */
function sessionBound(state: RunState, facts: RuntimeFacts, input: Extract<RunInput, { kind: 'session_bound' }>): Decision {
  const { generation, binding, history } = input;
  if (facts.live?.generation !== generation || facts.live.lifecycle === 'exited') return nothing();
  const bound = critical(inGeneration(generation, { type: 'session.bound', payload: { generation, ...binding } }));
  const ready: Effect = { kind: 'mark_ready', generation };
  const open = state.openTurn;
  // A fresh session of a run with history gets the run so far; the turn that carries it is the open one, or the next.
  const handoffTurn = open?.turn ?? state.currentTurn + 1;
  const handoff = input.handoff
    ? [critical(inGeneration(generation, { type: 'session.handoff', payload: { generation, turn: handoffTurn, text: input.handoff.text, truncated: input.handoff.truncated } }))]
    : [];
  if (!open) return { events: [bound, ...handoff, runState('idle')], effects: [ready] };
  if (input.handoff) {
    // The fresh session never saw the open turn: it gets it once, after the handoff (I6).
    const note = critical({ type: 'note', payload: { text: `Turn ${open.turn} handed to the fresh session of generation ${generation}, with the run so far.` } });
    const text = withHandoff({ turn: open.turn, text: input.handoff.text }, open.turn, open.text);
    return { events: [bound, ...handoff, note, runState('running')], effects: [ready, { kind: 'send_turn', generation, turn: open.turn, text, ik: open.ik }] };
  }
  if (mayResend(history, open)) {
    const note = critical({ type: 'note', payload: { text: `Turn ${open.turn} re-sent to generation ${generation}: the agent's history shows it never received it.` } });
    return { events: [bound, note, runState('running')], effects: [ready, { kind: 'send_turn', generation, turn: open.turn, text: open.text, ik: open.ik }] };
  }
  const reason = state.lastRestartReason ?? 'agent_restarted';
  return { events: [bound, ...endOpenTurn(state, facts.live.killedFor ?? reason), runState('idle', { stopReason: reason })], effects: [ready] };
}

/** A dead generation's open tool calls end visibly: they will never finish. */
function interruptTools(state: RunState, generation: number, reason: string): Event[] {
  const toolCallIds = openToolsOf(state, generation);
  return toolCallIds.length > 0 ? [critical({ type: 'tool.interrupted', payload: { generation, toolCallIds, reason } })] : [];
}

/** What the sweep killed of a generation (processes that had left its group), if anything. */
function sweptEvent(generation: number, processes: Array<{ pid: number; command: string[] }>): Event[] {
  const recorded = processes.slice(0, 1000).map(({ pid, command }) => ({ pid, command: command.slice(0, 64).map((word) => word.slice(0, 4096)) }));
  return recorded.length > 0 ? [critical({ type: 'runtime.swept', payload: { generation, processes: recorded } })] : [];
}

/** A generation ended: recorded; unless Keel stopped it, its waiting approvals orphaned (I5), then a restart or a stop. */
function agentExited(state: RunState, exit: Extract<RunInput, { kind: 'agent_exited' }>['exit']): Decision {
  const { generation, code, signal, expected, stderrTail, killedFor, resetReason, restart, attemptsUsed } = exit;
  // The exit first (as it happened), then what Keel did about what the generation left behind.
  const how = killedFor ?? (expected ? 'Keel stopped the agent' : signal ? `the agent process was killed by ${signal}` : `the agent process exited (code ${code})`);
  const exited = [
    critical(inGeneration(generation, { type: 'runtime.exited', payload: { generation, code, signal, expected, ...(stderrTail ? { stderrTail } : {}) } })),
    ...sweptEvent(generation, exit.swept),
    ...interruptTools(state, generation, how),
  ];
  const orphans = resetReason === null ? [] : pendingOf(state, generation);
  const reset = orphans.length > 0 ? [critical({ type: 'approval.reset', payload: { generation, approvalIds: orphans, reason: resetReason! } })] : [];
  const answers = orphans.map((approvalId): Effect => ({ kind: 'answer', approvalId, answer: 'cancelled' }));
  if (expected) return { events: [...exited, ...reset], effects: answers };
  if (!restart) {
    const fatal = killedFor === 'protocol_error' || killedFor === 'agent_unavailable';
    const stopReason = fatal ? killedFor : 'runtime_stopped';
    const detail = fatal ? stopReasonInfo(stopReason).diagnosis : `The agent exited ${attemptsUsed + 1} times; restarts are exhausted.`;
    const stopped = stopRuntime(state, stopReason, attemptsUsed, detail);
    return { events: [...exited, ...reset, ...stopped.events], effects: answers };
  }
  const reason = killedFor ?? 'agent_restarted';
  return {
    events: [...exited, ...reset, critical({ type: 'runtime.restarting', payload: { nextGeneration: generation + 1, attempt: restart.attempt, delayMs: restart.delayMs, reason } })],
    effects: [...answers, { kind: 'schedule_restart', attempt: restart.attempt, delayMs: restart.delayMs, reason }],
  };
}

function turnFinished(state: RunState, facts: RuntimeFacts, input: Extract<RunInput, { kind: 'turn_finished' }>): Decision {
  const { generation, turn, stopReason, note } = input;
  // Stale (I6), or a generation Keel is killing: its exit decides how the turn ends.
  if (state.openTurn?.turn !== turn || !isLive(facts, generation) || isStale(state, generation)) return nothing();
  const noted = note ? [critical({ ...(input.noteGeneration ? { generation } : {}), type: 'note', payload: { text: note.slice(0, NOTE_LIMIT) } } as AppendInput)] : [];
  const cancelled = cancelApprovals(state.pendingApprovals, `turn ${turn} ended (${stopReason})`);
  return {
    events: [
      ...noted,
      ...cancelled.events,
      critical(inGeneration(generation, { type: 'turn.ended', payload: { turn, stopReason } })),
      runState('idle', { stopReason }),
    ],
    effects: cancelled.effects,
  };
}

/**
 * An agent (or Keel on its behalf) asks to act. Answered at once when the run's mode decides
 * it or a person already decided the same action in an earlier generation (carry-over, I5);
 * otherwise recorded as waiting for a person, with a timeout.
 */
function permissionRequested(state: RunState, facts: RuntimeFacts, request: Extract<RunInput, { kind: 'permission_requested' }>['request']): Decision {
  const { approvalId, generation, action, reason, source, insideWorkspace } = request;
  if (isStale(state, generation)) return refuse('unavailable', 'This agent process has been replaced; the request is dropped.');
  const key = actionKey(action);
  const base = { approvalId, generation, ...(state.openTurn ? { turn: state.openTurn.turn } : {}), action, actionKey: key, reason, source };
  // The policy first (I8): its allow and deny answer at once; nothing overrides a deny.
  const policy = request.policy;
  const settled = policy ? settleByPolicy({ ...request, policy }) : null;
  if (settled) return settled;
  const judged = policy ? [policyDecidedEvent({ ...request, policy })] : [];
  const requested = (extra: object = {}) =>
    critical(inGeneration(generation, { type: 'approval.requested', payload: { ...base, ...(policy ? { policy: policy.context } : {}), ...extra } }));
  const auto = policy ? askAnsweredByMode(state.approvalMode) : autoDecision(state.approvalMode, action, insideWorkspace);
  const earlier = state.decisions.get(key);
  const carry = earlier && (earlier.decision === 'allow_run' || (!earlier.carried && earlier.generation < generation)) ? earlier : null;
  if (auto || carry) {
    const decision = carry ? carry.decision : auto!;
    const decided = carry
      ? { approvalId, decision, by: 'carryover' as const, ref: carry.approvalId, note: 'the same action was decided earlier in this run' }
      : { approvalId, decision, by: 'auto' as const, note: state.approvalMode === 'interactive' ? 'reads are allowed' : `non-interactive run (--approve ${state.approvalMode})` };
    return {
      events: [...judged, requested(), critical({ type: 'approval.decided', payload: decided })],
      effects: [{ kind: 'answer', approvalId, answer: toAnswer(decision), ...(decision === 'deny' ? {} : { grant: action }) }],
    };
  }
  const timeoutMs = facts.approvalTimeoutMs;
  return {
    events: [...judged, requested(timeoutMs > 0 ? { timeoutMs } : {}), ...pendingStateChange(state, facts, state.pendingApprovals.length + 1)],
    effects: timeoutMs > 0 ? [{ kind: 'arm_approval_timer', approvalId, timeoutMs }] : [],
  };
}

/** A person decided. Recorded first; applied only to the generation that asked, if it lives (I5). */
function approvalDecided(state: RunState, facts: RuntimeFacts, approvalId: string, decision: ApprovalDecision): Decision {
  const request = state.approvals.get(approvalId);
  if (!request) return refuse('not_found', `No approval ${approvalId} in this run.`);
  if (request.status !== 'pending' && request.status !== 'orphaned') return refuse('conflict', `Approval ${approvalId} was already settled.`);
  const waiting = request.status === 'pending';
  const decided = critical({
    type: 'approval.decided',
    payload: { approvalId, decision, by: 'user', ...(waiting ? {} : { note: 'the process that asked is gone; applied when the same action is asked again' }) },
  });
  if (!waiting) return { events: [decided], effects: [] };
  const live = isLive(facts, request.generation);
  const answer: Effect = live
    ? { kind: 'answer', approvalId, answer: toAnswer(decision), ...(decision === 'deny' ? {} : { grant: request.action }) }
    : { kind: 'answer', approvalId, answer: 'cancelled' };
  return { events: [decided, ...pendingStateChange(state, facts, state.pendingApprovals.length - 1)], effects: [answer] };
}

/** After a host crash or a storage failure (I4): waiting requests orphaned, the open turn ended, the run waits for a prompt. */
function hostRecovered(state: RunState, input: Extract<RunInput, { kind: 'host_recovered' }>): Decision {
  const { previousState, hostPid, swept, cause } = input;
  const reason = cause.reason;
  const detail = cause.reason === 'storage_failed' ? `${stopReasonInfo(reason).diagnosis} (${cause.detail})` : stopReasonInfo(reason).diagnosis;
  const events: Event[] = [critical({ type: 'run.recovered', payload: { reason, previousState, ...(hostPid ? { hostPid } : {}) } })];
  const resetReason = reason === 'storage_failed' ? 'Keel could not record events (storage failed) while the request was pending' : 'Keel stopped while the request was pending';
  for (let generation = 1; generation <= state.generation; generation++) {
    events.push(...sweptEvent(generation, swept.get(generation) ?? []));
    events.push(...interruptTools(state, generation, reason));
    const approvalIds = pendingOf(state, generation);
    if (approvalIds.length > 0) events.push(critical({ type: 'approval.reset', payload: { generation, approvalIds, reason: resetReason } }));
  }
  events.push(...endOpenTurn(state, reason), runState('interrupted', { stopReason: reason, detail: detail.slice(0, NOTE_LIMIT) }));
  return { events, effects: [] };
}
