import { countDuplicatedPrompts, staleGenerationEvents } from '../checkers.js';
import { recoveryEpisodes } from '../facts.js';
import path from 'node:path';
import type { RuntimeTuning } from '../../runs/index.js';
import { guarded, ScenarioHost, type ScenarioRun } from '../run-kit.js';

/** One fault, injected and recovered from, takes far less than this; past it the fault counts as not recovered. */
const ITERATION_GUARD_MS = 90_000;
import { describeError, Tally, type ScenarioContext } from '../scenario.js';

/**
 * What every agent-fault iteration is judged on besides its own expectation: nothing recorded by
 * a stale generation (unexpected), no prompt received twice by the agent, and the recovery times
 * of the run's restarts (the per-run facts' formula).
 */
export function judgeRun(run: ScenarioRun, tally: Tally, label: string): void {
  const events = run.events();
  const stale = staleGenerationEvents(events);
  for (const event of stale.slice(0, 3)) tally.problem(`${label}: generation ${event.generation} recorded ${event.type} (#${event.seq}) after it exited`);
  const duplicates = countDuplicatedPrompts(run.sentPrompts(), run.agentReceived());
  for (const problem of duplicates.problems) tally.problem(`${label}: ${problem}`);
  tally.add({ unexpected: stale.length, duplicatedPrompts: duplicates.duplicated, promptsChecked: duplicates.checked });
  for (const episode of recoveryEpisodes(events)) {
    if (episode.recoveryMs !== null) tally.recoveryMs.push(episode.recoveryMs);
  }
  const verify = run.host.ledger.verify(run.runId);
  if (!verify.ok) tally.problem(`${label}: ledger verify failed for ${run.runId}`);
}

/** Runs one iteration: a thrown error or an expired guard is a problem and a fault not recovered. */
export async function iteration(tally: Tally, label: string, body: () => Promise<boolean>, cleanup: () => Promise<void>): Promise<void> {
  let recovered = false;
  try {
    recovered = await guarded(body(), `${label} to finish`, ITERATION_GUARD_MS);
  } catch (error) {
    tally.problem(`${label}: ${describeError(error)}`);
  } finally {
    await cleanup().catch((error: unknown) => tally.problem(`${label}: cleanup failed: ${describeError(error)}`));
  }
  tally.add({ attempts: 1, recovered: recovered ? 1 : 0 });
}

/** Checks `actual === expected`, recording a problem when not. */
export function expectThat(tally: Tally, label: string, what: string, actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  tally.problem(`${label}: ${what} was ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  return false;
}

/**
 * The shape of the agent-fault scenarios: one host for the scenario, a fresh run per fault made
 * by `setup`, `body` injecting the fault and checking the expected recovery, then `judgeRun`.
 */
export async function eachFault(
  ctx: ScenarioContext,
  tuning: RuntimeTuning,
  body: (run: ScenarioRun, index: number, tally: Tally) => Promise<boolean>,
  setup: (host: ScenarioHost, index: number) => Promise<ScenarioRun>,
): Promise<Tally> {
  const tally = new Tally();
  const host = await ScenarioHost.open(path.join(ctx.workDir, 'data'), tuning);
  try {
    for (let index = 1; index <= ctx.iterations; index++) {
      const label = `fault ${index}`;
      let run: ScenarioRun | null = null;
      await iteration(
        tally,
        label,
        async () => {
          run = await setup(host, index);
          const ok = await body(run, index, tally);
          judgeRun(run, tally, `${label} (run ${run.runId})`);
          return ok;
        },
        async () => {
          await (run as ScenarioRun | null)?.close();
        },
      );
      ctx.progress(index);
    }
  } finally {
    await host.close();
  }
  return tally;
}
