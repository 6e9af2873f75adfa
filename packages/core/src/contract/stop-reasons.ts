import { z } from 'zod';

export const StopFamily = z.enum(['completed', 'user', 'agent', 'runtime', 'protocol', 'host']);
export type StopFamily = z.infer<typeof StopFamily>;

export interface StopReasonInfo {
  readonly code: string;
  readonly family: StopFamily;
  /** `keel run` exits with this code when the run stops for this reason. */
  readonly exitCode: number;
  /** One sentence a user can act on. */
  readonly diagnosis: string;
  /** Keel may continue the run by itself (e.g. with the next prompt) without a decision. */
  readonly autoResumable: boolean;
}

const reason = (code: string, family: StopFamily, exitCode: number, autoResumable: boolean, diagnosis: string): StopReasonInfo => ({
  code,
  family,
  exitCode,
  diagnosis,
  autoResumable,
});

/**
 * Every way a turn or a run can stop, in one place (I9): the CLI's exit code, the UI's
 * diagnosis and the scorecard all read this table.
 */
export const STOP_REASONS = {
  end_turn: reason('end_turn', 'completed', 0, false, 'The agent finished the turn.'),
  cancelled: reason('cancelled', 'user', 130, false, 'The turn was cancelled.'),
  max_tokens: reason('max_tokens', 'agent', 2, false, 'The agent reached its output token limit; ask it to continue.'),
  max_turn_requests: reason('max_turn_requests', 'agent', 2, false, 'The agent reached its limit of model requests for one turn.'),
  refusal: reason('refusal', 'agent', 2, false, 'The agent refused to continue.'),
  agent_error: reason('agent_error', 'agent', 2, false, 'The agent answered the prompt with an error; its message is in the transcript.'),
  agent_restarted: reason(
    'agent_restarted',
    'runtime',
    3,
    true,
    'The agent process died during the turn; Keel restarted it and reconnected it to the same conversation, then continues the run (or send the next prompt).',
  ),
  engine_lost: reason(
    'engine_lost',
    'runtime',
    3,
    true,
    'The agent said its engine or session was gone; Keel restarted it and reconnected it to the same conversation, then continues the run (or send the next prompt).',
  ),
  agent_hung: reason('agent_hung', 'runtime', 4, true, 'The agent stopped responding during the turn; Keel restarted it.'),
  runtime_stopped: reason(
    'runtime_stopped',
    'runtime',
    3,
    false,
    'The agent process kept dying and Keel stopped restarting it. Check its stderr log, then restart the runtime.',
  ),
  agent_unavailable: reason('agent_unavailable', 'runtime', 6, false, 'The agent could not be started: the command was not found or failed at once.'),
  session_unavailable: reason('session_unavailable', 'runtime', 7, false, 'The agent could neither restore nor create a session.'),
  protocol_error: reason('protocol_error', 'protocol', 5, false, 'The agent broke the protocol (an unreadable or oversized message); Keel stopped it.'),
  lockfile_violation: reason(
    'lockfile_violation',
    'user',
    11,
    false,
    "A turn changed a lockfile with packages the policy's deps section does not allow; review the turn's diff, restore its checkpoint or change the policy, then restart the runtime.",
  ),
  host_interrupted: reason('host_interrupted', 'host', 8, true, 'Keel itself stopped while the run was active; the run resumes with the next prompt.'),
  storage_failed: reason(
    'storage_failed',
    'host',
    9,
    false,
    'Keel could not write to its data directory (a full or failing disk), so it stopped the run: nothing after that point was recorded. Free space, then reopen Keel.',
  ),
  policy_violation: reason(
    'policy_violation',
    'host',
    10,
    false,
    'The agent did something the policy denies without asking, and the policy says on_violation: stop; see the policy decisions, then restart the runtime.',
  ),
  internal_error: reason('internal_error', 'host', 1, false, 'Keel hit an internal error; see the app log.'),
} as const satisfies Record<string, StopReasonInfo>;

export type StopReasonCode = keyof typeof STOP_REASONS;
export const StopReasonCode = z.enum(Object.keys(STOP_REASONS) as [StopReasonCode, ...StopReasonCode[]]);

/** The registry entry for a code; unknown codes (from a newer build) read as internal errors. */
export function stopReasonInfo(code: string): StopReasonInfo {
  return (STOP_REASONS as Record<string, StopReasonInfo>)[code] ?? { ...STOP_REASONS.internal_error, code };
}
