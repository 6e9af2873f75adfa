import type { RunUsage, UsageReportedPayload } from './schemas/usage.js';
import { addTokens, costPerUnit } from './usage-math.js';

/**
 * The one formula for a run's usage (I9), step by step: each function returns a new RunUsage
 * and never edits the one it was given (fold snapshots share it). The run view's fold (replay)
 * and the ledger's runs projection both apply these steps, so the run header and the run list
 * show the same numbers.
 */

/** A prompt was sent: its turn's clock starts. */
export function usageTurnStarted(usage: RunUsage, ts: string): RunUsage {
  return { ...usage, turnSince: ts };
}

/** The turn ended: its duration (prompt sent to turn ended; never negative) joins the total. */
export function usageTurnEnded(usage: RunUsage, ts: string): RunUsage {
  if (usage.turnSince === null) return usage;
  const elapsed = Date.parse(ts) - Date.parse(usage.turnSince);
  const durationMs = usage.durationMs + (Number.isFinite(elapsed) && elapsed > 0 ? elapsed : 0);
  return { ...usage, durationMs, turnSince: null };
}

/** A new tool call (a tool call id seen for the first time). */
export function usageToolCall(usage: RunUsage): RunUsage {
  return { ...usage, toolCalls: usage.toolCalls + 1 };
}

/** What the agent reported: token deltas add up, a session's cost replaces its previous cost, the context is the latest. */
export function usageReported(usage: RunUsage, payload: UsageReportedPayload): RunUsage {
  const next: RunUsage = { ...usage };
  if (payload.tokens) next.tokens = addTokens(usage.tokens, payload.tokens);
  if (payload.cost) {
    const { session, amount, currency } = payload.cost;
    next.costBySession = { ...usage.costBySession, [session]: { amount, currency } };
    next.cost = costPerUnit(next.costBySession);
  }
  if (payload.context) next.context = { ...payload.context };
  return next;
}
