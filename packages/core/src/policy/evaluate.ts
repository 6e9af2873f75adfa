import fs from 'node:fs';
import path from 'node:path';
import type { PolicyAction, PolicyDecision, PolicyDefaultKey, PolicyLayerName, PolicyVerdict } from '../contract/schemas/policy.js';
import { resolveInWorkspace } from '../workspace/index.js';
import { hostOf, isSensitiveEnv } from './commands.js';
import { STRICTNESS, stricter, type EffectivePolicy, type EffectiveRule } from './layers.js';
import { matchWord, ruleMatches, type MatchSubject } from './match.js';
import { argvActions, commandActions } from './shell.js';

/** What to judge: a shell command, an argv, a path, a host, or actions already normalised. */
export type PolicyInput =
  | { command: string }
  | { argv: readonly string[] }
  | { write: string | readonly string[] }
  | { read: string | readonly string[] }
  | { network: string }
  | { actions: readonly PolicyAction[] };

/**
 * Everything evaluation needs from the world, passed in so tests can inject it: the workspace,
 * where the command runs, whether anybody can answer an ask, and the two lookups (PATH and
 * realpath). Without `path`, `home`, `which` or `realpath` the process's own are used.
 */
export interface PolicyContext {
  /** The run's workspace (absolute). */
  workspace: string;
  /** The directory the command runs in; default the workspace. */
  cwd?: string;
  /** Nobody can answer: `ask` becomes the policy's unattended_ask, and unknown becomes deny. */
  unattended?: boolean;
  /**
   * Asks are answered without anybody looking (`--approve all`): an ask about something not
   * statically known is denied as when nobody can answer, since nobody judges what it means.
   */
  approveAll?: boolean;
  /** $HOME for `~` (default process.env.HOME). */
  home?: string;
  /** $PATH for resolving bare program names (default process.env.PATH). */
  path?: string;
  /** Finds a bare program name on `path`; null when it is not there. */
  which?: (program: string, searchPath: string | undefined, cwd: string) => string | null;
  /** Real path of `target` and whether it is inside the workspace (default: workspace/resolveInWorkspace). */
  realpath?: (workspace: string, target: string) => { path: string; inside: boolean };
}

export type EvaluatedAction = PolicyAction & PolicyVerdict;

export interface PolicyEvaluation extends PolicyVerdict {
  policyHash: string;
  actions: EvaluatedAction[];
}

/** Builtins of bash: a bare name runs them whatever PATH says. */
export const SHELL_BUILTINS = new Set([
  '.', ':', '[', 'alias', 'bg', 'bind', 'break', 'builtin', 'caller', 'cd', 'command', 'compgen', 'complete', 'compopt', 'continue',
  'declare', 'dirs', 'disown', 'echo', 'enable', 'eval', 'exec', 'exit', 'export', 'false', 'fc', 'fg', 'getopts', 'hash', 'help',
  'history', 'jobs', 'kill', 'let', 'local', 'logout', 'mapfile', 'popd', 'printf', 'pushd', 'pwd', 'read', 'readarray', 'readonly',
  'return', 'set', 'shift', 'shopt', 'source', 'suspend', 'test', 'time', 'times', 'trap', 'true', 'type', 'typeset', 'ulimit', 'umask',
  'unalias', 'unset', 'wait', 'coproc',
]);

/** A bare program name found on PATH (an executable regular file), or null. */
export function whichOnPath(program: string, searchPath: string | undefined, cwd: string): string | null {
  if (!searchPath || program.includes('/') || program === '') return null;
  for (const dir of searchPath.split(path.delimiter)) {
    const candidate = path.resolve(cwd, dir === '' ? '.' : dir, program);
    try {
      if (!fs.statSync(candidate).isFile()) continue;
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function defaultRealpath(workspace: string, target: string): { path: string; inside: boolean } {
  try {
    return resolveInWorkspace(workspace, target);
  } catch {
    return { path: path.resolve(workspace, target), inside: false };
  }
}

const realDir = (dir: string): string => {
  try {
    return fs.realpathSync(dir);
  } catch {
    return dir;
  }
};

/** The input as actions (shell commands parsed; paths absolute, not yet real). */
export function normaliseInput(input: PolicyInput, context: PolicyContext): PolicyAction[] {
  const cwd = path.resolve(context.workspace, context.cwd ?? '.');
  const home = context.home ?? process.env.HOME;
  const options = { cwd, ...(home ? { home } : {}) };
  const expand = (target: string) => (home && (target === '~' || target.startsWith('~/')) ? home + target.slice(1) : target);
  if ('command' in input) return commandActions(input.command, options);
  if ('argv' in input) return argvActions(input.argv, options);
  if ('write' in input || 'read' in input) {
    const kind = 'write' in input ? 'write' : 'read';
    const targets = 'write' in input ? input.write : input.read;
    return (typeof targets === 'string' ? [targets] : [...targets]).map((target) => ({
      kind,
      target,
      paths: [path.resolve(cwd, expand(target))],
      cwd,
    }));
  }
  if ('network' in input) {
    const found = hostOf(input.network, false) ?? hostOf(input.network, true);
    return [{ kind: 'network', host: found?.host ?? input.network.toLowerCase(), ...(found?.port ? { port: found.port } : {}), ...(found?.url ? { url: found.url } : {}) }];
  }
  return input.actions.map((action) => ({ ...action }));
}

/** Which default applies to an action no rule matches. */
export function defaultKey(action: PolicyAction): PolicyDefaultKey {
  switch (action.kind) {
    case 'write':
      return action.inside ? 'write_inside' : 'write_outside';
    case 'read':
      return action.inside ? 'read_inside' : 'read_outside';
    default:
      return action.kind;
  }
}

interface Resolved extends MatchSubject {
  action: PolicyAction;
}

/** Per evaluation: PATH lookups by program and directory (a long command repeats them). */
type TrustCache = Map<string, boolean>;

function resolve(action: PolicyAction, context: PolicyContext, workspace: string, home: string | undefined, cache: TrustCache): Resolved {
  const realpath = context.realpath ?? defaultRealpath;
  const cwd = action.cwd ?? path.resolve(context.workspace, context.cwd ?? '.');
  let resolved: PolicyAction = action;
  if (action.kind === 'write' || action.kind === 'read') {
    const real = action.paths.map((target) => realpath(context.workspace, path.resolve(cwd, target)));
    resolved = { ...action, paths: real.map((entry) => entry.path), inside: real.length > 0 && real.every((entry) => entry.inside) };
  }
  let trusted = true;
  const program = action.program;
  if (program !== undefined) {
    trusted = false;
    if (typeof program === 'string' && program !== '' && !program.includes('/') && !(action.env ?? []).some(isSensitiveEnv)) {
      if (SHELL_BUILTINS.has(program)) trusted = true;
      else {
        const key = `${cwd}\0${program}`;
        const cached = cache.get(key);
        if (cached !== undefined) trusted = cached;
        else {
          const found = (context.which ?? whichOnPath)(program, context.path ?? process.env.PATH, cwd);
          // A program found inside the workspace (PATH holding `.` or node_modules/.bin) is the agent's to change.
          trusted = found !== null && !realpath(context.workspace, found).inside;
          cache.set(key, trusted);
        }
      }
    }
  }
  return { action: resolved, trusted, workspace, home };
}

function describeRule(rule: EffectiveRule): string {
  return rule.why ?? `rule ${rule.id} (${rule.layer})`;
}

interface Candidate {
  decision: PolicyDecision;
  rule: string;
  layer: PolicyLayerName | null;
  why: string;
}

/** The deps section as a rule: strict denies, open allows, allowlist allows listed packages. */
function depsSetting(policy: EffectivePolicy, subject: Resolved): Candidate | null {
  const { action } = subject;
  if (action.kind !== 'deps' || policy.deps.mode === undefined) return null;
  const layer = policy.deps.layer;
  if (policy.deps.mode === 'strict') return { decision: 'deny', rule: 'deps:strict', layer, why: 'The policy allows no dependency changes (deps: strict).' };
  const allowed = action.program === undefined || subject.trusted;
  if (!allowed || action.unknown !== undefined) return null;
  if (policy.deps.mode === 'open') return { decision: 'allow', rule: 'deps:open', layer, why: 'The policy allows any dependency change (deps: open).' };
  const list = policy.deps.allow ?? [];
  if (action.packages.length > 0 && action.packages.every((name) => list.some((glob) => matchWord(glob, name)))) {
    return { decision: 'allow', rule: 'deps:allowlist', layer, why: `Every package is on the policy's allowlist: ${action.packages.join(', ')}.` };
  }
  return null;
}

/** The verdict for one resolved action. */
export function decideAction(policy: EffectivePolicy, subject: Resolved, unattended: boolean, approveAll = false): PolicyVerdict {
  const { action } = subject;
  const candidates: Candidate[] = policy.rules
    .filter((rule) => ruleMatches(rule, subject))
    .map((rule) => ({ decision: rule.decision, rule: rule.id, layer: rule.layer, why: describeRule(rule) }));
  const setting = depsSetting(policy, subject);
  if (setting) candidates.push(setting);
  let verdict: PolicyVerdict;
  if (candidates.length > 0) {
    const decision = candidates.reduce<PolicyDecision>((worst, candidate) => stricter(worst, candidate.decision), 'allow');
    const winner = candidates.find((candidate) => candidate.decision === decision)!;
    verdict = { decision, rule: winner.rule, layer: winner.layer, why: winner.why };
  } else {
    const key = defaultKey(action);
    verdict = { decision: policy.defaults[key], rule: null, layer: policy.defaultLayers[key] ?? 'builtin', why: `no rule: default for ${key}` };
  }
  if (action.unknown !== undefined && (verdict.decision === 'allow' || (verdict.decision === 'ask' && verdict.rule === null))) {
    verdict = { decision: 'ask', rule: null, layer: null, why: `not statically known, never allowed: ${action.unknown}` };
  }
  if (unattended && verdict.decision === 'ask') {
    if (action.unknown !== undefined) verdict = { ...verdict, decision: 'deny', why: `${verdict.why} (unattended: nobody can answer, and it is not statically known)` };
    else {
      const becomes = policy.defaults.unattended_ask;
      verdict = { ...verdict, decision: becomes, why: `${verdict.why} (unattended: ask becomes ${becomes})` };
    }
  } else if (approveAll && verdict.decision === 'ask' && action.unknown !== undefined) {
    // `--approve all` answers asks about actions Keel can show as they are; nobody looks at this one.
    verdict = { ...verdict, decision: 'deny', why: `${verdict.why} (--approve all approves only what is statically known)` };
  }
  return verdict;
}

/**
 * Judges an input against the policy: every action it normalises to gets a verdict, and the
 * input's decision is the strictest of them (deny > ask > allow), with that action's rule and
 * why. An input with no action at all (an empty command, a comment) is allowed.
 */
export function evaluate(policy: EffectivePolicy, input: PolicyInput, context: PolicyContext): PolicyEvaluation {
  const workspace = realDir(context.workspace);
  const homeValue = context.home ?? process.env.HOME;
  const home = homeValue === undefined ? undefined : realDir(homeValue);
  const cache: TrustCache = new Map();
  const actions: EvaluatedAction[] = normaliseInput(input, context).map((action) => {
    const subject = resolve(action, context, workspace, home, cache);
    return { ...subject.action, ...decideAction(policy, subject, context.unattended === true, context.approveAll === true) } as EvaluatedAction;
  });
  let top: EvaluatedAction | undefined;
  for (const action of actions) if (top === undefined || STRICTNESS[action.decision] > STRICTNESS[top.decision]) top = action;
  if (top === undefined) return { decision: 'allow', rule: null, layer: null, why: 'the command runs nothing', policyHash: policy.hash, actions };
  return { decision: top.decision, rule: top.rule, layer: top.layer, why: top.why, policyHash: policy.hash, actions };
}
