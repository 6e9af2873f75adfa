import { textContent } from './reporter.js';
import type { StepContext, StepOutcome } from './step-context.js';

export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Marks a tool call failed with a reason; a failed tool does not end the turn. */
export async function failTool(ctx: StepContext, id: string, message: string): Promise<StepOutcome> {
  ctx.log(`tool ${id} failed: ${message}`);
  await ctx.reporter.update({ sessionUpdate: 'tool_call_update', toolCallId: id, status: 'failed', content: [textContent(message)] });
  return 'continue';
}
