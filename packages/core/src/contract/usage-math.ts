import type { RunUsage, TokenCounts, UsageCost } from './schemas/usage.js';

// Usage arithmetic: plain functions over the schemas' types, free of zod so that the ledger's
// projection (and with it `keel runs`) can use them without loading the contract's schemas.

export function emptyRunUsage(): RunUsage {
  return { tokens: null, cost: [], costBySession: {}, context: null, toolCalls: 0, durationMs: 0, turnSince: null };
}

/** A sum that stays a safe integer however many reports an agent sends (it saturates). */
const plus = (a: number, b: number) => Math.min(Number.MAX_SAFE_INTEGER, a + b);

/** Adds token counts; an optional part stays absent only when both sides lack it. */
export function addTokens(a: TokenCounts | null, b: TokenCounts): TokenCounts {
  if (a === null) return { ...b };
  const sum: TokenCounts = { input: plus(a.input, b.input), output: plus(a.output, b.output), total: plus(a.total, b.total) };
  if (a.cachedInput !== undefined || b.cachedInput !== undefined) sum.cachedInput = plus(a.cachedInput ?? 0, b.cachedInput ?? 0);
  if (a.reasoning !== undefined || b.reasoning !== undefined) sum.reasoning = plus(a.reasoning ?? 0, b.reasoning ?? 0);
  return sum;
}

/** Sums the sessions' costs per unit, units in first-seen order. */
export function costPerUnit(bySession: Record<string, UsageCost>): UsageCost[] {
  const sums = new Map<string, number>();
  for (const { amount, currency } of Object.values(bySession)) sums.set(currency, plus(sums.get(currency) ?? 0, amount));
  return [...sums].map(([currency, amount]) => ({ amount, currency }));
}
