import fs from 'node:fs';
import path from 'node:path';
import type { ReadStep, WriteStep } from './script.js';
import { textContent } from './reporter.js';
import { toolCallId, type StepContext, type StepOutcome } from './step-context.js';
import { errorText, failTool } from './tool-report.js';

/** The diff's old side. Read from disk directly: it is display only, not an action to authorise. */
function currentText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** tool_call (edit) -> `fs/write_text_file` -> completed with a diff, or failed (the turn goes on). */
export async function writeStep(step: WriteStep, ctx: StepContext): Promise<StepOutcome> {
  const target = path.resolve(ctx.state.cwd, step.write.path);
  const { content } = step.write;
  const id = toolCallId(ctx, 'write');
  await ctx.reporter.update({
    sessionUpdate: 'tool_call',
    toolCallId: id,
    title: `Write ${step.write.path}`,
    kind: 'edit',
    status: 'in_progress',
    locations: [{ path: target }],
    rawInput: { path: target, content },
  });
  if (!ctx.clientCapabilities.fs?.writeTextFile) return failTool(ctx, id, 'The client does not offer fs/write_text_file.');
  const oldText = currentText(target);
  try {
    await ctx.client.request('fs/write_text_file', { sessionId: ctx.state.sessionId, path: target, content });
  } catch (error) {
    return failTool(ctx, id, `Writing ${target} failed: ${errorText(error)}`);
  }
  await ctx.reporter.update({
    sessionUpdate: 'tool_call_update',
    toolCallId: id,
    status: 'completed',
    content: [{ type: 'diff', path: target, oldText, newText: content }],
  });
  return 'continue';
}

/** tool_call (read) -> `fs/read_text_file` -> completed with the text, or failed. */
export async function readStep(step: ReadStep, ctx: StepContext): Promise<StepOutcome> {
  const target = path.resolve(ctx.state.cwd, step.read.path);
  const id = toolCallId(ctx, 'read');
  await ctx.reporter.update({
    sessionUpdate: 'tool_call',
    toolCallId: id,
    title: `Read ${step.read.path}`,
    kind: 'read',
    status: 'in_progress',
    locations: [{ path: target }],
    rawInput: { path: target },
  });
  if (!ctx.clientCapabilities.fs?.readTextFile) return failTool(ctx, id, 'The client does not offer fs/read_text_file.');
  let text: string;
  try {
    ({ content: text } = await ctx.client.request('fs/read_text_file', { sessionId: ctx.state.sessionId, path: target }));
  } catch (error) {
    return failTool(ctx, id, `Reading ${target} failed: ${errorText(error)}`);
  }
  await ctx.reporter.update({ sessionUpdate: 'tool_call_update', toolCallId: id, status: 'completed', content: [textContent(text)] });
  return 'continue';
}
