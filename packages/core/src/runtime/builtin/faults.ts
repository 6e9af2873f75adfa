/**
 * Fault knobs of the built-in agent. Syntax (one per `--fault` argument or script entry):
 *
 *   exit-at-step=N[:always]              exit(17) before step N of a turn
 *   hang-at-step=N[:always]              stop responding before step N (process stays alive)
 *   engine-gone-at-step=N[:always]       before step N, answer the running session/prompt with
 *                                        Claude Code's "engine died" error and forget the
 *                                        session (process stays alive; session/load restores it)
 *   garbage-at-step=N[:always]           write one non-JSON line to stdout before step N
 *   invalid-utf8-at-step=N[:always]      write one line with invalid UTF-8 before step N
 *   big-message-at-step=N[:BYTES][:always]  one agent_message_chunk of BYTES (default 1 MiB)
 *   slow-stream=MS                       delay between any two streamed chunks
 *   none                                 (arguments only) drop the script's faults
 *
 * N counts the steps of a turn from 1. A step fault fires once per session (recorded in the
 * session file before it acts) unless `always` is given.
 */
export type StepFaultKind = 'exit-at-step' | 'hang-at-step' | 'engine-gone-at-step' | 'garbage-at-step' | 'invalid-utf8-at-step' | 'big-message-at-step';

export interface StepFault {
  kind: StepFaultKind;
  step: number;
  always: boolean;
  /** big-message-at-step only. */
  bytes?: number;
}

export interface SlowStreamFault {
  kind: 'slow-stream';
  delayMs: number;
}

export type Fault = StepFault | SlowStreamFault;

export const DEFAULT_BIG_MESSAGE_BYTES = 1024 * 1024;

/** The exit code of `exit-at-step` (distinct from crashes, usage errors and signals). */
export const FAULT_EXIT_CODE = 17;

/**
 * What `engine-gone-at-step` answers, word for word what claude-agent-acp 0.49.0 answers a
 * prompt when its native `claude` process died (dist/acp-agent.js), as a JSON-RPC internal
 * error (-32603, "Internal error: <this>").
 */
export const ENGINE_GONE_MESSAGE = 'The Claude Agent process exited unexpectedly. Please start a new session.';

const STEP_KINDS: readonly StepFaultKind[] = ['exit-at-step', 'hang-at-step', 'engine-gone-at-step', 'garbage-at-step', 'invalid-utf8-at-step', 'big-message-at-step'];

export class FaultSpecError extends Error {
  constructor(spec: string, reason: string) {
    super(`Invalid fault "${spec}": ${reason}`);
    this.name = 'FaultSpecError';
  }
}

const positiveInt = (text: string | undefined): number | null => (text !== undefined && /^[1-9][0-9]*$/.test(text) ? Number(text) : null);
const nonNegativeInt = (text: string | undefined): number | null => (text !== undefined && /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : null);

export function parseFault(spec: string): Fault {
  const equals = spec.indexOf('=');
  if (equals < 0) throw new FaultSpecError(spec, 'expected KIND=VALUE');
  const kind = spec.slice(0, equals);
  const parts = spec.slice(equals + 1).split(':');
  if (kind === 'slow-stream') {
    const delayMs = nonNegativeInt(parts[0]);
    if (delayMs === null || parts.length !== 1) throw new FaultSpecError(spec, 'slow-stream takes a delay in milliseconds, e.g. slow-stream=20');
    return { kind, delayMs };
  }
  if (!(STEP_KINDS as readonly string[]).includes(kind)) {
    throw new FaultSpecError(spec, `unknown kind "${kind}"; expected one of ${[...STEP_KINDS, 'slow-stream'].join(', ')}`);
  }
  const stepKind = kind as StepFaultKind;
  const step = positiveInt(parts[0]);
  if (step === null) throw new FaultSpecError(spec, 'the step number must be an integer >= 1');
  const fault: StepFault = { kind: stepKind, step, always: false };
  for (const option of parts.slice(1)) {
    if (option === 'always' && !fault.always) fault.always = true;
    else if (stepKind === 'big-message-at-step' && fault.bytes === undefined && positiveInt(option) !== null) fault.bytes = positiveInt(option)!;
    else throw new FaultSpecError(spec, `unexpected option "${option}"`);
  }
  if (stepKind === 'big-message-at-step') fault.bytes ??= DEFAULT_BIG_MESSAGE_BYTES;
  return fault;
}

/** The canonical spelling, used as the key recorded when a fault fired. */
export function formatFault(fault: Fault): string {
  if (fault.kind === 'slow-stream') return `slow-stream=${fault.delayMs}`;
  const bytes = fault.kind === 'big-message-at-step' ? `:${fault.bytes}` : '';
  return `${fault.kind}=${fault.step}${bytes}${fault.always ? ':always' : ''}`;
}

/**
 * The faults in effect: the script's, except that a kind given on the command line replaces
 * every script fault of that kind, and `none` drops all of the script's.
 */
export function mergeFaults(scriptSpecs: readonly string[], argSpecs: readonly string[]): Fault[] {
  const fromArgs = argSpecs.filter((spec) => spec !== 'none').map(parseFault);
  const fromScript = argSpecs.includes('none') ? [] : scriptSpecs.map(parseFault);
  const overridden = new Set(fromArgs.map((fault) => fault.kind));
  return [...fromScript.filter((fault) => !overridden.has(fault.kind)), ...fromArgs];
}

export interface FaultPlan {
  /** Step faults in firing order for one step: non-fatal ones first, then engine-gone, hang, exit. */
  at(step: number): StepFault[];
  /** Extra delay between two streamed chunks (0 when off). */
  readonly slowStreamMs: number;
  readonly all: readonly Fault[];
}

const FIRING_ORDER: readonly StepFaultKind[] = ['garbage-at-step', 'invalid-utf8-at-step', 'big-message-at-step', 'engine-gone-at-step', 'hang-at-step', 'exit-at-step'];

export function faultPlan(faults: readonly Fault[]): FaultPlan {
  const stepFaults = faults.filter((fault): fault is StepFault => fault.kind !== 'slow-stream');
  const slow = faults.filter((fault): fault is SlowStreamFault => fault.kind === 'slow-stream');
  return {
    all: faults,
    slowStreamMs: slow.reduce((max, fault) => Math.max(max, fault.delayMs), 0),
    at: (step) =>
      stepFaults.filter((fault) => fault.step === step).sort((a, b) => FIRING_ORDER.indexOf(a.kind) - FIRING_ORDER.indexOf(b.kind)),
  };
}
