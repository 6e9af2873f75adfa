export { percentile, summarizeDurations, evaluateSlos, overallVerdict, scenarioPassed, sloVerdict, SLO_DEFINITIONS, zeroCounters, addCounters } from './formulas.js';
export { checkDurability, countDuplicatedPrompts, staleGenerationEvents, checkApprovalContinuity, checkRemap, type Acknowledgement, type DurabilityCheck, type ApprovalContinuity } from './checkers.js';
export { runReliabilityFacts, recoveryEpisodes, duplicatedPromptIntents } from './facts.js';
export { runHarness, scenarioSeed, randomSeed, type HarnessOptions, type HarnessProgressEvent } from './harness.js';
export { SCENARIOS, scenarioByName } from './scenarios/index.js';
export { reliabilityDir, scorecardStem, renderMarkdown, writeScorecard, readScorecards, summarize } from './scorecard.js';
export { HarnessJobs } from './jobs.js';
export { machineInfo, gitSha } from './machine.js';
export type { Scenario, ScenarioContext, ScenarioOutcome } from './scenario.js';
