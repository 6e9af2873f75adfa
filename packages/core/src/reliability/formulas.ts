// One formula per number (I9): the harness, the CLI, the pane and the per-run facts all call these.
import type { DurationSummary, ScenarioCounters, ScenarioResult, SloId, SloResult } from '../contract/schemas/reliability.js';

/** Nearest-rank percentile of `samples` (p in 0..100); null for no samples. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** p50, p95 and max of recovery times; null when nothing recovered. */
export function summarizeDurations(samples: readonly number[]): DurationSummary | null {
  if (samples.length === 0) return null;
  return { count: samples.length, p50: percentile(samples, 50)!, p95: percentile(samples, 95)!, max: Math.max(...samples) };
}

export const zeroCounters = (): ScenarioCounters => ({
  attempts: 0,
  acknowledged: 0,
  lost: 0,
  unexpected: 0,
  recovered: 0,
  duplicatedPrompts: 0,
  promptsChecked: 0,
  orphanedApprovals: 0,
  orphanedApprovalsHonoured: 0,
  staleSessions: 0,
  staleSessionsRemapped: 0,
});

export function addCounters(a: ScenarioCounters, b: Partial<ScenarioCounters>): ScenarioCounters {
  const out = { ...a };
  for (const key of Object.keys(out) as Array<keyof ScenarioCounters>) out[key] += b[key] ?? 0;
  return out;
}

/** A ratio as a percentage rounded to 0.01; null when there is nothing to divide by. */
const percent = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 100);

/** What a scenario promises: every fault recovered, nothing lost, invented or sent twice, every orphan honoured, every stale session remapped. */
export function scenarioPassed(counters: ScenarioCounters): boolean {
  return (
    counters.recovered === counters.attempts &&
    counters.lost === 0 &&
    counters.unexpected === 0 &&
    counters.duplicatedPrompts === 0 &&
    counters.orphanedApprovalsHonoured === counters.orphanedApprovals &&
    counters.staleSessionsRemapped === counters.staleSessions
  );
}

interface SloDefinition {
  id: SloId;
  label: string;
  unit: SloResult['unit'];
  comparator: SloResult['comparator'];
  target: number;
  value(total: ScenarioCounters, recoveryMs: readonly number[]): number | null;
}

/** The SLOs and their targets (issue 13). */
export const SLO_DEFINITIONS: readonly SloDefinition[] = [
  {
    id: 'recovery_success',
    label: 'Recovery success',
    unit: '%',
    comparator: '>=',
    target: 99.9,
    value: (total) => percent(total.recovered, total.attempts),
  },
  {
    id: 'recovery_p95',
    label: 'Recovery time p95',
    unit: 'ms',
    comparator: '<=',
    target: 5_000,
    value: (_total, recoveryMs) => percentile(recoveryMs, 95),
  },
  {
    id: 'stale_remap',
    label: 'Stale-session remap',
    unit: '%',
    comparator: '>=',
    target: 99.5,
    value: (total) => percent(total.staleSessionsRemapped, total.staleSessions),
  },
  {
    id: 'approval_continuity',
    label: 'Approval continuity',
    unit: '%',
    comparator: '>=',
    target: 100,
    value: (total) => percent(total.orphanedApprovalsHonoured, total.orphanedApprovals),
  },
  {
    // Acknowledged events kept, over everything that should and should not be there: a lost
    // event and an invented one each take it below 100 %.
    id: 'durability',
    label: 'Durability',
    unit: '%',
    comparator: '>=',
    target: 100,
    value: (total) => percent(total.acknowledged - total.lost, total.acknowledged + total.unexpected),
  },
  {
    id: 'duplicated_prompts',
    label: 'Duplicated prompts',
    unit: 'count',
    comparator: '<=',
    target: 0,
    // Counted only where prompts sent across a fault were checked: a scorecard whose scenarios
    // never prompt has no data here rather than a vacuous 0.
    value: (total) => (total.promptsChecked === 0 ? null : total.duplicatedPrompts),
  },
];

export function sloVerdict(comparator: SloResult['comparator'], target: number, value: number | null): SloResult['verdict'] {
  if (value === null) return 'no_data';
  return (comparator === '>=' ? value >= target : value <= target) ? 'met' : 'missed';
}

/** Every SLO over the scenarios that ran (skipped ones count for nothing), against its target or the one given. */
export function evaluateSlos(scenarios: readonly ScenarioResult[], targets: Partial<Record<SloId, number>> = {}): SloResult[] {
  const ran = scenarios.filter((scenario) => scenario.verdict !== 'skipped');
  const total = ran.reduce((sum, scenario) => addCounters(sum, scenario.counters), zeroCounters());
  const recoveryMs = ran.flatMap((scenario) => scenario.recoveryMs);
  return SLO_DEFINITIONS.map((definition) => {
    const value = definition.value(total, recoveryMs);
    const target = targets[definition.id] ?? definition.target;
    return {
      id: definition.id,
      label: definition.label,
      unit: definition.unit,
      comparator: definition.comparator,
      target,
      value,
      verdict: sloVerdict(definition.comparator, target, value),
    };
  });
}

/** Pass when no SLO missed and no scenario failed. */
export function overallVerdict(scenarios: readonly ScenarioResult[], slos: readonly SloResult[]): 'pass' | 'fail' {
  return slos.some((slo) => slo.verdict === 'missed') || scenarios.some((scenario) => scenario.verdict === 'failed') ? 'fail' : 'pass';
}
