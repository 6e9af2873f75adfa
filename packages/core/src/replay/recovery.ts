import { stopReasonInfo, type PayloadOf, type ProtocolErrorKind, type SessionOutcome } from '../contract/index.js';

/**
 * The sentences of the recovery cards (I9): built once here, in the fold, so the CLI, the
 * UI and a diagnostics bundle say the same thing about the same ledger. Each is one
 * sentence a user can read without knowing the event names.
 */

/** 20 ms, 1.5 s, 2 min. */
export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** `awaiting_approval` -> `awaiting approval`. */
const words = (name: string) => name.replace(/_/g, ' ');

/** Appends a period unless the text already ends a sentence. */
const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

/** A reason to embed mid-sentence: without its own final period. */
const clause = (text: string) => text.replace(/\.+$/, '');

export function agentExitedText({ generation, code, signal }: PayloadOf<'runtime.exited'>): string {
  // A wrapper (npm) can exit 0 when its native child was killed: an exit Keel did not ask for is a crash.
  const how =
    signal !== null ? `was killed by ${signal}` : code === 0 ? 'exited (code 0) without being asked to; Keel treats that as a crash' : code !== null ? `exited with code ${code}` : 'exited';
  return `Agent process #${generation} ${how}.`;
}

export function restartingText({ delayMs, attempt }: PayloadOf<'runtime.restarting'>): string {
  return `Restarting the agent in ${duration(delayMs)} (attempt ${attempt}).`;
}

export function agentStartedText({ generation }: PayloadOf<'runtime.started'>): string {
  return `Agent process #${generation} started.`;
}

const SESSION_TEXT: Record<Exclude<SessionOutcome, 'new' | 'fresh'>, string> = {
  replayed: 'Session restored (replayed by the agent).',
  restored: 'Session restored.',
  unavailable: 'No session could be bound.',
};

/** Never silently fresh (I6): a fresh session says why. */
export function sessionText({ outcome, remapped }: PayloadOf<'session.bound'>): string {
  if (outcome === 'fresh') {
    return remapped
      ? 'The agent had lost the session; Keel started a fresh one (remapped once).'
      : 'A fresh session: the agent cannot restore sessions.';
  }
  if (outcome === 'new') return 'A new session.';
  const text = SESSION_TEXT[outcome];
  return remapped ? `${text.slice(0, -1)}, even after remapping once.` : text;
}

export function approvalsResetText({ approvalIds, reason }: PayloadOf<'approval.reset'>): string {
  const what = approvalIds.length === 1 ? '1 pending approval was reset' : `${plural(approvalIds.length, 'pending approval', 'pending approvals')} were reset`;
  return `${what}: ${clause(reason)}. Decide ${approvalIds.length === 1 ? 'it' : 'them'} again; Keel applies your decision when the agent asks again.`;
}

export function hostRecoveredText({ previousState }: PayloadOf<'run.recovered'>): string {
  return `Keel had stopped while this run was ${words(previousState)}; the run was marked interrupted and resumes with the next prompt.`;
}

/** The stop-reason registry's diagnosis (unknown codes read as internal errors there). */
export function runtimeStoppedText({ stopReason }: PayloadOf<'runtime.stopped'>): string {
  return sentence(stopReasonInfo(stopReason).diagnosis);
}

export function hangText({ generation, idleMs }: PayloadOf<'runtime.hang'>): string {
  return `The agent (process #${generation}) did not respond for ${duration(idleMs)}; Keel stopped it.`;
}

const PROTOCOL_ERROR_TEXT: Record<ProtocolErrorKind, string> = {
  garbage: 'a line that is not JSON',
  invalid_utf8: 'a line that is not valid UTF-8',
  oversize: 'a message over the size limit',
  invalid_message: 'a message that is not valid JSON-RPC',
  rpc_error: 'a message Keel could not handle',
};

export function protocolErrorText({ generation, kind }: PayloadOf<'runtime.protocol_error'>): string {
  return `The agent (process #${generation}) sent ${PROTOCOL_ERROR_TEXT[kind]}.`;
}

export function promptSkippedText({ turn, reason }: PayloadOf<'prompt.skipped'>): string {
  return sentence(`Prompt for turn ${turn} not re-sent: ${reason}`);
}

export function handoffText({ turn, text, truncated }: PayloadOf<'session.handoff'>): string {
  const size = `${Math.max(1, Math.round(text.length / 1024))} KB`;
  return `Keel gave the fresh session the run so far from the ledger (${size}${truncated ? ', oldest parts cut' : ''}), with turn ${turn}.`;
}

export function sweptText({ generation, processes }: PayloadOf<'runtime.swept'>): string {
  const what = processes.length === 1 ? '1 process' : `${processes.length} processes`;
  return `Keel stopped ${what} that agent process #${generation} had started and that had left its process group.`;
}
