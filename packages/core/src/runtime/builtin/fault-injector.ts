import { randomUUID } from 'node:crypto';
import { RequestError } from '@agentclientprotocol/sdk';
import { ENGINE_GONE_MESSAGE, FAULT_EXIT_CODE, formatFault, type FaultPlan, type StepFault } from './faults.js';
import type { Log } from './log.js';
import type { Reporter } from './reporter.js';
import type { SessionState, SessionStore } from './session-store.js';
import { never } from './sleep.js';
import type { StdoutSink } from './stdout-sink.js';

const GARBAGE_LINE = Buffer.from('keel-builtin garbage fault: this line is not JSON {');
// A lone continuation byte, a truncated sequence and two bytes that never occur in UTF-8.
const INVALID_UTF8_LINE = Buffer.concat([Buffer.from('keel-builtin invalid-utf8 fault: '), Buffer.from([0x80, 0xc3, 0x28, 0xfe, 0xff])]);

let hung = false;

/** True once a hang fault fired: every handler then stops answering. */
export const isHung = () => hung;

function hangForever(): Promise<never> {
  if (!hung) {
    hung = true;
    // A hung agent stays alive (a timer), so only the host's watchdog can end it.
    setInterval(() => undefined, 1 << 30);
  }
  return never();
}

/**
 * Thrown by `engine-gone-at-step` out of the running turn: the SDK answers the prompt with it
 * (code -32603, "Internal error: " + ENGINE_GONE_MESSAGE), and the agent forgets the session, as
 * claude-agent-acp does when its engine dies.
 */
export class EngineGoneFault extends RequestError {
  constructor() {
    super(-32603, `Internal error: ${ENGINE_GONE_MESSAGE}`);
  }
}

export interface FaultContext {
  plan: FaultPlan;
  state: SessionState;
  store: SessionStore;
  sink: StdoutSink;
  reporter: Reporter;
  log: Log;
}

async function fire(fault: StepFault, ctx: FaultContext): Promise<void> {
  switch (fault.kind) {
    case 'garbage-at-step':
      return ctx.sink.writeRawLine(GARBAGE_LINE);
    case 'invalid-utf8-at-step':
      return ctx.sink.writeRawLine(INVALID_UTF8_LINE);
    case 'big-message-at-step':
      return ctx.reporter.chunk('agent_message_chunk', 'x'.repeat(fault.bytes ?? 0), randomUUID());
    case 'hang-at-step':
      return hangForever();
    case 'engine-gone-at-step':
      throw new EngineGoneFault();
    case 'exit-at-step':
      await ctx.sink.idle();
      process.exit(FAULT_EXIT_CODE);
  }
}

/**
 * Fires the faults planned before step `stepNumber`. A once-per-session fault is recorded in
 * the session file before it acts, so a crash it causes cannot make it fire again.
 */
export async function fireFaultsAt(stepNumber: number, ctx: FaultContext): Promise<void> {
  for (const fault of ctx.plan.at(stepNumber)) {
    const id = formatFault(fault);
    const fired = ctx.state.firedFaults.includes(id);
    if (fired && !fault.always) continue;
    if (!fired) {
      ctx.state.firedFaults.push(id);
      ctx.store.save(ctx.state);
    }
    ctx.log(`fault ${id} fires before step ${stepNumber} of turn ${ctx.state.turn + 1} (session ${ctx.state.sessionId})`);
    await fire(fault, ctx);
  }
}
