import { randomUUID } from 'node:crypto';
import type { AgentContext, ClientCapabilities, StopReason } from '@agentclientprotocol/sdk';
import { fireFaultsAt } from './fault-injector.js';
import type { FaultPlan } from './faults.js';
import type { Log } from './log.js';
import { Reporter } from './reporter.js';
import type { Script } from './script.js';
import type { SessionState, SessionStore } from './session-store.js';
import type { StepContext } from './step-context.js';
import { executeStep } from './steps.js';
import type { StdoutSink } from './stdout-sink.js';

export interface TurnDeps {
  script: Script;
  plan: FaultPlan;
  store: SessionStore;
  sink: StdoutSink;
  log: Log;
  clientCapabilities: ClientCapabilities;
}

export interface UserPrompt {
  text: string;
  meta?: Record<string, unknown>;
}

export const NO_MORE_TURNS = 'The script has no more turns.';
export const resumingMessage = (stepNumber: number) => `Resuming where I stopped (step ${stepNumber}).`;

/**
 * Answers one `session/prompt`: runs the current turn of the script from its persisted next
 * step (resuming an interrupted turn), saving the session after every step. A cancelled turn
 * counts as finished: the next prompt starts the next turn.
 */
export async function runPrompt(deps: TurnDeps, client: AgentContext, state: SessionState, prompt: UserPrompt, signal: AbortSignal): Promise<StopReason> {
  const save = () => deps.store.save(state);
  const reporter = new Reporter(client, state.sessionId, deps.plan.slowStreamMs, signal);
  const record = (text: string, messageId: string) => void state.history.push({ role: 'agent', text, messageId });
  const say = async (text: string, pieces = 1) => record(text, await reporter.message(text, pieces));

  state.history.push({ role: 'user', text: prompt.text, messageId: randomUUID(), ...(prompt.meta ? { meta: prompt.meta } : {}) });
  save();
  const turn = deps.script.turns[state.turn];
  const turnNumber = state.turn + 1;
  deps.log(`session ${state.sessionId}: prompt for turn ${turnNumber}${turn ? ` from step ${state.step + 1}` : ' (none left)'}`);
  if (!turn) {
    await say(NO_MORE_TURNS);
    save();
    return 'end_turn';
  }
  if (state.step > 0) {
    await say(resumingMessage(state.step + 1));
    save();
  }

  const finishTurn = () => {
    state.turn += 1;
    state.step = 0;
  };
  for (let index = state.step; index < turn.steps.length; index++) {
    if (signal.aborted) {
      finishTurn();
      save();
      return 'cancelled';
    }
    const stepNumber = index + 1;
    await fireFaultsAt(stepNumber, { plan: deps.plan, state, store: deps.store, sink: deps.sink, reporter, log: deps.log });
    const ctx: StepContext = { client, clientCapabilities: deps.clientCapabilities, state, reporter, signal, stepNumber, say, record, log: deps.log };
    const outcome = await executeStep(turn.steps[index]!, ctx);
    state.step = stepNumber;
    const done = outcome !== 'continue' || stepNumber === turn.steps.length;
    if (done) finishTurn();
    save();
    if (done) {
      deps.log(`session ${state.sessionId}: turn ${turnNumber} ended after step ${stepNumber} (${outcome === 'continue' ? 'complete' : outcome})`);
      break;
    }
  }
  return signal.aborted ? 'cancelled' : 'end_turn';
}
