import type { AppendInput } from '../contract/index.js';
import type { RunState } from '../replay/index.js';
import type { Decision, RunInput, RuntimeFacts } from './inputs.js';

/**
 * How long an agent gets to end a cancelled turn by itself (ACP `session/cancel`, Codex
 * `turn/interrupt`) before Keel stops its process and ends the turn `cancelled`. A well-behaved
 * agent answers within a second; a hung one never does.
 */
export const CANCEL_GRACE_MS = 5_000;

/** An agent that ignored the cancel gets this long per step (stdin closed, then SIGTERM) before SIGKILL. */
export const STOP_GRACE_AFTER_CANCEL_MS = 300;

/** How long the cancel effect waits for the adapter to deliver the cancel before moving on. */
export const CANCEL_DELIVERY_MS = 2_000;

type CancelDeadline = Extract<RunInput, { kind: 'cancel_deadline' }>;
type Event = Decision['events'][number];
const critical = (body: AppendInput): Event => ({ body, durability: 'critical' });

/**
 * The cancel's deadline passed (or the user pressed Force stop) and the cancelled turn is still
 * open on the same generation: the turn ends `cancelled` now, visibly, and the generation is
 * stopped (an expected stop: no restart, no restart budget spent). The next prompt starts a new
 * generation through the normal resume path. Pure, like the rest of the decider.
 */
export function decideCancelDeadline(state: RunState, facts: RuntimeFacts, input: CancelDeadline): Decision {
  const { generation, turn, forced } = input;
  const live = facts.live;
  const stillOpen = state.openTurn?.turn === turn && live !== null && live.generation === generation && live.lifecycle !== 'exited';
  if (!stillOpen) {
    return forced ? { events: [], effects: [], error: { code: 'conflict', message: 'No turn is running.' } } : { events: [], effects: [] };
  }
  const why = forced
    ? `Force stop: Keel stopped the agent's process (generation ${generation}) without waiting for it to finish turn ${turn}.`
    : `The agent did not stop within ${Math.round(CANCEL_GRACE_MS / 1000)} s of the cancel: Keel stopped its process (generation ${generation}) and ended turn ${turn}.`;
  return {
    events: [
      critical({ type: 'note', payload: { text: why } }),
      critical({ type: 'turn.ended', payload: { turn, stopReason: 'cancelled' } }),
      critical({ type: 'run.state', payload: { state: 'idle', stopReason: 'cancelled', detail: 'The next prompt starts the agent again and continues the run.' } }),
    ],
    effects: [{ kind: 'stop', generation, graceMs: STOP_GRACE_AFTER_CANCEL_MS }],
  };
}

/** Arms the deadline of one cancelled turn; firing when the turn already ended does nothing. */
export function armCancelDeadline(dispatch: (input: RunInput) => Promise<unknown>, generation: number, turn: number, ms = CANCEL_GRACE_MS): void {
  const timer = setTimeout(() => {
    dispatch({ kind: 'cancel_deadline', generation, turn, forced: false }).catch(() => {});
  }, ms);
  timer.unref?.();
}

/** Resolves when `delivery` does or after `ms`, whichever is first: a hung adapter must not hold the cancel. */
export function boundedDelivery(delivery: Promise<unknown> | undefined, ms = CANCEL_DELIVERY_MS): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref?.();
  });
  return Promise.race([Promise.resolve(delivery).then(() => {}), late]).finally(() => clearTimeout(timer));
}
