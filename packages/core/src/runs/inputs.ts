import type { Action, AppendInput, ApprovalDecision, ProtocolErrorKind, SessionOutcome } from '../contract/index.js';
import type { PolicyJudgement } from './policy-gate.js';
import type { AgentUpdate, GenerationExit, GenerationLifecycle, PermissionAnswer, SessionBinding, SessionHistory } from '../runtime/index.js';
import type { CheckpointEffect, CheckpointInput } from './checkpoint-decisions.js';

export type { GenerationExit, GenerationLifecycle, SessionBinding };

/** Everything that can happen to a run: the decider's inputs. */
export type RunInput =
  // ---- from the user (procedures) ----
  | { kind: 'start'; reason: string }
  | { kind: 'prompt'; text: string; afterStart?: boolean }
  | { kind: 'cancel' }
  | { kind: 'approval_decided'; approvalId: string; decision: ApprovalDecision }
  // ---- from the supervisor (a generation's lifecycle) ----
  | { kind: 'agent_spawned'; generation: number; pid: number; command: string[]; hostPid: number; tag: string }
  | { kind: 'spawn_failed'; command: string[]; detail: string; attempts: number }
  | { kind: 'start_failed'; generation: number; message: string }
  | { kind: 'session_bound'; generation: number; binding: SessionBinding; history: SessionHistory | null; handoff?: { text: string; truncated: boolean } | null }
  /** The agent said its engine or session is gone mid-turn (a runtime failure, not an agent answer). */
  | { kind: 'engine_lost'; generation: number; detail: string }
  | { kind: 'session_unavailable'; generation: number; binding: SessionBinding; attempts: number }
  | { kind: 'agent_exited'; exit: GenerationExit }
  | { kind: 'hang'; generation: number; idleMs: number; whileStarting: boolean }
  | { kind: 'protocol_error'; generation: number; errorKind: ProtocolErrorKind; detail: string; sample?: string; fatal: boolean }
  // ---- from the agent (one generation's requests and reports) ----
  | { kind: 'agent_update'; generation: number; update: AgentUpdate }
  | { kind: 'turn_finished'; generation: number; turn: number; stopReason: string; note?: string; noteGeneration?: boolean }
  | { kind: 'permission_requested'; request: PermissionRequest }
  | { kind: 'cancel_delivered' }
  /** A cancelled turn's deadline passed, or the user pressed Force stop (`forced`). */
  | { kind: 'cancel_deadline'; generation: number; turn: number; forced: boolean }
  | { kind: 'recorded'; generation: number; body: AppendInput; durability?: 'critical' | 'stream' }
  // ---- the policy (runs/policy-gate.ts judges; the decider records and applies) ----
  /** The policy in force was (re)loaded, or a file refused: recorded as they are. */
  | { kind: 'policy_recorded'; events: AppendInput[] }
  /** A tool call the agent made without asking, judged after the fact. */
  | { kind: 'policy_observed'; generation: number; judgement: PolicyJudgement }
  // ---- timers ----
  | { kind: 'approval_timed_out'; approvalId: string }
  | { kind: 'approval_withdrawn'; approvalId: string }
  // ---- reconciliation after a host crash ----
  | {
      kind: 'host_recovered';
      previousState: string;
      hostPid: number | null;
      swept: ReadonlyMap<number, Array<{ pid: number; command: string[] }>>;
      /** Why the last host left the run live: it died, or its storage failed (with what the disk said). */
      cause: { reason: 'host_interrupted' } | { reason: 'storage_failed'; detail: string };
    }
  // ---- checkpoints (their effects report back) ----
  | CheckpointInput;

export interface PermissionRequest {
  /** Made by whoever asks (ids are not the decider's to invent: it stays deterministic). */
  approvalId: string;
  generation: number;
  action: Action;
  reason: string;
  source: 'agent' | 'keel';
  /** Every path the action touches resolves inside the workspace. */
  insideWorkspace: boolean;
  /** What the policy says (absent: decided as before policies, by the run's approval mode). */
  policy?: PolicyJudgement;
}

/** What the decider knows about the process side when it decides (runtime facts, not run state). */
export interface RuntimeFacts {
  /** The generation Keel talks to, if any. */
  live: { generation: number; lifecycle: GenerationLifecycle; killedFor: string | null } | null;
  /** A restart timer is armed. */
  restartArmed: boolean;
  closed: boolean;
  readOnly: boolean;
  /** The ledger refused a write: nothing more can be recorded. */
  ledgerFailure: string | null;
  approvalTimeoutMs: number;
}

/** What must happen after a decision's events are durable. */
export type Effect =
  | { kind: 'spawn'; generation: number; reason: string }
  | { kind: 'initialize'; generation: number }
  | { kind: 'mark_ready'; generation: number }
  | { kind: 'send_turn'; generation: number; turn: number; text: string; ik: string }
  | { kind: 'cancel_turn'; generation: number; turn: number }
  | { kind: 'answer'; approvalId: string; answer: PermissionAnswer; grant?: Action }
  | { kind: 'arm_approval_timer'; approvalId: string; timeoutMs: number }
  | { kind: 'kill'; generation: number; reason: string }
  | { kind: 'stop'; generation: number; graceMs?: number }
  | { kind: 'schedule_restart'; attempt: number; delayMs: number; reason: string }
  | CheckpointEffect;

export interface Decision<Reply = unknown> {
  events: Array<{ body: AppendInput; durability: 'critical' | 'stream' }>;
  effects: Effect[];
  reply?: Reply;
  /** Refused: nothing is recorded and nothing happens; the caller gets this error. */
  error?: { code: 'conflict' | 'unavailable' | 'forbidden' | 'not_found'; message: string };
  /** The prompt needs a ready generation first: start one, then ask again. */
  needsStart?: boolean;
}
