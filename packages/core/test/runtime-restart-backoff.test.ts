// RestartBackoff: exponential backoff with full jitter, a bounded budget, forgiveness after a
// stable run. Pure unit tests with an injected random source.
import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../src/runtime/restart-backoff.js';

/** A random source that returns the given values in turn (then repeats the last). */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
};

describe('RestartBackoff', () => {
  it('full jitter: attempt n waits within [0, min(cap, base * 2^(n-1))], reaching both ends', () => {
    const base = 100;
    const cap = 1_000;
    const ceilings = [100, 200, 400, 800, 1_000, 1_000, 1_000];
    const low = new RestartBackoff({ baseMs: base, capMs: cap, maxAttempts: 7, random: () => 0 });
    const high = new RestartBackoff({ baseMs: base, capMs: cap, maxAttempts: 7, random: () => 0.999_999_9 });
    const mid = new RestartBackoff({ baseMs: base, capMs: cap, maxAttempts: 7, random: () => 0.5 });
    for (let n = 1; n <= 7; n++) {
      expect(low.ceilingMs(n)).toBe(ceilings[n - 1]);
      expect(low.next()).toEqual({ attempt: n, delayMs: 0 });
      expect(high.next()).toEqual({ attempt: n, delayMs: ceilings[n - 1] });
      expect(mid.next()).toEqual({ attempt: n, delayMs: ceilings[n - 1]! / 2 });
    }
  });

  it('every jittered delay stays in bounds, whatever the random source returns in [0, 1)', () => {
    const values = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 1000) / 1000);
    const backoff = new RestartBackoff({ baseMs: 20, capMs: 100, maxAttempts: 200, random: sequence(...values) });
    for (let n = 1; n <= 200; n++) {
      const next = backoff.next()!;
      expect(next.attempt).toBe(n);
      expect(Number.isInteger(next.delayMs)).toBe(true);
      expect(next.delayMs).toBeGreaterThanOrEqual(0);
      expect(next.delayMs).toBeLessThanOrEqual(Math.min(100, 20 * 2 ** (n - 1)));
    }
  });

  it('huge attempt numbers are capped, not Infinity or NaN', () => {
    const backoff = new RestartBackoff({ baseMs: 1_000, capMs: 30_000 });
    expect(backoff.ceilingMs(2_000)).toBe(30_000);
  });

  it('exhaustion: maxAttempts delays, then null (and null again), attemptsUsed counts them', () => {
    const backoff = new RestartBackoff({ baseMs: 10, capMs: 50, maxAttempts: 3, random: () => 0.5 });
    expect([backoff.next(), backoff.next(), backoff.next()].map((next) => next?.attempt)).toEqual([1, 2, 3]);
    expect(backoff.attemptsUsed).toBe(3);
    expect(backoff.next()).toBeNull();
    expect(backoff.next()).toBeNull();
    expect(backoff.attemptsUsed).toBe(3);
  });

  it('maxAttempts 0 never restarts', () => {
    expect(new RestartBackoff({ maxAttempts: 0 }).next()).toBeNull();
  });

  it('a generation that stayed up for stableMs resets the budget; a shorter one does not', () => {
    const backoff = new RestartBackoff({ baseMs: 10, capMs: 50, maxAttempts: 2, stableMs: 1_000, random: () => 0 });
    backoff.next();
    backoff.next();
    backoff.ranFor(999);
    expect(backoff.next()).toBeNull();
    backoff.ranFor(1_000);
    expect(backoff.attemptsUsed).toBe(0);
    expect(backoff.next()).toEqual({ attempt: 1, delayMs: 0 });
    // The backoff starts over too: attempt 2's ceiling, not attempt 3's.
    const high = new RestartBackoff({ baseMs: 10, capMs: 1_000, maxAttempts: 5, stableMs: 100, random: () => 0.999_999 });
    high.next();
    high.next();
    high.ranFor(100);
    expect(high.next()).toEqual({ attempt: 1, delayMs: 10 });
    expect(high.next()).toEqual({ attempt: 2, delayMs: 20 });
  });

  it('reset() (the restart button) restores the full budget', () => {
    const backoff = new RestartBackoff({ maxAttempts: 1, random: () => 0 });
    expect(backoff.next()).not.toBeNull();
    expect(backoff.next()).toBeNull();
    backoff.reset();
    expect(backoff.next()).toEqual({ attempt: 1, delayMs: 0 });
  });

  it('defaults: base 1 s, cap 30 s, 5 attempts, stable after 60 s', () => {
    const backoff = new RestartBackoff();
    expect([backoff.baseMs, backoff.capMs, backoff.maxAttempts, backoff.stableMs]).toEqual([1_000, 30_000, 5, 60_000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoff.ceilingMs(n))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
  });
});
