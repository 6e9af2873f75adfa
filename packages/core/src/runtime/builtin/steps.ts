import { randomUUID } from 'node:crypto';
import { readStep, writeStep } from './fs-steps.js';
import { askPermission } from './permission.js';
import { runStep } from './run-step.js';
import type { Step, StreamStep } from './script.js';
import { sleep } from './sleep.js';
import type { StepContext, StepOutcome } from './step-context.js';

/** `count` chunks of one message; cancellation is checked between chunks (a long step). */
async function streamStep(step: StreamStep, ctx: StepContext): Promise<StepOutcome> {
  const { count, text = 'Streaming line', delayMs = 0 } = step.stream;
  const messageId = randomUUID();
  let sent = '';
  for (let i = 1; i <= count && !ctx.signal.aborted; i++) {
    const piece = `${text} ${i} of ${count}.\n`;
    await ctx.reporter.chunk('agent_message_chunk', piece, messageId, delayMs);
    sent += piece;
  }
  if (sent) ctx.record(sent, messageId);
  return ctx.signal.aborted ? 'cancelled' : 'continue';
}

export async function executeStep(step: Step, ctx: StepContext): Promise<StepOutcome> {
  if ('thought' in step) {
    await ctx.reporter.thought(step.thought);
    return 'continue';
  }
  if ('message' in step) {
    await ctx.say(step.message, step.chunks);
    return 'continue';
  }
  if ('plan' in step) {
    const entries = step.plan.map(({ content, status, priority }) => ({ content, status, priority: priority ?? 'medium' }));
    await ctx.reporter.update({ sessionUpdate: 'plan', entries });
    return 'continue';
  }
  if ('permission' in step) return askPermission(step, ctx);
  if ('write' in step) return writeStep(step, ctx);
  if ('read' in step) return readStep(step, ctx);
  if ('run' in step) return runStep(step, ctx);
  if ('stream' in step) return streamStep(step, ctx);
  await sleep(step.sleep, ctx.signal);
  return 'continue';
}
