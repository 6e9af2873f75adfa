export interface RestartBackoffOptions {
  /** First delay ceiling; doubles per attempt (1, 2, 4, 8 … s). */
  baseMs?: number;
  capMs?: number;
  maxAttempts?: number;
  /** A generation that stays up this long resets the attempt counter. */
  stableMs?: number;
  random?: () => number;
}

/**
 * Restart backoff: exponential with full jitter: attempt n waits a uniform random time in
 * [0, min(cap, base * 2^(n-1))], so many runs restarting at once do not stampede.
 */
export class RestartBackoff {
  readonly baseMs: number;
  readonly capMs: number;
  readonly maxAttempts: number;
  readonly stableMs: number;
  private readonly random: () => number;
  private attempts = 0;

  constructor(options: RestartBackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 1_000;
    this.capMs = options.capMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.stableMs = options.stableMs ?? 60_000;
    this.random = options.random ?? Math.random;
  }

  get attemptsUsed(): number {
    return this.attempts;
  }

  /** The ceiling of attempt n's delay (before jitter). */
  ceilingMs(attempt: number): number {
    return Math.min(this.capMs, this.baseMs * 2 ** (attempt - 1));
  }

  /** The next attempt and its delay, or null when attempts are exhausted. */
  next(): { attempt: number; delayMs: number } | null {
    if (this.attempts >= this.maxAttempts) return null;
    this.attempts += 1;
    return { attempt: this.attempts, delayMs: Math.round(this.random() * this.ceilingMs(this.attempts)) };
  }

  /** A generation stayed up for `upMs`: forgive earlier failures if it was long enough. */
  ranFor(upMs: number): void {
    if (upMs >= this.stableMs) this.attempts = 0;
  }

  reset(): void {
    this.attempts = 0;
  }
}
