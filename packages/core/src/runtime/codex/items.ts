import type { AgentUpdate } from '../adapter.js';
import { diffOfChange } from './diffs.js';
import { parseItem, type FileUpdateChange, type GenericItem, type KnownItem, type NotificationParams, type ParsedItem } from './protocol.js';
import { unwrapShellCommand } from './shell-words.js';

type ToolStatus = 'pending' | 'in_progress' | 'completed' | 'failed';
type PlanStatus = 'pending' | 'in_progress' | 'completed';

/** Codex item statuses (`inProgress | completed | failed | declined`) as Keel's; declined reads as failed. */
export function toolStatus(status: unknown): ToolStatus | undefined {
  switch (status) {
    case 'inProgress':
      return 'in_progress';
    case 'completed':
      return 'completed';
    case 'failed':
    case 'declined':
      return 'failed';
    default:
      return undefined;
  }
}

const planStatus = (status: string): PlanStatus => (status === 'inProgress' ? 'in_progress' : status === 'completed' ? 'completed' : 'pending');

/** Item types that are tool calls Keel shows as such (other generic items are not shown). */
const TOOL_ITEMS = new Set(['mcpToolCall', 'dynamicToolCall', 'webSearch', 'imageView', 'imageGeneration', 'collabAgentToolCall']);

function genericTitle(item: GenericItem): string {
  const text = (key: string) => (typeof item[key] === 'string' ? (item[key] as string) : undefined);
  switch (item.type) {
    case 'mcpToolCall':
      return `${text('server') ?? 'mcp'}: ${text('tool') ?? 'tool'}`;
    case 'dynamicToolCall':
      return text('tool') ?? 'tool';
    case 'webSearch':
      return `Search the web${text('query') ? `: ${text('query')}` : ''}`;
    case 'imageView':
      return `View ${text('path') ?? 'image'}`;
    default:
      return item.type;
  }
}

const toolKindOf = (type: string) => (type === 'webSearch' ? 'fetch' : 'other');
const userText = (item: Extract<KnownItem, { type: 'userMessage' }>) =>
  item.content
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('\n');

function started(parsed: ParsedItem): AgentUpdate[] {
  if (!parsed.known) {
    const item = parsed.item;
    if (!item.id || !TOOL_ITEMS.has(item.type)) return [];
    return [{ kind: 'tool_started', toolCallId: item.id, title: genericTitle(item), toolKind: toolKindOf(item.type) }];
  }
  const item = parsed.item;
  if (item.type === 'commandExecution') {
    const command = unwrapShellCommand(item.command);
    return [{ kind: 'tool_started', toolCallId: item.id, title: command, toolKind: 'execute', input: { command, cwd: item.cwd ?? undefined } }];
  }
  if (item.type === 'fileChange') {
    const paths = item.changes.map((change) => change.path);
    return [
      { kind: 'tool_started', toolCallId: item.id, title: `Edit ${paths.join(', ') || 'files'}`, toolKind: 'edit', input: { paths } },
      ...item.changes.map((change): AgentUpdate => ({ kind: 'tool_updated', toolCallId: item.id, diff: diffOfChange(change) })),
    ];
  }
  return [];
}

/** The rest of `full` after what was streamed (all of it if nothing was, nothing if they disagree). */
function remainder(full: string, streamed: string | undefined): string {
  if (!streamed) return full;
  return full.startsWith(streamed) ? full.slice(streamed.length) : '';
}

/**
 * Translates one thread's item notifications into AgentUpdates. Codex streams deltas and then
 * sends the completed item; the completed item only adds what the deltas did not carry.
 */
export class ItemTranslator {
  private readonly streamed = new Map<string, string>();
  private readonly changes = new Map<string, FileUpdateChange[]>();
  private readonly announced = new Set<string>();

  /** File changes Codex announced for an item (a file-change approval names only the item). */
  fileChanges(itemId: string): FileUpdateChange[] | undefined {
    return this.changes.get(itemId);
  }

  private stream(itemId: string, delta: string): void {
    this.streamed.set(itemId, (this.streamed.get(itemId) ?? '') + delta);
  }

  itemStarted(params: NotificationParams<'item/started'>): AgentUpdate[] | { error: string } {
    const parsed = parseItem(params.item);
    if ('error' in parsed) return parsed;
    if (parsed.known && parsed.item.type === 'fileChange') this.changes.set(parsed.item.id, parsed.item.changes);
    const updates = started(parsed);
    if (updates.length > 0 && parsed.item.id) this.announced.add(parsed.item.id);
    return updates;
  }

  itemCompleted(params: NotificationParams<'item/completed'>): AgentUpdate[] | { error: string } {
    const parsed = parseItem(params.item);
    if ('error' in parsed) return parsed;
    const updates = this.completed(parsed);
    if (parsed.item.id) {
      this.streamed.delete(parsed.item.id);
      this.announced.delete(parsed.item.id);
    }
    return updates;
  }

  /** The updates for a finished item (used live and for replay). */
  completed(parsed: ParsedItem): AgentUpdate[] {
    if (!parsed.known) {
      const item = parsed.item;
      if (!item.id || !TOOL_ITEMS.has(item.type)) return [];
      const opening = this.announced.has(item.id) ? [] : started(parsed);
      return [...opening, { kind: 'tool_updated', toolCallId: item.id, status: toolStatus(item.status) ?? 'completed' }];
    }
    const item = parsed.item;
    const seen = this.streamed.get(item.id);
    switch (item.type) {
      case 'userMessage':
        return []; // Keel's own prompt, already recorded by the host.
      case 'agentMessage':
      case 'plan': {
        const text = remainder(item.text, seen);
        return text ? [{ kind: 'message', text }] : [];
      }
      case 'reasoning': {
        const text = seen ? '' : [...item.summary, ...(item.summary.length === 0 ? item.content : [])].join('\n\n');
        return text ? [{ kind: 'thought', text }] : [];
      }
      case 'commandExecution': {
        const opening = this.announced.has(item.id) ? [] : started(parsed);
        const output = remainder(item.aggregatedOutput ?? '', seen);
        const status = toolStatus(item.status) ?? 'completed';
        return [...opening, { kind: 'tool_updated', toolCallId: item.id, status, ...(output ? { output } : {}) }];
      }
      case 'fileChange': {
        const opening = this.announced.has(item.id) ? [] : started(parsed);
        return [...opening, { kind: 'tool_updated', toolCallId: item.id, status: toolStatus(item.status) ?? 'completed' }];
      }
    }
  }

  agentMessageDelta(params: { itemId: string; delta: string }): AgentUpdate[] {
    this.stream(params.itemId, params.delta);
    return [{ kind: 'message', text: params.delta }];
  }

  reasoningDelta(params: { itemId: string; delta: string }): AgentUpdate[] {
    this.stream(params.itemId, params.delta);
    return [{ kind: 'thought', text: params.delta }];
  }

  /** A new reasoning summary section: separate it from the previous one. */
  reasoningPart(params: NotificationParams<'item/reasoning/summaryPartAdded'>): AgentUpdate[] {
    if (params.summaryIndex === 0 || !this.streamed.get(params.itemId)) return [];
    return this.reasoningDelta({ itemId: params.itemId, delta: '\n\n' });
  }

  outputDelta(params: { itemId: string; delta: string }): AgentUpdate[] {
    this.stream(params.itemId, params.delta);
    return [{ kind: 'tool_updated', toolCallId: params.itemId, output: params.delta }];
  }

  patchUpdated(params: NotificationParams<'item/fileChange/patchUpdated'>): AgentUpdate[] {
    this.changes.set(params.itemId, params.changes);
    return params.changes.map((change) => ({ kind: 'tool_updated', toolCallId: params.itemId, diff: diffOfChange(change) }));
  }

  plan(params: NotificationParams<'turn/plan/updated'>): AgentUpdate[] {
    return [{ kind: 'plan', entries: params.plan.map((step) => ({ content: step.step, status: planStatus(step.status) })) }];
  }

  /** Forget per-turn state (a new turn starts). */
  reset(): void {
    this.streamed.clear();
    this.changes.clear();
    this.announced.clear();
  }
}

/** One stored item of a resumed thread as the updates a live turn would have produced. */
export function replayItem(parsed: ParsedItem): AgentUpdate[] {
  if (parsed.known && parsed.item.type === 'userMessage') {
    const clientId = parsed.item.clientId ?? undefined;
    return [{ kind: 'user_message', text: userText(parsed.item), ...(clientId ? { clientId } : {}) }];
  }
  return new ItemTranslator().completed(parsed);
}

export { userText };
