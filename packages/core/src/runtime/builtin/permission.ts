import path from 'node:path';
import type { PermissionOption, RequestPermissionRequest, RequestPermissionResponse } from '@agentclientprotocol/sdk';
import type { PermissionStep } from './script.js';
import { toolCallId, type StepContext, type StepOutcome } from './step-context.js';

export const PERMISSION_OPTIONS: PermissionOption[] = [
  { optionId: 'allow-once', name: 'Allow once', kind: 'allow_once' },
  { optionId: 'allow-always', name: 'Always allow', kind: 'allow_always' },
  { optionId: 'reject-once', name: 'Reject', kind: 'reject_once' },
];

type Decision = 'granted' | 'granted_always' | 'denied' | 'dismissed' | 'cancelled';

function decisionOf(response: RequestPermissionResponse, signal: AbortSignal): Decision {
  if (response.outcome.outcome === 'cancelled') return signal.aborted ? 'cancelled' : 'dismissed';
  const optionId = response.outcome.optionId;
  const kind = PERMISSION_OPTIONS.find((option) => option.optionId === optionId)?.kind;
  if (kind === 'allow_once') return 'granted';
  if (kind === 'allow_always') return 'granted_always';
  return 'denied';
}

/**
 * `session/request_permission` describing the action the way a real agent does: kind, title,
 * rawInput (command/args/cwd, path/paths) and absolute locations.
 */
export async function askPermission(step: PermissionStep, ctx: StepContext): Promise<StepOutcome> {
  const { kind, title, paths = [], command, args } = step.permission;
  const cwd = ctx.state.cwd;
  const absolute = paths.map((file) => path.resolve(cwd, file));
  const rawInput = {
    ...(command === undefined ? {} : { command, args: args ?? [], cwd }),
    ...(absolute.length > 0 ? { path: absolute[0], paths: absolute } : {}),
  };
  const key = JSON.stringify([kind, title, absolute, command ?? null, args ?? []]);
  if (ctx.state.alwaysAllowed.includes(key)) {
    ctx.log(`permission "${title}": allowed earlier with allow_always; not asking again`);
    return 'continue';
  }

  let decision: Decision;
  try {
    const request: RequestPermissionRequest = {
      sessionId: ctx.state.sessionId,
      toolCall: { toolCallId: toolCallId(ctx, 'permission'), title, kind, status: 'pending', rawInput, locations: absolute.map((file) => ({ path: file })) },
      options: PERMISSION_OPTIONS,
    };
    const response = await ctx.client.request('session/request_permission', request);
    decision = decisionOf(response, ctx.signal);
  } catch (error) {
    // A client that cannot answer has not granted anything.
    ctx.log(`permission "${title}": the request failed (${(error as Error).message}); treating it as denied`);
    decision = ctx.signal.aborted ? 'cancelled' : 'denied';
  }
  ctx.log(`permission "${title}": ${decision}`);

  if (decision === 'granted') return 'continue';
  if (decision === 'granted_always') {
    ctx.state.alwaysAllowed.push(key);
    return 'continue';
  }
  if (decision === 'cancelled') return 'cancelled';
  const what = decision === 'dismissed' ? 'was cancelled' : 'was denied';
  if ((step.onDeny ?? 'stop') === 'stop') {
    await ctx.say(`Permission to "${title}" ${what}, so I am stopping this turn.`);
    return 'stop';
  }
  await ctx.say(`Permission to "${title}" ${what}; continuing without it.`);
  return 'continue';
}
