import type { AppendInput } from '../contract/index.js';
import type { AgentUpdate } from '../runtime/index.js';

/** The ledger event an agent update becomes (null: nothing to record), in the open turn. */
export function eventForUpdate(update: AgentUpdate, turn: number | null): { body: AppendInput; durability: 'critical' | 'stream' } | null {
  const inTurn = turn !== null ? { turn } : {};
  switch (update.kind) {
    case 'message':
      return { body: { type: 'message.chunk', payload: { ...inTurn, text: update.text } }, durability: 'stream' };
    case 'thought':
      return { body: { type: 'thought.chunk', payload: { ...inTurn, text: update.text } }, durability: 'stream' };
    case 'plan':
      return { body: { type: 'plan.updated', payload: { entries: update.entries } }, durability: 'critical' };
    case 'tool_started':
      return {
        body: {
          type: 'tool.started',
          payload: {
            toolCallId: update.toolCallId,
            title: update.title,
            ...(update.toolKind ? { kind: update.toolKind } : {}),
            ...(update.input === undefined ? {} : { input: update.input }),
            ...(update.restated ? { restated: true as const } : {}),
          },
        },
        durability: 'critical',
      };
    case 'tool_updated':
      return {
        body: {
          type: 'tool.updated',
          payload: {
            toolCallId: update.toolCallId,
            ...(update.status ? { status: update.status } : {}),
            ...(update.output ? { output: update.output } : {}),
            ...(update.terminalId ? { terminalId: update.terminalId } : {}),
            ...(update.diff ? { diff: update.diff } : {}),
          },
        },
        // A call's end is read by the run state (open tool calls): never left behind a later decision.
        durability: update.status === 'completed' || update.status === 'failed' ? 'critical' : 'stream',
      };
    case 'usage':
      return {
        body: {
          type: 'usage.reported',
          payload: {
            ...inTurn,
            source: update.source,
            ...(update.tokens ? { tokens: update.tokens } : {}),
            ...(update.cost ? { cost: update.cost } : {}),
            ...(update.context ? { context: update.context } : {}),
          },
        },
        // A few per turn (Claude Code sends ~5), the last just before turn.ended: committed
        // like it, so a crash never leaves a finished turn without its usage.
        durability: 'critical',
      };
    case 'user_message':
      return null; // The prompt is already recorded as prompt.sent.
  }
}
