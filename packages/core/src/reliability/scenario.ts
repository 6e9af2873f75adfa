import type { ScenarioCounters, ScenarioName } from '../contract/schemas/reliability.js';
import { addCounters, zeroCounters } from './formulas.js';

/** What a scenario gets: its seeded randomness, how many faults to inject, a private directory. */
export interface ScenarioContext {
  readonly seed: number;
  readonly rand: () => number;
  /** Faults to inject (the profile's count for this scenario). */
  readonly iterations: number;
  /** A fresh directory owned by this scenario run. */
  readonly workDir: string;
  /** Reports `done` faults injected so far (progress). */
  progress(done: number): void;
}

/** What a scenario found, before verdicts and SLOs. */
export interface ScenarioOutcome {
  counters: ScenarioCounters;
  recoveryMs: number[];
  problems: string[];
}

export type ScenarioRunResult = ScenarioOutcome | { skipped: string };

export interface Scenario {
  name: ScenarioName;
  description: string;
  /** Faults per profile. */
  iterations: { unit: number; quick: number; full: number };
  /** Why this scenario cannot run on this machine, or null. */
  unavailable?(workDir: string): string | null;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

/** Accumulates one scenario's counters, samples and problems (the first 50 problems are kept). */
export class Tally {
  counters = zeroCounters();
  recoveryMs: number[] = [];
  problems: string[] = [];

  add(counters: Partial<ScenarioCounters>): void {
    this.counters = addCounters(this.counters, counters);
  }

  problem(text: string): void {
    if (this.problems.length < 50) this.problems.push(text);
  }

  outcome(): ScenarioOutcome {
    return { counters: this.counters, recoveryMs: this.recoveryMs, problems: this.problems };
  }
}

/** An integer in [min, max] from `rand`. */
export const randomInt = (rand: () => number, min: number, max: number) => min + Math.floor(rand() * (max - min + 1));

export const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));
