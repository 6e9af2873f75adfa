import type { AgentContext, ClientCapabilities } from '@agentclientprotocol/sdk';
import type { Log } from './log.js';
import type { Reporter } from './reporter.js';
import type { SessionState } from './session-store.js';

/** What a step may use while it runs. */
export interface StepContext {
  client: AgentContext;
  clientCapabilities: ClientCapabilities;
  state: SessionState;
  reporter: Reporter;
  /** Aborted by `session/cancel`. */
  signal: AbortSignal;
  /** 1-based number of the running step within its turn. */
  stepNumber: number;
  /** Sends an agent message and records it in the session history. */
  say(text: string, pieces?: number): Promise<void>;
  /** Records agent text that was already streamed. */
  record(text: string, messageId: string): void;
  log: Log;
}

/** continue: next step; stop: end the turn now (end_turn); cancelled: end it as cancelled. */
export type StepOutcome = 'continue' | 'stop' | 'cancelled';

/** Stable across restarts, so a resumed step asks about (and reports) the same tool call. */
export function toolCallId(ctx: StepContext, what: string): string {
  return `${what}-${ctx.state.turn + 1}-${ctx.stepNumber}`;
}
