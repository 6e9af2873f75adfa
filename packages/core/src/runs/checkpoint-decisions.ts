import type {
  AppendInput,
  CheckpointCreatedPayload,
  CheckpointRestoreCompletedPayload,
  CheckpointRestoreFailedPayload,
  CheckpointRestoreRequestedPayload,
  CheckpointSkippedPayload,
  DepsChangedPayload,
  WorkspaceDriftPayload,
  WorkspaceWorktreePayload,
} from '../contract/index.js';
import { stopReasonInfo } from '../contract/index.js';
import type { RunState } from '../replay/index.js';
import type { Decision, RunInput, RuntimeFacts } from './inputs.js';

/**
 * The run core's checkpoint decisions (issue 12, ADR 0008), pure like the decider: which
 * checkpoint effects a decision needs (a baseline before turn 1, one at every turn end however
 * the turn ended), what a checkpoint's outcome records, what a lockfile change outside the
 * policy does, and when a restore may run.
 */

/** A package a turn added or moved that the policy's `deps` section does not allow. */
export interface DepsViolation {
  name: string;
  version: string;
  lockfile: string;
  why: string;
}

/** What the checkpoint effects report back (inputs of the decider). */
export type CheckpointInput =
  | {
      kind: 'checkpoint_taken';
      turn: number;
      outcome: { kind: 'created'; payload: CheckpointCreatedPayload } | { kind: 'skipped'; payload: CheckpointSkippedPayload };
      deps: DepsChangedPayload | null;
      /** Checked against the policy's `deps` section (empty when it has none). */
      violations: DepsViolation[];
      /** warn_above exceeded, or the policy could not be read: recorded as a note. */
      warnings: string[];
    }
  | { kind: 'drift_checked'; drift: WorkspaceDriftPayload }
  | { kind: 'worktree_checked'; worktree: WorkspaceWorktreePayload }
  | { kind: 'restore_requested'; request: CheckpointRestoreRequestedPayload }
  | { kind: 'restore_finished'; outcome: { kind: 'completed'; payload: CheckpointRestoreCompletedPayload } | { kind: 'failed'; payload: CheckpointRestoreFailedPayload } };

/** What happens after a checkpoint decision is durable (runs/checkpoint-effects.ts). */
export type CheckpointEffect =
  /** Take the checkpoint of `turn` unless one (created or skipped) is already recorded or under way. */
  | { kind: 'checkpoint'; turn: number }
  /** Compare the worktree with the run's latest checkpoint (a resume). */
  | { kind: 'drift_check' }
  | { kind: 'restore'; turn: number; files: string[] | null };

type Event = Decision['events'][number];
const critical = (body: AppendInput): Event => ({ body, durability: 'critical' });
const refuse = (code: NonNullable<Decision['error']>['code'], message: string): Decision => ({ events: [], effects: [], error: { code, message } });

/** An approval Keel asks for a lockfile change carries this in its action's `source`. */
export const LOCKFILE_APPROVAL_SOURCE = 'keel.lockfile';

const listed = (violations: readonly DepsViolation[]): string => {
  const shown = violations.slice(0, 20).map((v) => `${v.name}@${v.version} (${v.lockfile})`);
  return `${shown.join(', ')}${violations.length > 20 ? ` and ${violations.length - 20} more` : ''}`;
};

/**
 * Adds the checkpoint effects a decision needs, from the events it records: a `turn.ended`
 * (agent end, cancel, crash, host-crash reconciliation) checkpoints that turn; the first start
 * of a run with no turn yet takes the baseline (turn 0); a start of a run that has turns checks
 * for drift; a `prompt.sent` for turn N makes sure turn N-1's checkpoint exists (a no-op when it
 * was taken). A deps approval denied by a person stops the run with `lockfile_violation`; the
 * next prompt is refused while such an approval waits.
 */
export function withCheckpointEffects(state: RunState, facts: RuntimeFacts, input: RunInput, decision: Decision): Decision {
  if (decision.error || facts.readOnly) return decision;
  if (input.kind === 'prompt' && lockfileApprovalPending(state)) {
    return refuse('conflict', 'A dependency change of the last turn waits for your decision; allow or deny it first.');
  }
  const effects: CheckpointEffect[] = [];
  const extra: Event[] = [];
  const stops: Decision['effects'] = [];
  for (const { body } of decision.events) {
    if (body.type === 'turn.ended') effects.push({ kind: 'checkpoint', turn: body.payload.turn });
    if (body.type === 'prompt.sent') effects.unshift({ kind: 'checkpoint', turn: body.payload.turn - 1 });
  }
  // A restart mid-turn is not a resume: the agent's own changes are the open turn's.
  if (input.kind === 'start' && !state.openTurn && decision.effects.some((effect) => effect.kind === 'spawn')) {
    // The drift check also checks a run's own worktree; with no checkpoint yet it finds no drift.
    effects.unshift({ kind: 'drift_check' }, ...(state.currentTurn === 0 ? [{ kind: 'checkpoint' as const, turn: 0 }] : []));
  }
  if (input.kind === 'approval_decided' && input.decision === 'deny') {
    const request = state.approvals.get(input.approvalId);
    if (request?.action.source === LOCKFILE_APPROVAL_SOURCE && request.status === 'pending') {
      const detail = `${stopReasonInfo('lockfile_violation').diagnosis} ${request.action.detail ?? ''}`.trim().slice(0, 4000);
      extra.push(critical({ type: 'run.state', payload: { state: 'stopped', stopReason: 'lockfile_violation', detail } }));
      if (facts.live && facts.live.lifecycle !== 'exited') stops.push({ kind: 'stop', generation: facts.live.generation });
    }
  }
  if (effects.length === 0 && extra.length === 0) return decision;
  return { ...decision, events: [...decision.events, ...extra], effects: [...effects, ...decision.effects, ...stops] };
}

function lockfileApprovalPending(state: RunState): boolean {
  return state.pendingApprovals.some((id) => state.approvals.get(id)?.action.source === LOCKFILE_APPROVAL_SOURCE);
}

/** Decides the checkpoint inputs. */
export function checkpointDecision(state: RunState, facts: RuntimeFacts, input: CheckpointInput): Decision {
  switch (input.kind) {
    case 'checkpoint_taken':
      return checkpointTaken(state, facts, input);
    case 'worktree_checked':
      return { events: [critical({ type: 'workspace.worktree', payload: input.worktree })], effects: [] };
    case 'drift_checked':
      return input.drift.count > 0 ? { events: [critical({ type: 'workspace.drift', payload: input.drift })], effects: [] } : { events: [], effects: [] };
    case 'restore_requested': {
      if (facts.closed) return refuse('unavailable', 'The run is closed.');
      if (facts.readOnly) return refuse('forbidden', 'This run is read-only.');
      if (state.openTurn) return refuse('conflict', `Turn ${state.openTurn.turn} is running; a restore waits until no turn is active (cancel it or wait).`);
      if (state.state === 'starting') return refuse('conflict', 'The agent is starting; restore once it is ready.');
      return {
        events: [critical({ type: 'checkpoint.restore_requested', payload: input.request })],
        effects: [{ kind: 'restore', turn: input.request.targetTurn, files: input.request.files }],
      };
    }
    case 'restore_finished':
      return input.outcome.kind === 'completed'
        ? { events: [critical({ type: 'checkpoint.restore_completed', payload: input.outcome.payload })], effects: [] }
        : { events: [critical({ type: 'checkpoint.restore_failed', payload: input.outcome.payload })], effects: [] };
  }
}

function checkpointTaken(state: RunState, facts: RuntimeFacts, input: Extract<CheckpointInput, { kind: 'checkpoint_taken' }>): Decision {
  const events: Event[] =
    input.outcome.kind === 'created'
      ? [critical({ type: 'checkpoint.created', payload: input.outcome.payload })]
      : [critical({ type: 'checkpoint.skipped', payload: input.outcome.payload })];
  if (input.deps) events.push(critical({ type: 'deps.changed', payload: input.deps }));
  for (const warning of input.warnings) events.push(critical({ type: 'note', payload: { text: warning.slice(0, 90_000) } }));
  if (input.violations.length === 0 || facts.closed) return { events, effects: [] };
  const what = `Turn ${input.turn} changed dependencies the policy does not allow: ${listed(input.violations)}.`;
  const why = input.violations[0]!.why;
  if (state.approvalMode === 'interactive' && state.generation > 0) {
    // Asks: the next prompt waits for the answer; deny stops the run (withCheckpointEffects).
    const approvalId = `deps-${state.runId}-${input.turn}`;
    if (state.approvals.has(approvalId)) return { events, effects: [] };
    const action = { kind: 'generic' as const, title: `Keep the dependency changes of turn ${input.turn}?`, source: LOCKFILE_APPROVAL_SOURCE, detail: `${what} ${why}`.slice(0, 4000) };
    const body: AppendInput = {
      type: 'approval.requested',
      generation: state.generation,
      payload: { approvalId, generation: state.generation, action, actionKey: `lockfile:${input.turn}`, reason: `${what} ${why}`.slice(0, 4000), source: 'keel' },
    } as AppendInput;
    events.push(critical(body));
    return { events, effects: [] };
  }
  // Unattended: the run stops with a registered reason.
  const detail = `${what} ${stopReasonInfo('lockfile_violation').diagnosis}`.slice(0, 4000);
  events.push(critical({ type: 'note', payload: { text: `${what} ${why}`.slice(0, 90_000) } }));
  events.push(critical({ type: 'run.state', payload: { state: 'stopped', stopReason: 'lockfile_violation', detail } }));
  const live = facts.live;
  return { events, effects: live && live.lifecycle !== 'exited' ? [{ kind: 'stop', generation: live.generation }] : [] };
}
