// RestartPolicy: exponential backoff with full jitter, a bounded budget, forgiveness after a
// stable run. Pure unit tests with an injected random source.
import { describe, expect, it } from 'vitest';
import { RestartPolicy } from '../src/runtime/restart-policy.js';

/** A random source that returns the given values in turn (then repeats the last). */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
};

describe('RestartPolicy', () => {
  it('full jitter: attempt n waits within [0, min(cap, base * 2^(n-1))], reaching both ends', () => {
    const base = 100;
    const cap = 1_000;
    const ceilings = [100, 200, 400, 800, 1_000, 1_000, 1_000];
    const low = new RestartPolicy({ baseMs: base, capMs: cap, maxAttempts: 7, random: () => 0 });
    const high = new RestartPolicy({ baseMs: base, capMs: cap, maxAttempts: 7, random: () => 0.999_999_9 });
    const mid = new RestartPolicy({ baseMs: base, capMs: cap, maxAttempts: 7, random: () => 0.5 });
    for (let n = 1; n <= 7; n++) {
      expect(low.ceilingMs(n)).toBe(ceilings[n - 1]);
      expect(low.next()).toEqual({ attempt: n, delayMs: 0 });
      expect(high.next()).toEqual({ attempt: n, delayMs: ceilings[n - 1] });
      expect(mid.next()).toEqual({ attempt: n, delayMs: ceilings[n - 1]! / 2 });
    }
  });

  it('every jittered delay stays in bounds, whatever the random source returns in [0, 1)', () => {
    const values = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 1000) / 1000);
    const policy = new RestartPolicy({ baseMs: 20, capMs: 100, maxAttempts: 200, random: sequence(...values) });
    for (let n = 1; n <= 200; n++) {
      const next = policy.next()!;
      expect(next.attempt).toBe(n);
      expect(Number.isInteger(next.delayMs)).toBe(true);
      expect(next.delayMs).toBeGreaterThanOrEqual(0);
      expect(next.delayMs).toBeLessThanOrEqual(Math.min(100, 20 * 2 ** (n - 1)));
    }
  });

  it('huge attempt numbers are capped, not Infinity or NaN', () => {
    const policy = new RestartPolicy({ baseMs: 1_000, capMs: 30_000 });
    expect(policy.ceilingMs(2_000)).toBe(30_000);
  });

  it('exhaustion: maxAttempts delays, then null (and null again), attemptsUsed counts them', () => {
    const policy = new RestartPolicy({ baseMs: 10, capMs: 50, maxAttempts: 3, random: () => 0.5 });
    expect([policy.next(), policy.next(), policy.next()].map((next) => next?.attempt)).toEqual([1, 2, 3]);
    expect(policy.attemptsUsed).toBe(3);
    expect(policy.next()).toBeNull();
    expect(policy.next()).toBeNull();
    expect(policy.attemptsUsed).toBe(3);
  });

  it('maxAttempts 0 never restarts', () => {
    expect(new RestartPolicy({ maxAttempts: 0 }).next()).toBeNull();
  });

  it('a generation that stayed up for stableMs resets the budget; a shorter one does not', () => {
    const policy = new RestartPolicy({ baseMs: 10, capMs: 50, maxAttempts: 2, stableMs: 1_000, random: () => 0 });
    policy.next();
    policy.next();
    policy.ranFor(999);
    expect(policy.next()).toBeNull();
    policy.ranFor(1_000);
    expect(policy.attemptsUsed).toBe(0);
    expect(policy.next()).toEqual({ attempt: 1, delayMs: 0 });
    // The backoff starts over too: attempt 2's ceiling, not attempt 3's.
    const high = new RestartPolicy({ baseMs: 10, capMs: 1_000, maxAttempts: 5, stableMs: 100, random: () => 0.999_999 });
    high.next();
    high.next();
    high.ranFor(100);
    expect(high.next()).toEqual({ attempt: 1, delayMs: 10 });
    expect(high.next()).toEqual({ attempt: 2, delayMs: 20 });
  });

  it('reset() (the restart button) restores the full budget', () => {
    const policy = new RestartPolicy({ maxAttempts: 1, random: () => 0 });
    expect(policy.next()).not.toBeNull();
    expect(policy.next()).toBeNull();
    policy.reset();
    expect(policy.next()).toEqual({ attempt: 1, delayMs: 0 });
  });

  it('defaults: base 1 s, cap 30 s, 5 attempts, stable after 60 s', () => {
    const policy = new RestartPolicy();
    expect([policy.baseMs, policy.capMs, policy.maxAttempts, policy.stableMs]).toEqual([1_000, 30_000, 5, 60_000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => policy.ceilingMs(n))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
  });
});
