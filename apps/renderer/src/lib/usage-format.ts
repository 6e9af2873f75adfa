import type { RunUsage, UsageCost } from '@keel/core/contract';

/** 950 -> "950", 12_345 -> "12.3k", 1_234_567 -> "1.23M". */
export function formatTokens(count: number): string {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${trim(count / 1000, count < 10_000 ? 2 : count < 100_000 ? 1 : 0)}k`;
  return `${trim(count / 1_000_000, 2)}M`;
}

const trim = (value: number, digits: number) => value.toFixed(digits).replace(/\.?0+$/, '');

/** 800 -> "0.8 s", 42_000 -> "42 s", 185_000 -> "3 min 5 s", 3_720_000 -> "1 h 2 min". */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${trim(ms / 1000, 1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/** An ISO 4217 amount as money ("$0.42"), any other unit as number and unit ("12 credits"). */
export function formatCost({ amount, currency }: UsageCost): string {
  if (/^[A-Z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: amount < 1 ? 4 : 2 }).format(amount);
    } catch {
      // An unknown code: shown as a unit below.
    }
  }
  return `${trim(amount, 4)} ${currency}`;
}

/** The run's time so far: finished turns plus the open turn's running time. */
export function elapsedMs(usage: RunUsage, now: number): number {
  const since = usage.turnSince === null ? Number.NaN : Date.parse(usage.turnSince);
  return usage.durationMs + (Number.isFinite(since) && now > since ? now - since : 0);
}

/** "1.2k tokens" with what they are made of, for a tooltip. */
export function tokensDetail(tokens: NonNullable<RunUsage['tokens']>): string {
  const parts = [`${tokens.input.toLocaleString()} in`, `${tokens.output.toLocaleString()} out`];
  if (tokens.cachedInput) parts.push(`${tokens.cachedInput.toLocaleString()} of the input from cache`);
  if (tokens.reasoning) parts.push(`${tokens.reasoning.toLocaleString()} reasoning`);
  return `${tokens.total.toLocaleString()} tokens as the agent counts them: ${parts.join(', ')}`;
}
