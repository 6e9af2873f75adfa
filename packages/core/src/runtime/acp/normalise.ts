import type { PermissionOption, SessionUpdate, ToolCallContent, ToolCallUpdate } from '@agentclientprotocol/sdk';
import type { Action } from '../../contract/schemas/ledger.js';
import type { AgentUpdate, PermissionAnswer } from '../adapter.js';

const asRecord = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function commandOf(input: Record<string, unknown>): { command?: string; args?: string[] } {
  const command = input.command ?? input.cmd;
  if (typeof command === 'string') {
    const args = Array.isArray(input.args) ? input.args.filter((arg): arg is string => typeof arg === 'string') : undefined;
    return args ? { command, args } : { command };
  }
  if (Array.isArray(command) && command.every((part) => typeof part === 'string')) {
    const [head, ...rest] = command as string[];
    return head === undefined ? {} : { command: head, args: rest };
  }
  return {};
}

function pathsOf(toolCall: ToolCallUpdate, input: Record<string, unknown>): string[] {
  const fromLocations = (toolCall.locations ?? []).map((location) => location.path);
  const fromInput = ['path', 'file_path', 'filePath', 'abs_path'].map((key) => asString(input[key])).filter((path): path is string => Boolean(path));
  return [...new Set([...fromLocations, ...fromInput])];
}

/**
 * Turns an ACP permission request's tool call into Keel's Action. Unknown tool kinds become
 * `generic` actions (shown as a generic card), never an error.
 */
export function actionOf(toolCall: ToolCallUpdate, workspace: string): Action {
  const input = asRecord(toolCall.rawInput);
  const title = toolCall.title ?? toolCall.kind ?? 'Agent action';
  const kind = toolCall.kind ?? 'other';
  const base = { title, source: `acp:${kind}` };
  switch (kind) {
    case 'execute': {
      const { command, args } = commandOf(input);
      const cwd = asString(input.cwd) ?? workspace;
      return { kind: 'exec', ...base, ...(command ? { command } : { command: title }), ...(args ? { args } : {}), cwd };
    }
    case 'edit':
    case 'delete':
    case 'move':
      return { kind: 'write', ...base, paths: pathsOf(toolCall, input) };
    case 'read':
    case 'search':
      return { kind: 'read', ...base, paths: pathsOf(toolCall, input) };
    case 'fetch':
      return { kind: 'network', ...base, ...(asString(input.url) ? { detail: asString(input.url)! } : {}) };
    default:
      return { kind: 'generic', ...base, ...(toolCall.rawInput === undefined ? {} : { detail: JSON.stringify(toolCall.rawInput).slice(0, 2000) }) };
  }
}

/** Picks the agent's option that matches Keel's answer, falling back to the nearest kind. */
export function optionFor(answer: PermissionAnswer, options: PermissionOption[]): string | null {
  const preference: Record<Exclude<PermissionAnswer, 'cancelled'>, string[]> = {
    allow_once: ['allow_once', 'allow_always'],
    allow_always: ['allow_always', 'allow_once'],
    deny: ['reject_once', 'reject_always'],
  };
  if (answer === 'cancelled') return null;
  for (const kind of preference[answer]) {
    const option = options.find((candidate) => candidate.kind === kind);
    if (option) return option.optionId;
  }
  return null;
}

function textOf(content: ToolCallContent[] | null | undefined): string {
  return (content ?? [])
    .map((item) => (item.type === 'content' && item.content.type === 'text' ? item.content.text : ''))
    .join('');
}

const blockText = (block: { type: string; text?: string; uri?: string | null }) =>
  block.type === 'text' ? (block.text ?? '') : block.type === 'resource_link' ? `[${block.uri ?? 'resource'}]` : `[${block.type}]`;

/**
 * Translates one `session/update` into Keel updates. ACP tool content replaces earlier
 * content, while Keel's fold appends output: `seenOutput` keeps what was already reported per
 * tool call so only the new part is sent.
 */
export function updatesOf(update: SessionUpdate, seenOutput: Map<string, string>): AgentUpdate[] {
  switch (update.sessionUpdate) {
    case 'agent_message_chunk':
      return [{ kind: 'message', text: blockText(update.content) }];
    case 'agent_thought_chunk':
      return [{ kind: 'thought', text: blockText(update.content) }];
    case 'user_message_chunk':
      return [{ kind: 'user_message', text: blockText(update.content), ...(update.messageId ? { messageId: update.messageId } : {}) }];
    case 'plan':
      return [{ kind: 'plan', entries: update.entries.map(({ content, status, priority }) => ({ content, status, priority })) }];
    case 'tool_call': {
      seenOutput.set(startedKey(update.toolCallId), '');
      const started: AgentUpdate = {
        kind: 'tool_started',
        toolCallId: update.toolCallId,
        title: update.title,
        ...(update.kind ? { toolKind: update.kind } : {}),
        ...(update.rawInput === undefined ? {} : { input: update.rawInput }),
      };
      return [started, ...toolUpdates(update, seenOutput)];
    }
    case 'tool_call_update':
      return toolUpdates(update, seenOutput);
    default:
      return [];
  }
}

/** The `seenOutput` key that says a tool call was announced (a later start restates it). */
const startedKey = (toolCallId: string) => `started:${toolCallId}`;

function toolUpdates(update: ToolCallUpdate, seenOutput: Map<string, string>): AgentUpdate[] {
  const updates: AgentUpdate[] = [];
  // Some agents (Claude Code) announce a call with a placeholder and send its real title and
  // input in an update: restate the call so the ledger holds what actually ran.
  if ('sessionUpdate' in update && update.sessionUpdate === 'tool_call_update' && (update.title || update.rawInput !== undefined)) {
    // Marked when the call was announced before, so a window of the transcript knows the start
    // changes an item it may not hold (replay/keyed-touch.ts) rather than adding one.
    const restated = seenOutput.has(startedKey(update.toolCallId));
    seenOutput.set(startedKey(update.toolCallId), '');
    updates.push({
      kind: 'tool_started',
      toolCallId: update.toolCallId,
      title: update.title ?? '',
      ...(update.kind ? { toolKind: update.kind } : {}),
      ...(update.rawInput === undefined ? {} : { input: update.rawInput }),
      ...(restated ? { restated: true as const } : {}),
    });
  }
  const full = textOf(update.content);
  const seen = seenOutput.get(update.toolCallId) ?? '';
  let output: string | undefined;
  if (full.length > 0 && full !== seen) {
    output = full.startsWith(seen) ? full.slice(seen.length) : `\n${full}`;
    seenOutput.set(update.toolCallId, full);
  }
  const status = update.status ?? undefined;
  if (status || output) {
    updates.push({ kind: 'tool_updated', toolCallId: update.toolCallId, ...(status ? { status } : {}), ...(output ? { output } : {}) });
  }
  for (const item of update.content ?? []) {
    if (item.type === 'terminal') {
      // Agents may repeat the embedded terminal on every update: record the link once.
      const key = `terminal:${update.toolCallId}:${item.terminalId}`;
      if (!seenOutput.has(key)) {
        seenOutput.set(key, '');
        updates.push({ kind: 'tool_updated', toolCallId: update.toolCallId, terminalId: item.terminalId });
      }
    }
    if (item.type !== 'diff') continue;
    updates.push({ kind: 'tool_updated', toolCallId: update.toolCallId, diff: { path: item.path, oldText: item.oldText ?? null, newText: item.newText } });
  }
  return updates;
}
