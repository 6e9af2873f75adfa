import path from 'node:path';
import picomatch from 'picomatch';
import type { PolicyAction, PolicyRule, PushMatcher } from '../contract/schemas/policy.js';

// Whether one rule matches one action. Two modes, from the rule's decision:
//  - an allow rule matches only what it surely covers: every argument it names is statically
//    known, every path and package is covered, the program is trusted (a bare name that
//    resolves through PATH, checked by the caller);
//  - a deny or ask rule matches whatever it could cover at run time: an argument that is not
//    statically known may be any number of words, a path or package list matches when any
//    member does, a program matches by its basename wherever it lives.
// So an action is never more lenient for being obscured.

export type MatchMode = 'sure' | 'could';
export const modeOf = (rule: Pick<PolicyRule, 'decision'>): MatchMode => (rule.decision === 'allow' ? 'sure' : 'could');

const wordGlobs = new Map<string, RegExp>();

/** A word glob: `*` matches any characters (none included); everything else is literal. */
export function matchWord(pattern: string, text: string, flags = ''): boolean {
  const key = `${flags}\0${pattern}`;
  let regex = wordGlobs.get(key);
  if (regex === undefined) {
    regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[\\^$.+?()[\]{}|/-]/g, '\\$&')).join('[\\s\\S]*')}$`, flags);
    if (wordGlobs.size > 10_000) wordGlobs.clear();
    wordGlobs.set(key, regex);
  }
  return regex.test(text);
}

export const patternWords = (pattern: string): string[] => pattern.trim().split(/\s+/);

interface ArgvView {
  program: string;
  args: readonly string[];
  dynamic: ReadonlySet<number>;
  moreArgs: boolean;
}

/**
 * Exec pattern against program + arguments. The first word matches the program (its bare name
 * for allow rules, its basename for the others); a final lone `*` matches any remaining
 * arguments (none included); every other word matches exactly one argument.
 */
export function matchExecPattern(pattern: string, view: ArgvView, mode: MatchMode): boolean {
  const [programPattern, ...rest] = patternWords(pattern);
  const name = mode === 'sure' ? view.program : path.posix.basename(view.program);
  if (programPattern === undefined || !matchWord(programPattern, name)) return false;
  const trailing = rest[rest.length - 1] === '*';
  const fixed = trailing ? rest.slice(0, -1) : rest;
  const args = view.args;
  if (mode === 'sure') {
    if (args.length < fixed.length) return false;
    for (let i = 0; i < fixed.length; i++) if (view.dynamic.has(i) || !matchWord(fixed[i]!, args[i]!)) return false;
    return trailing || (args.length === fixed.length && !view.moreArgs);
  }
  // could: a dynamic argument stands for zero or more words; more arguments may follow (xargs).
  // ok[i][j]: fixed[i..] can match args[j..]. Filled from the end, no recursion (long inputs).
  const width = args.length + 1;
  const ok = new Uint8Array((fixed.length + 1) * width);
  const at = (i: number, j: number) => ok[i * width + j] === 1;
  for (let i = fixed.length; i >= 0; i--) {
    for (let j = args.length; j >= 0; j--) {
      let value: boolean;
      if (j === args.length) value = i === fixed.length || view.moreArgs;
      else if (view.dynamic.has(j)) value = at(i, j + 1) || (i < fixed.length && at(i + 1, j));
      else if (i === fixed.length) value = trailing;
      else value = matchWord(fixed[i]!, args[j]!) && at(i + 1, j + 1);
      ok[i * width + j] = value ? 1 : 0;
    }
  }
  return at(0, 0);
}

const compiled = new Map<string, (candidate: string) => boolean>();
function globMatcher(glob: string): (candidate: string) => boolean {
  let matcher = compiled.get(glob);
  if (matcher === undefined) {
    matcher = picomatch(glob, { dot: true });
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(glob, matcher);
  }
  return matcher;
}

/**
 * A gitignore-style path glob against an absolute real path. Relative globs are relative to the
 * workspace (and match only inside it): one without a slash matches at any depth, one with a
 * slash is anchored at the workspace root, a trailing slash means "everything under"; a glob
 * matching a directory matches everything under it. `/...` is absolute, `~/...` under home.
 */
export function matchPathGlob(glob: string, realPath: string, where: { workspace: string; home?: string | undefined }): boolean {
  let base: string;
  let pattern: string;
  if (glob.startsWith('/')) {
    base = '/';
    pattern = glob.slice(1);
  } else if (glob === '~' || glob.startsWith('~/')) {
    if (where.home === undefined) return false;
    base = where.home;
    pattern = glob.slice(2);
  } else {
    base = where.workspace;
    pattern = glob.replace(/^\.\//, '');
    const body = pattern.replace(/\/+$/, '');
    if (!body.includes('/')) pattern = `**/${pattern}`;
  }
  const relative = path.relative(base, realPath);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return false;
  if (pattern === '' || pattern === '**') return true;
  const directory = pattern.endsWith('/');
  const body = pattern.replace(/\/+$/, '');
  const candidate = relative.split(path.sep).join('/');
  return (!directory && globMatcher(body)(candidate)) || globMatcher(`${body}/**`)(candidate);
}

const nameGlobs = (value: string | readonly string[] | undefined): readonly string[] | undefined => (typeof value === 'string' ? [value] : value);

function matchPush(matcher: PushMatcher, action: Extract<PolicyAction, { kind: 'push' }>, mode: MatchMode): boolean {
  if (matcher.force !== undefined && matcher.force !== action.force) return false;
  const check = (globs: readonly string[] | undefined, value: string | null) => {
    if (globs === undefined) return true;
    if (value === null) return mode === 'could'; // the default remote or branch: could be any
    return globs.some((glob) => matchWord(glob, value));
  };
  return check(nameGlobs(matcher.remote), action.remote) && check(nameGlobs(matcher.branch), action.branch);
}

export interface MatchSubject {
  action: PolicyAction;
  /** Whether an allow rule may apply to the program (bare name through PATH, no tampered env). */
  trusted: boolean;
  workspace: string;
  home?: string | undefined;
}

/** Whether `rule` matches the action. Exec rules match every action that came from a command. */
export function ruleMatches(rule: PolicyRule, subject: MatchSubject): boolean {
  const { action } = subject;
  const mode = modeOf(rule);
  const program = action.program;
  if (mode === 'sure' && program !== undefined && !subject.trusted) return false;
  if (rule.exec) {
    if (typeof program !== 'string') return false;
    const view: ArgvView = {
      program,
      args: action.args ?? [],
      dynamic: new Set(action.dynamicArgs ?? []),
      moreArgs: action.moreArgs === true,
    };
    return rule.exec.some((pattern) => matchExecPattern(pattern, view, mode));
  }
  if (rule.write || rule.read) {
    const globs = rule.write ?? rule.read!;
    if (action.kind !== (rule.write ? 'write' : 'read')) return false;
    if (action.paths.length === 0) return mode === 'could';
    const matches = (candidate: string) => globs.some((glob) => matchPathGlob(glob, candidate, subject));
    return mode === 'sure' ? action.paths.every(matches) : action.paths.some(matches);
  }
  if (rule.network) {
    if (action.kind !== 'network') return false;
    if (action.host === null) return mode === 'could' ? action.unknown !== undefined || rule.network.includes('*') : rule.network.includes('*') && action.unknown === undefined;
    return rule.network.some((glob) => matchWord(glob.toLowerCase(), action.host!));
  }
  if (rule.push) return action.kind === 'push' && matchPush(rule.push, action, mode);
  if (rule.deps) {
    if (action.kind !== 'deps') return false;
    const matches = (name: string) => rule.deps!.some((glob) => matchWord(glob, name));
    return mode === 'sure' ? action.packages.length > 0 && action.packages.every(matches) : action.packages.some(matches) || action.unknown !== undefined;
  }
  return false;
}
