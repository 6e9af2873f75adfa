// Policy-as-code (DESIGN I8): the policy file's layers, shell commands parsed into actions, and
// the evaluation that decides allow / ask / deny with a rule id, a why and the policy hash.
// Pure apart from file reads when loading and the realpath / PATH lookups evaluation is given.
export { BUILTIN_POLICY, combineLayers, policyHash, stricter, type EffectivePolicy, type EffectiveRule, type PolicyLayer } from './layers.js';
export {
  loadPolicy,
  parsePolicyText,
  validatePolicyText,
  validatePolicyFile,
  checkExamples,
  ruleMatchesExample,
  formatPolicyError,
  policyFiles,
  USER_POLICY_FILE,
  WORKSPACE_POLICY_FILE,
  type PolicyError,
  type PolicyParseResult,
  type PolicyLoadOptions,
  type PolicyLoadResult,
} from './load.js';
export { loadShellParser, shellParserLoaded, commandActions, argvActions, type ShellOptions } from './shell.js';
export {
  evaluate,
  evaluate as evaluatePolicy,
  decideAction,
  defaultKey,
  normaliseInput,
  whichOnPath,
  SHELL_BUILTINS,
  type PolicyInput,
  type PolicyContext,
  type PolicyEvaluation,
  type EvaluatedAction,
} from './evaluate.js';
export { matchExecPattern, matchPathGlob, matchWord, ruleMatches, type MatchMode } from './match.js';
export { isSensitiveEnv, hostOf } from './commands.js';
export { MAX_SHELL_DEPTH, MAX_COMMAND_LENGTH } from './analysis.js';
export { STARTER_POLICY, writeStarterPolicy } from './starter.js';
export { requestInput, partSummary, decidedParts, ruleKind } from './requests.js';
export { policyLog, POLICY_EVENT_TYPES } from './log.js';
export { proposeRule, checkRuleProposal, applyRuleProposal, type RuleProposal } from './rule-proposal.js';
