import { z } from 'zod';
import { RunId } from './ledger.js';

/** The scorecard file format (I10): readers accept this version and older ones. */
export const RELIABILITY_SCHEMA_VERSION = 1;

/** Every fault scenario of the reliability harness, by name (`keel reliability --scenario NAME`). */
export const ScenarioName = z.enum([
  'agent-kill-mid-stream',
  'agent-kill-mid-tool',
  'agent-kill-awaiting-approval',
  'agent-hang',
  'agent-bad-output',
  'stale-session',
  'restart-storm',
  'host-kill',
  'torn-tail',
  'mid-file-damage',
  'full-disk',
]);
export type ScenarioName = z.infer<typeof ScenarioName>;

export const HarnessProfile = z.enum(['quick', 'full', 'unit']);
export type HarnessProfile = z.infer<typeof HarnessProfile>;

const count = z.number().int().nonnegative();

/**
 * What one scenario counted (Jepsen-style): faults injected (`attempts`), events the system
 * acknowledged as durable, acknowledged events missing or changed afterwards (`lost`), events
 * stored that no writer attempted or a stale generation wrote (`unexpected`), faults after which
 * the system reached the expected state (`recovered`), prompts the agent received more than once,
 * approvals orphaned by a dead generation and how many of those were honoured exactly once when
 * asked again, and stale sessions and how many were remapped exactly once, visibly.
 */
export const ScenarioCounters = z
  .object({
    attempts: count,
    acknowledged: count,
    lost: count,
    unexpected: count,
    recovered: count,
    duplicatedPrompts: count,
    /** Prompts sent across a fault whose deliveries were counted (the duplicated-prompts SLO's denominator; absent in older scorecards). */
    promptsChecked: count.default(0),
    orphanedApprovals: count,
    orphanedApprovalsHonoured: count,
    staleSessions: count,
    staleSessionsRemapped: count,
  })
  .strict();
export type ScenarioCounters = z.infer<typeof ScenarioCounters>;

/** Nearest-rank percentiles of recovery times (restart decided -> session bound), in ms. */
export const DurationSummary = z
  .object({ count: z.number().int().positive(), p50: z.number().nonnegative(), p95: z.number().nonnegative(), max: z.number().nonnegative() })
  .strict();
export type DurationSummary = z.infer<typeof DurationSummary>;

export const ScenarioVerdict = z.enum(['passed', 'failed', 'skipped']);
export type ScenarioVerdict = z.infer<typeof ScenarioVerdict>;

export const ScenarioResult = z
  .object({
    name: ScenarioName,
    description: z.string(),
    seed: z.number().int().nonnegative(),
    durationMs: z.number().int().nonnegative(),
    verdict: ScenarioVerdict,
    /** Why a skipped scenario did not run (plain words). */
    skipReason: z.string().optional(),
    counters: ScenarioCounters,
    /** Every recovery time measured, in ms (the SLO's p95 is over all scenarios' samples). */
    recoveryMs: z.array(z.number().nonnegative()),
    recovery: DurationSummary.nullable(),
    /** The first problems the checkers found, in plain words (empty when it passed). */
    problems: z.array(z.string()).max(50),
  })
  .strict();
export type ScenarioResult = z.infer<typeof ScenarioResult>;

export const SloId = z.enum(['recovery_success', 'recovery_p95', 'stale_remap', 'approval_continuity', 'durability', 'duplicated_prompts']);
export type SloId = z.infer<typeof SloId>;

export const SloVerdict = z.enum(['met', 'missed', 'no_data']);
export type SloVerdict = z.infer<typeof SloVerdict>;

export const SloResult = z
  .object({
    id: SloId,
    label: z.string(),
    unit: z.enum(['%', 'ms', 'count']),
    comparator: z.enum(['>=', '<=']),
    target: z.number(),
    /** null when no selected scenario measures it (verdict no_data). */
    value: z.number().nullable(),
    verdict: SloVerdict,
  })
  .strict();
export type SloResult = z.infer<typeof SloResult>;

export const MachineInfo = z
  .object({
    cpu: z.string(),
    cores: z.number().int().positive(),
    memoryGiB: z.number().nonnegative(),
    os: z.string(),
    node: z.string(),
    /** 1, 5 and 15 minute load averages when the run started. */
    load: z.array(z.number().nonnegative()).length(3),
  })
  .strict();
export type MachineInfo = z.infer<typeof MachineInfo>;

export const Scorecard = z
  .object({
    schema_version: z.number().int().min(1).max(RELIABILITY_SCHEMA_VERSION),
    keelVersion: z.string(),
    gitSha: z.string().nullable(),
    createdAt: z.string().datetime(),
    profile: HarnessProfile,
    seed: z.number().int().nonnegative(),
    durationMs: z.number().int().nonnegative(),
    machine: MachineInfo,
    scenarios: z.array(ScenarioResult),
    slos: z.array(SloResult),
    verdict: z.enum(['pass', 'fail']),
    /**
     * Present in the scorecard written while the run goes (rewritten after each scenario, so a
     * run stopped or killed part-way keeps what it measured): the verdict and SLOs cover only
     * the scenarios done. Absent once every selected scenario has finished.
     */
    incomplete: z.object({ scenariosDone: z.number().int().nonnegative(), scenariosPlanned: z.number().int().positive() }).strict().optional(),
  })
  .strict();
export type Scorecard = z.infer<typeof Scorecard>;

/** One scorecard in the history: enough for a trend per SLO. */
export const ScorecardSummary = z
  .object({
    file: z.string(),
    createdAt: z.string(),
    keelVersion: z.string(),
    profile: HarnessProfile,
    seed: z.number().int().nonnegative(),
    verdict: z.enum(['pass', 'fail']),
    slos: z.array(z.object({ id: SloId, value: z.number().nullable(), verdict: SloVerdict }).strict()),
    /** The run stopped (or is still going) before every scenario finished: see Scorecard.incomplete. */
    incomplete: z.boolean().optional(),
  })
  .strict();
export type ScorecardSummary = z.infer<typeof ScorecardSummary>;

export const ReliabilityOverview = z
  .object({
    latest: Scorecard.nullable(),
    /** Oldest first. */
    history: z.array(ScorecardSummary),
    /** Scorecard files that could not be read, with the reason (never silently dropped). */
    unreadable: z.array(z.object({ file: z.string(), reason: z.string() }).strict()),
  })
  .strict();
export type ReliabilityOverview = z.infer<typeof ReliabilityOverview>;

/** One recovery of a run's agent: exit -> restart decided -> session bound. */
export const RecoveryEpisode = z
  .object({
    generation: z.number().int().positive(),
    reason: z.string(),
    exitedAt: z.string().nullable(),
    decidedAt: z.string(),
    boundAt: z.string().nullable(),
    outcome: z.string().nullable(),
    /** decidedAt -> boundAt; null when the session was never bound again. */
    recoveryMs: z.number().nonnegative().nullable(),
  })
  .strict();
export type RecoveryEpisode = z.infer<typeof RecoveryEpisode>;

/** Reliability facts of any run, from its ledger, with the harness's formulas (I9). */
export const RunReliabilityFacts = z
  .object({
    runId: RunId,
    restarts: count,
    hostRecoveries: count,
    recoveries: z.array(RecoveryEpisode),
    recovery: DurationSummary.nullable(),
    approvalsReset: count,
    approvalsCarried: count,
    remaps: count,
    duplicatedPrompts: count,
    staleGenerationEvents: count,
  })
  .strict();
export type RunReliabilityFacts = z.infer<typeof RunReliabilityFacts>;

/** What `reliability.progress` sends while a harness run is going. */
export const HarnessProgress = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('idle') }).strict(),
  z
    .object({
      kind: z.literal('running'),
      profile: HarnessProfile,
      seed: z.number().int().nonnegative(),
      scenario: ScenarioName,
      index: z.number().int().nonnegative(),
      total: z.number().int().positive(),
      done: count,
      planned: count,
    })
    .strict(),
  z.object({ kind: z.literal('finished'), file: z.string(), verdict: z.enum(['pass', 'fail']) }).strict(),
  z.object({ kind: z.literal('failed'), message: z.string() }).strict(),
]);
export type HarnessProgress = z.infer<typeof HarnessProgress>;

/** How an SLO value reads in its unit (CLI, Markdown and the pane print the same words). */
export function formatSloValue(unit: SloResult['unit'], value: number | null): string {
  if (value === null) return 'no data';
  if (unit === '%') return `${value} %`;
  if (unit === 'ms') return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
  return String(value);
}
