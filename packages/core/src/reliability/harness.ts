// The reliability harness: runs the selected scenarios with a seed, each in its own directory,
// and turns what they counted into a scorecard (verdicts and SLOs by the one set of formulas).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KEEL_VERSION } from '../contract/version.js';
import { RELIABILITY_SCHEMA_VERSION, type HarnessProfile, type ScenarioName, type SloId, type ScenarioResult, type Scorecard } from '../contract/schemas/reliability.js';
import { mulberry32 } from '../replay/index.js';
import { evaluateSlos, overallVerdict, scenarioPassed, summarizeDurations, zeroCounters } from './formulas.js';
import { describeError } from './scenario.js';
import { SCENARIOS, scenarioByName } from './scenarios/index.js';
import { gitSha, machineInfo } from './machine.js';

export interface HarnessProgressEvent {
  scenario: ScenarioName;
  /** 0-based position of the scenario in this run. */
  index: number;
  total: number;
  done: number;
  planned: number;
  /** Set when the scenario finished. */
  result?: ScenarioResult;
}

export interface HarnessOptions {
  profile: HarnessProfile;
  seed: number;
  /** Only these scenarios (default: all). */
  scenarios?: readonly ScenarioName[];
  /** Faults per scenario, overriding the profile's. */
  iterations?: Partial<Record<ScenarioName, number>>;
  /** Scratch space (default: a fresh temp dir, removed afterwards unless `keepWorkDir`). */
  workDir?: string;
  keepWorkDir?: boolean;
  onProgress?: (event: HarnessProgressEvent) => void;
  /** SLO targets replacing the built-in ones (a stricter local gate); the scorecard records the targets used. */
  targets?: Partial<Record<SloId, number>>;
  /** Stops the run at the next fault boundary (the host closing); the run then rejects. */
  signal?: AbortSignal;
  /**
   * After each scenario but the last: the scorecard so far, marked `incomplete`, for the caller
   * to write, so a run stopped part-way (Ctrl+C, a host closing, a crash) keeps what it measured.
   */
  onScenarioDone?: (card: Scorecard) => void;
}

/** A scenario's own seed: the run's seed mixed with its name, so `--scenario X --seed N` reproduces X exactly. */
export function scenarioSeed(seed: number, name: string): number {
  let hash = seed >>> 0;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** A seed for a run nobody gave one to. */
export const randomSeed = () => Math.floor(Math.random() * 2 ** 31);

export async function runHarness(options: HarnessOptions): Promise<Scorecard> {
  const started = Date.now();
  const createdAt = new Date(started).toISOString();
  const selected = options.scenarios && options.scenarios.length > 0 ? options.scenarios.map(scenarioByName) : SCENARIOS;
  const root = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'keel-reliability-'));
  const machine = machineInfo();
  const sha = gitSha();
  const results: ScenarioResult[] = [];
  /** The scorecard of the scenarios done so far (`incomplete` while some are still to run). */
  const card = (incomplete: Scorecard['incomplete'] | null): Scorecard => {
    const slos = evaluateSlos(results, options.targets);
    return {
      schema_version: RELIABILITY_SCHEMA_VERSION,
      keelVersion: KEEL_VERSION,
      gitSha: sha,
      createdAt,
      profile: options.profile,
      seed: options.seed,
      durationMs: Date.now() - started,
      machine,
      scenarios: [...results],
      slos,
      verdict: overallVerdict(results, slos),
      ...(incomplete ? { incomplete } : {}),
    };
  };
  try {
    for (const [index, scenario] of selected.entries()) {
      options.signal?.throwIfAborted();
      const seed = scenarioSeed(options.seed, scenario.name);
      const planned = options.iterations?.[scenario.name] ?? scenario.iterations[options.profile];
      const workDir = path.join(root, scenario.name);
      fs.mkdirSync(workDir, { recursive: true });
      const report = (done: number, result?: ScenarioResult) =>
        options.onProgress?.({ scenario: scenario.name, index, total: selected.length, done, planned, ...(result ? { result } : {}) });
      report(0);
      const begun = Date.now();
      const base = { name: scenario.name, description: scenario.description, seed };
      let result: ScenarioResult;
      const skip = scenario.unavailable?.(workDir) ?? null;
      if (skip) {
        result = { ...base, durationMs: 0, verdict: 'skipped', skipReason: skip, counters: zeroCounters(), recoveryMs: [], recovery: null, problems: [] };
      } else {
        try {
          const progress = (done: number) => {
            options.signal?.throwIfAborted();
            report(done);
          };
          const outcome = await scenario.run({ seed, rand: mulberry32(seed), iterations: planned, workDir, progress });
          result = {
            ...base,
            durationMs: Date.now() - begun,
            verdict: scenarioPassed(outcome.counters) ? 'passed' : 'failed',
            counters: outcome.counters,
            recoveryMs: outcome.recoveryMs,
            recovery: summarizeDurations(outcome.recoveryMs),
            problems: outcome.problems.slice(0, 50),
          };
        } catch (error) {
          // The scenario itself broke (not a fault it injected): every planned fault counts as not recovered.
          const counters = { ...zeroCounters(), attempts: Math.max(1, planned) };
          result = { ...base, durationMs: Date.now() - begun, verdict: 'failed', counters, recoveryMs: [], recovery: null, problems: [`the scenario could not run: ${describeError(error)}`] };
        }
      }
      options.signal?.throwIfAborted();
      results.push(result);
      report(planned, result);
      if (!options.keepWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
      if (index < selected.length - 1) options.onScenarioDone?.(card({ scenariosDone: results.length, scenariosPlanned: selected.length }));
    }
  } finally {
    if (!options.workDir && !options.keepWorkDir) fs.rmSync(root, { recursive: true, force: true });
  }
  return card(null);
}
