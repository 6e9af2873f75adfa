import { z } from 'zod';

/**
 * Per-run usage (issue 15 point 25): what the agent itself reports about tokens, cost and its
 * context window, recorded as `usage.reported` events and folded into the run view. Keel never
 * computes a price: cost appears only when the agent reports one.
 */

const count = z.number().int().nonnegative();

/** Token counts in the agent's own terms. `total` is the agent's total (or input + output when it gives none). */
export const TokenCounts = z.object({
  input: count,
  output: count,
  /** Input tokens served from the model's prompt cache (part of `input`). */
  cachedInput: count.optional(),
  /** Reasoning ("thinking") tokens, when the agent counts them apart. */
  reasoning: count.optional(),
  total: count,
});
export type TokenCounts = z.infer<typeof TokenCounts>;

/** An amount in the agent's unit: an ISO 4217 currency code ("USD") or another unit ("credits"). */
export const UsageCost = z.object({
  amount: z.number().finite().nonnegative(),
  currency: z.string().min(1).max(32),
});
export type UsageCost = z.infer<typeof UsageCost>;

export const ContextWindow = z.object({
  /** Tokens currently in the agent's context. */
  used: count,
  /** The context window's size in tokens. */
  size: count,
});
export type ContextWindow = z.infer<typeof ContextWindow>;

/**
 * Bounds on one report (agent input is untrusted): a trillion tokens, a billion of a currency.
 * Far above any real report, and low enough that the run's sums stay exact integers.
 */
const reported = count.max(1e12);
const ReportedTokenCounts = z.object({ input: reported, output: reported, cachedInput: reported.optional(), reasoning: reported.optional(), total: reported });

export const UsageReportedPayload = z.object({
  /** The open turn when the agent reported. */
  turn: z.number().int().positive().optional(),
  /** Tokens used since this agent process's previous report: a delta, which the fold adds up. */
  tokens: ReportedTokenCounts.optional(),
  /** The agent session's cumulative cost so far, as the agent reports it (the fold keeps the latest per session). */
  cost: UsageCost.extend({ amount: UsageCost.shape.amount.max(1e9), session: z.string().min(1).max(200) }).optional(),
  /** The agent's context window as it reports it now. */
  context: z.object({ used: reported, size: reported }).optional(),
  /** What the agent sent: `acp:usage_update`, `acp:prompt_response`, `codex:thread/tokenUsage/updated`. */
  source: z.string().min(1).max(100),
});
export type UsageReportedPayload = z.infer<typeof UsageReportedPayload>;

/** Usage events, spread into the ledger's EventBody. */
export const usageEventBodies = [z.object({ type: z.literal('usage.reported'), payload: UsageReportedPayload })] as const;

/**
 * A run's usage so far, folded from its events (I9: one formula, shown alike by the header,
 * the list and the CLI). Tokens and cost are null/empty when the agent never reported them.
 */
export const RunUsage = z.object({
  /** The sum of every reported token delta; null when the agent reported none. */
  tokens: TokenCounts.nullable(),
  /** Cost per unit: the sum over the run's agent sessions of each one's latest reported cost. */
  cost: z.array(UsageCost),
  /** Each session's latest reported cumulative cost (what `cost` is summed from). */
  costBySession: z.record(z.string(), UsageCost),
  /** The latest context window report. */
  context: ContextWindow.nullable(),
  /** Tool calls the agent made (distinct tool call ids). */
  toolCalls: count,
  /** The sum of finished turns' durations (prompt sent to turn ended), in milliseconds. */
  durationMs: count,
  /** When the open turn's prompt was sent (null between turns): the header adds the running time. */
  turnSince: z.string().nullable(),
});
export type RunUsage = z.infer<typeof RunUsage>;

// The arithmetic on these types lives beside them without zod (usage-math.ts), so the ledger's
// projection can fold usage without loading the schemas (issue 16: `keel runs` start-up).
export { addTokens, costPerUnit, emptyRunUsage } from '../usage-math.js';
