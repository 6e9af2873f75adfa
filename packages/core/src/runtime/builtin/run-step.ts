import path from 'node:path';
import type { TerminalHandle, TerminalOutputResponse, WaitForTerminalExitResponse } from '@agentclientprotocol/sdk';
import { textContent } from './reporter.js';
import type { RunStep } from './script.js';
import { toolCallId, type StepContext, type StepOutcome } from './step-context.js';
import { errorText, failTool } from './tool-report.js';

const OUTPUT_BYTE_LIMIT = 1024 * 1024;

const shellWord = (word: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * tool_call (execute) -> the client's terminal: create, wait_for_exit, output, release.
 * Completed when the command exits 0, failed otherwise; the turn goes on either way.
 * `session/cancel` kills the command.
 */
export async function runStep(step: RunStep, ctx: StepContext): Promise<StepOutcome> {
  const { command } = step.run;
  const args = step.run.args ?? [];
  const cwd = path.resolve(ctx.state.cwd, step.run.cwd ?? '.');
  const id = toolCallId(ctx, 'run');
  await ctx.reporter.update({
    sessionUpdate: 'tool_call',
    toolCallId: id,
    title: `Run ${[command, ...args].map(shellWord).join(' ')}`,
    kind: 'execute',
    status: 'in_progress',
    rawInput: { command, args, cwd },
  });
  if (!ctx.clientCapabilities.terminal) return failTool(ctx, id, 'The client does not offer terminals.');

  let terminal: TerminalHandle;
  try {
    terminal = await ctx.client.createTerminal({ sessionId: ctx.state.sessionId, command, args, cwd, outputByteLimit: OUTPUT_BYTE_LIMIT });
  } catch (error) {
    return failTool(ctx, id, `Starting the command failed: ${errorText(error)}`);
  }
  let exit: WaitForTerminalExitResponse;
  let output: TerminalOutputResponse;
  const kill = () => void terminal.kill().catch(() => undefined);
  ctx.signal.addEventListener('abort', kill, { once: true });
  try {
    await ctx.reporter.update({ sessionUpdate: 'tool_call_update', toolCallId: id, content: [{ type: 'terminal', terminalId: terminal.id }] });
    exit = await terminal.waitForExit();
    output = await terminal.currentOutput();
  } catch (error) {
    return failTool(ctx, id, `The command's terminal failed: ${errorText(error)}`);
  } finally {
    ctx.signal.removeEventListener('abort', kill);
    await terminal.release().catch((error: unknown) => ctx.log(`terminal ${terminal.id}: release failed (${errorText(error)})`));
  }

  const exitCode = exit.exitCode ?? null;
  const signal = exit.signal ?? null;
  // The client truncates from the beginning, so the note goes first.
  let text = output.truncated ? `[output truncated]\n${output.output}` : output.output;
  if (exitCode !== 0) {
    const separator = text === '' || text.endsWith('\n') ? '' : '\n';
    text += `${separator}[exited with ${exitCode === null ? `signal ${signal ?? 'unknown'}` : `code ${exitCode}`}]`;
  }
  await ctx.reporter.update({
    sessionUpdate: 'tool_call_update',
    toolCallId: id,
    status: exitCode === 0 ? 'completed' : 'failed',
    content: [textContent(text)],
    rawOutput: { exitCode, signal, truncated: output.truncated },
  });
  return 'continue';
}
