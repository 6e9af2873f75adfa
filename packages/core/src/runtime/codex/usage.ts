import { z } from 'zod';
import type { TokenCounts } from '../../contract/schemas/usage.js';
import type { AgentUpdate } from '../adapter.js';

const tokens = z.number().int().nonnegative();
/** Codex `TokenUsageBreakdown` (app-server v2). */
export const TokenUsageBreakdown = z.object({
  totalTokens: tokens,
  inputTokens: tokens,
  cachedInputTokens: tokens.nullish(),
  outputTokens: tokens,
  reasoningOutputTokens: tokens.nullish(),
});
type Breakdown = z.infer<typeof TokenUsageBreakdown>;

/** `thread/tokenUsage/updated`: the thread's running `total` and the `last` model call's usage. */
export const TokenUsageUpdated = z.object({
  threadId: z.string().min(1),
  turnId: z.string().min(1),
  tokenUsage: z.object({ total: TokenUsageBreakdown, last: TokenUsageBreakdown, modelContextWindow: tokens.nullish() }),
});
export type TokenUsageUpdated = z.infer<typeof TokenUsageUpdated>;

function counts(breakdown: Breakdown): TokenCounts {
  return {
    input: breakdown.inputTokens,
    output: breakdown.outputTokens,
    cachedInput: breakdown.cachedInputTokens ?? 0,
    reasoning: breakdown.reasoningOutputTokens ?? 0,
    total: breakdown.totalTokens,
  };
}

const FIELDS = ['input', 'output', 'cachedInput', 'reasoning', 'total'] as const;

/**
 * Turns Codex's running thread totals into the deltas Keel records. Codex may repeat a report
 * (the same totals again): its delta is zero and nothing is recorded. The first report of this
 * process counts only its `last` call, since the thread's earlier totals (a resumed thread) were
 * recorded by the generation that saw them. A total that goes down (a new thread) starts again
 * from `last`.
 */
export class TokenUsageDeltas {
  private previous: TokenCounts | null = null;

  next(params: TokenUsageUpdated): AgentUpdate | null {
    const total = counts(params.tokenUsage.total);
    const previous = this.previous;
    this.previous = total;
    let delta: TokenCounts;
    if (previous === null || FIELDS.some((field) => (total[field] ?? 0) < (previous[field] ?? 0))) {
      delta = counts(params.tokenUsage.last);
    } else {
      delta = { input: 0, output: 0, total: 0 };
      for (const field of FIELDS) delta[field] = (total[field] ?? 0) - (previous[field] ?? 0);
    }
    const window = params.tokenUsage.modelContextWindow;
    if (delta.total === 0 && delta.input === 0 && delta.output === 0) return null;
    return {
      kind: 'usage',
      source: 'codex:thread/tokenUsage/updated',
      tokens: delta,
      // Codex's context "used" is the last call's input plus output: what the next call starts from.
      ...(window ? { context: { used: params.tokenUsage.last.totalTokens, size: window } } : {}),
    };
  }
}
