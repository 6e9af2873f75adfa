import path from 'node:path';
import type { Command } from 'commander';
import {
  formatSloValue,
  randomSeed,
  reliabilityDir,
  runHarness,
  ScenarioName,
  SloId,
  writeScorecard,
  type HarnessProfile,
  type HarnessProgressEvent,
  type Scorecard,
} from '@keel/core';
import { withDataOption } from './options.js';
import { dataDirFor } from './open-ledger.js';

interface ReliabilityOptions {
  quick?: boolean;
  full?: boolean;
  seed?: string;
  scenario?: string[];
  json?: boolean;
  out?: string;
  target?: string[];
  data?: string;
}

export function parseSeed(value: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value) || Number(value) >= 2 ** 32) throw new Error(`--seed must be an integer from 0 to ${2 ** 32 - 1}, got "${value}".`);
  return Number(value);
}

export function parseScenarios(names: readonly string[]): ScenarioName[] {
  return names.map((name) => {
    const parsed = ScenarioName.safeParse(name);
    if (!parsed.success) throw new Error(`There is no scenario "${name}". Scenarios: ${ScenarioName.options.join(', ')}.`);
    return parsed.data;
  });
}

/** `--target recovery_p95=2000`: an SLO's target replaced for this run (in the SLO's unit: %, ms or a count). */
export function parseTargets(pairs: readonly string[]): Partial<Record<SloId, number>> {
  const targets: Partial<Record<SloId, number>> = {};
  for (const pair of pairs) {
    const match = /^([a-z_0-9]+)=(-?[0-9]+(?:\.[0-9]+)?)$/.exec(pair);
    if (!match) throw new Error(`--target must look like recovery_p95=2000, got "${pair}".`);
    const id = SloId.safeParse(match[1]);
    if (!id.success) throw new Error(`There is no SLO "${match[1]}". SLOs: ${SloId.options.join(', ')}.`);
    const value = Number(match[2]);
    if (value < 0) throw new Error(`--target ${id.data} must not be negative, got ${value}.`);
    targets[id.data] = value;
  }
  return targets;
}

/** A progress line per scenario: a bar on a terminal (rewritten in place), one line per finished scenario otherwise. */
function progressPrinter(tty: boolean): (event: HarnessProgressEvent) => void {
  return (event) => {
    const head = `[${event.index + 1}/${event.total}] ${event.scenario.padEnd(28)}`;
    if (event.result) {
      const r = event.result;
      const detail = r.verdict === 'skipped' ? `skipped: ${r.skipReason}` : `${r.verdict}  ${r.counters.recovered}/${r.counters.attempts} recovered, ${r.counters.lost} lost, ${r.counters.unexpected} unexpected  ${(r.durationMs / 1000).toFixed(1)} s`;
      process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${head} ${detail}\n`);
      return;
    }
    if (!tty) return;
    const width = 24;
    const filled = event.planned === 0 ? width : Math.round((event.done / event.planned) * width);
    process.stderr.write(`\r\x1b[2K${head} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${event.done}/${event.planned}`);
  };
}

function printCard(card: Scorecard, files: { json: string; markdown: string }): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`Keel reliability scorecard: ${card.verdict === 'pass' ? 'PASS' : 'FAIL'}  (${card.profile}, seed ${card.seed}, ${(card.durationMs / 1000).toFixed(1)} s)`);
  out();
  for (const slo of card.slos) {
    const mark = slo.verdict === 'met' ? 'ok  ' : slo.verdict === 'missed' ? 'MISS' : '--  ';
    out(`  ${mark} ${slo.label.padEnd(22)} ${formatSloValue(slo.unit, slo.value).padStart(10)}   target ${slo.comparator} ${formatSloValue(slo.unit, slo.target)}`);
  }
  const problems = card.scenarios.flatMap((scenario) => scenario.problems.slice(0, 3).map((problem) => `${scenario.name} (seed ${scenario.seed}): ${problem}`));
  if (problems.length > 0) {
    out();
    out('Problems:');
    for (const problem of problems) out(`  - ${problem}`);
  }
  out();
  out(`Written: ${files.json}`);
  out(`         ${files.markdown}`);
}

export function registerReliability(program: Command): void {
  withDataOption(program.command('reliability'))
    .description('inject real faults into real processes and write a scorecard (JSON + Markdown); exit 1 when an SLO misses')
    .option('--quick', 'the quick profile: about 30 faults, a few minutes at most (default)')
    .option('--full', 'the full profile: 1,000 host kills, 200 agent kills, and more of every other fault')
    .option('--seed <n>', 'seed for every random choice (default: random); the same seed replays the same faults')
    .option('--scenario <name...>', `only these scenarios: ${ScenarioName.options.join(', ')}`)
    .option('--json', 'print the scorecard as JSON')
    .option('--out <dir>', 'write the scorecard files here (default: <data>/reliability)')
    .option('--target <slo=value...>', `replace an SLO's target for this run, e.g. recovery_p95=2000 (SLOs: ${SloId.options.join(', ')})`)
    .action(async (options: ReliabilityOptions) => {
      if (options.quick && options.full) throw new Error('Choose one of --quick and --full.');
      const profile: HarnessProfile = options.full ? 'full' : 'quick';
      const seed = options.seed === undefined ? randomSeed() : parseSeed(options.seed);
      const scenarios = parseScenarios(options.scenario ?? []);
      const targets = parseTargets(options.target ?? []);
      const outDir = options.out ? path.resolve(options.out) : reliabilityDir(dataDirFor(options.data, 'create'));
      // Progress goes to stderr with --json too. The scorecard is written after each scenario
      // (marked incomplete until the last), so a long --full run that is stopped keeps its results.
      const tty = Boolean(process.stderr.isTTY);
      process.stderr.write(`keel reliability --${profile} --seed ${seed}\n`);
      let told = false;
      const writeSoFar = (partial: Scorecard) => {
        try {
          const files = writeScorecard(outDir, partial);
          if (!told) process.stderr.write(`${tty ? '\r\x1b[2K' : ''}scorecard so far: ${files.json} (rewritten after each scenario)\n`);
          told = true;
        } catch (error) {
          process.stderr.write(`could not write the scorecard so far (${error instanceof Error ? error.message : String(error)}); the run goes on\n`);
        }
      };
      const card = await runHarness({ profile, seed, scenarios, targets, onProgress: progressPrinter(tty), onScenarioDone: writeSoFar });
      const files = writeScorecard(outDir, card);
      if (options.json) process.stdout.write(`${JSON.stringify(card, null, 2)}\n`);
      else printCard(card, files);
      if (card.verdict !== 'pass') process.exitCode = 1;
    });
}
