import type { TokenCounts } from '../../contract/schemas/usage.js';
import type { AgentUpdate } from '../adapter.js';

const nonNegativeInt = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;

/**
 * ACP `usage_update` (stable): the context window now and, optionally, the session's cumulative
 * cost. Null when the numbers are unusable (the SDK has validated the shape already).
 */
export function usageFromUpdate(
  update: { used: number; size: number; cost?: { amount: number; currency: string } | null },
  sessionId: string,
): AgentUpdate | null {
  const used = nonNegativeInt(update.used);
  const size = nonNegativeInt(update.size);
  const cost = update.cost && Number.isFinite(update.cost.amount) && update.cost.amount >= 0 && update.cost.currency ? update.cost : null;
  if ((used === undefined || size === undefined) && !cost) return null;
  return {
    kind: 'usage',
    source: 'acp:usage_update',
    ...(used !== undefined && size !== undefined ? { context: { used, size } } : {}),
    ...(cost ? { cost: { amount: cost.amount, currency: cost.currency, session: sessionId } } : {}),
  };
}

/**
 * ACP's `usage` on a prompt response (an unstable part of the schema: the turn's token usage),
 * read from the raw response; null when absent or not numbers.
 */
export function usageFromPromptResponse(response: unknown): AgentUpdate | null {
  const usage = (response as { usage?: unknown } | null)?.usage;
  if (typeof usage !== 'object' || usage === null) return null;
  const raw = usage as Record<string, unknown>;
  const input = nonNegativeInt(raw.inputTokens);
  const output = nonNegativeInt(raw.outputTokens);
  if (input === undefined || output === undefined) return null;
  const tokens: TokenCounts = { input, output, total: nonNegativeInt(raw.totalTokens) ?? input + output };
  const cachedInput = nonNegativeInt(raw.cachedReadTokens);
  const reasoning = nonNegativeInt(raw.thoughtTokens);
  if (cachedInput !== undefined) tokens.cachedInput = cachedInput;
  if (reasoning !== undefined) tokens.reasoning = reasoning;
  return { kind: 'usage', source: 'acp:prompt_response', tokens };
}
