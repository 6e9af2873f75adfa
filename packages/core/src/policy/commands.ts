import path from 'node:path';
import type { PolicyAction } from '../contract/schemas/policy.js';
import { MAX_SHELL_DEPTH, MAX_WRAPPERS, type Analysis, type Frame } from './analysis.js';
import { isStatic, literalWord, type ShellWord } from './words.js';

// Turns one simple command (its words after quote removal) into actions: wrappers are unwrapped
// (the wrapper and the inner command are both judged), nested shell strings are parsed again,
// and the commands the policy knows by meaning — git push, package installs, network clients —
// become push, deps and network actions. Everything here errs on the strict side: an option this
// code does not know is taken as a flag (so its would-be value is still judged), and anything it
// cannot place is an action that is not statically known.

/** Variables that change which program runs or what it loads: set anywhere, no allow rule applies. */
const SENSITIVE_ENV = new Set([
  'PATH', 'CDPATH', 'IFS', 'ENV', 'BASH_ENV', 'SHELLOPTS', 'BASHOPTS', 'PROMPT_COMMAND', 'ZDOTDIR', 'HOME', 'XDG_CONFIG_HOME',
  'NODE_OPTIONS', 'NODE_PATH', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PYTHONUSERBASE', 'PERL5OPT', 'PERL5LIB', 'PERLLIB',
  'RUBYOPT', 'RUBYLIB', 'GIT_EXEC_PATH', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_ASKPASS', 'GIT_EDITOR', 'GIT_PAGER', 'GIT_DIR',
  'GIT_WORK_TREE', 'GIT_TEMPLATE_DIR', 'GIT_PROXY_COMMAND', 'SSH_ASKPASS', 'EDITOR', 'VISUAL', 'PAGER', 'MANPAGER', 'LESSOPEN',
  'BROWSER', 'SHELL', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'CARGO_HOME', 'RUSTC_WRAPPER', 'GOFLAGS',
]);
const SENSITIVE_ENV_PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_', 'GIT_CONFIG', 'NPM_CONFIG_', 'YARN_', 'PNPM_', 'PIP_'];

export function isSensitiveEnv(name: string): boolean {
  if (name.startsWith('(')) return true; // a builtin that rebinds names: `(hash)`, `(alias)`, `(enable)`
  const upper = name.toUpperCase();
  return SENSITIVE_ENV.has(name) || SENSITIVE_ENV_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/** Programs that may create or move symlinks: a redirect in the same input may then go anywhere. */
const LINK_MAKERS = new Set(['ln', 'mv', 'cp', 'tar', 'bsdtar', 'unzip', 'cpio', 'rsync', 'install', 'link', 'symlink']);
const GIT_LINK_MAKERS = new Set(['checkout', 'switch', 'restore', 'reset', 'apply', 'am', 'pull', 'merge', 'rebase', 'stash', 'cherry-pick', 'clone', 'worktree', 'read-tree', 'checkout-index', 'submodule', 'revert']);

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'yash', 'posh', 'busybox']);

// ---------------------------------------------------------------------------------------------
// Option scanning
// ---------------------------------------------------------------------------------------------

interface OptionSpec {
  /** Short options taking a value (`-u root`, `-uroot`). */
  shortValue?: string;
  /** Long options taking a value (`--user root`, `--user=root`). */
  longValue?: readonly string[];
  /** Options after which nothing is a command (`sudo -l`): the wrapper runs nothing. */
  stop?: readonly string[];
  /** Stop at the first positional (GNU getopt "+" mode, how wrappers parse). */
}

type Scan =
  | { ok: true; index: number; options: Map<string, string | true> }
  | { ok: false; reason: string };

/**
 * Scans leading options of a wrapper: returns the index of the first positional word and the
 * options seen (values for those taking one). An option that is not statically known makes the
 * position of the inner command unknown.
 */
function scanOptions(args: readonly ShellWord[], spec: OptionSpec, start = 0): Scan {
  const options = new Map<string, string | true>();
  let i = start;
  while (i < args.length) {
    const word = args[i]!;
    if (!isStatic(word)) {
      if (word.value !== null && !word.value.startsWith('-')) return { ok: true, index: i, options };
      return { ok: false, reason: `an option is not statically known: ${word.source}` };
    }
    const text = word.value;
    if (text === '--') return { ok: true, index: i + 1, options };
    if (!text.startsWith('-') || text === '-') return { ok: true, index: i, options };
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const name = eq === -1 ? text : text.slice(0, eq);
      if (eq === -1 && spec.longValue?.includes(name)) {
        const value = args[i + 1];
        if (value === undefined) return { ok: true, index: i + 1, options };
        options.set(name, value.value ?? value.source);
        i += 2;
        continue;
      }
      options.set(name, eq === -1 ? true : text.slice(eq + 1));
      i += 1;
      continue;
    }
    // A cluster of short options: `-nu`, `-uroot`, `-n5`.
    let consumedNext = false;
    for (let c = 1; c < text.length; c++) {
      const letter = text[c]!;
      if (spec.shortValue?.includes(letter)) {
        const rest = text.slice(c + 1);
        if (rest !== '') options.set(`-${letter}`, rest);
        else {
          const value = args[i + 1];
          options.set(`-${letter}`, value?.value ?? value?.source ?? '');
          consumedNext = true;
        }
        break;
      }
      options.set(`-${letter}`, true);
    }
    i += consumedNext ? 2 : 1;
  }
  return { ok: true, index: i, options };
}

const has = (scan: Extract<Scan, { ok: true }>, ...names: string[]) => names.some((name) => scan.options.has(name));

// ---------------------------------------------------------------------------------------------
// Wrappers
// ---------------------------------------------------------------------------------------------

type Inner =
  | { kind: 'argv'; index: number; env?: string[]; moreArgs?: boolean; via?: string }
  | { kind: 'script'; text: string | null; via: string; source?: string }
  | { kind: 'none' }
  | { kind: 'unknown'; reason: string };

const joined = (words: readonly ShellWord[]): string | null => (words.every(isStatic) ? words.map((word) => word.value).join(' ') : null);
const sourceOf = (words: readonly ShellWord[]) => words.map((word) => word.source).join(' ');

function fromScan(scan: Scan, extra: Partial<Extract<Inner, { kind: 'argv' }>> = {}): Inner {
  if (!scan.ok) return { kind: 'unknown', reason: scan.reason };
  return { kind: 'argv', index: scan.index, ...extra };
}

const WRAPPERS: Record<string, (args: readonly ShellWord[], name: string) => Inner> = {
  env(args) {
    const env: string[] = [];
    let i = 0;
    while (i < args.length) {
      const scan = scanOptions(args, { shortValue: 'uCS', longValue: ['--unset', '--chdir', '--split-string', '--default-signal', '--ignore-signal', '--block-signal'] }, i);
      if (!scan.ok) return { kind: 'unknown', reason: scan.reason };
      const split = scan.options.get('-S') ?? scan.options.get('--split-string');
      if (typeof split === 'string') {
        // `env -S "cmd args"` splits the string into the command: judge it as a script.
        const rest = args.slice(scan.index);
        const restText = joined(rest);
        return { kind: 'script', text: restText === null ? null : [split, restText].filter(Boolean).join(' '), via: 'env -S' };
      }
      i = scan.index;
      const word = args[i];
      if (word && isStatic(word) && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word.value)) {
        env.push(word.value.slice(0, word.value.indexOf('=')));
        i += 1;
        continue;
      }
      if (word && word.value === null) return { kind: 'unknown', reason: `the command after env is not statically known: ${word.source}` };
      break;
    }
    if (i >= args.length) return { kind: 'none' };
    return { kind: 'argv', index: i, env };
  },
  command(args) {
    const scan = scanOptions(args, {});
    if (scan.ok && has(scan, '-v', '-V')) return { kind: 'none' };
    return fromScan(scan);
  },
  builtin: (args) => fromScan(scanOptions(args, {})),
  exec: (args) => fromScan(scanOptions(args, { shortValue: 'a' })),
  nohup: (args) => fromScan(scanOptions(args, {})),
  setsid: (args) => fromScan(scanOptions(args, {})),
  time: (args) => fromScan(scanOptions(args, { shortValue: 'of', longValue: ['--output', '--format'] })),
  nice(args) {
    // `nice -10 cmd` is an old spelling of `-n 10`.
    const normalised = args.map((arg, index) => (index === 0 && isStatic(arg) && /^-\d+$/.test(arg.value) ? literalWord('-n0') : arg));
    return fromScan(scanOptions(normalised, { shortValue: 'n', longValue: ['--adjustment'] }));
  },
  ionice(args) {
    const scan = scanOptions(args, { shortValue: 'cnpPtu', longValue: ['--class', '--classdata', '--pid', '--pgid', '--uid'] });
    if (scan.ok && has(scan, '-p', '-P', '-u', '--pid', '--pgid', '--uid')) return { kind: 'none' };
    return fromScan(scan);
  },
  stdbuf: (args) => fromScan(scanOptions(args, { shortValue: 'ioe', longValue: ['--input', '--output', '--error'] })),
  timeout(args) {
    const scan = scanOptions(args, { shortValue: 'sk', longValue: ['--signal', '--kill-after'] });
    if (!scan.ok) return { kind: 'unknown', reason: scan.reason };
    return { kind: 'argv', index: scan.index + 1 }; // the duration, then the command
  },
  coproc: (args) => fromScan(scanOptions(args, {})),
  sudo(args) {
    const scan = scanOptions(args, {
      shortValue: 'CDghpRrTtUu',
      longValue: ['--close-from', '--chdir', '--group', '--host', '--prompt', '--chroot', '--role', '--command-timeout', '--type', '--other-user', '--user'],
    });
    if (!scan.ok) return { kind: 'unknown', reason: scan.reason };
    if (has(scan, '-e', '--edit', '-l', '--list', '-v', '--validate', '-k', '-K', '--reset-timestamp', '--remove-timestamp', '-V', '--version', '-h', '--help')) {
      return { kind: 'none' };
    }
    const rest = args.slice(scan.index);
    if (has(scan, '-s', '--shell', '-i', '--login')) {
      // The command runs through the target user's shell: judge it as a script.
      return rest.length === 0 ? { kind: 'none' } : { kind: 'script', text: joined(rest), via: 'sudo -s', source: sourceOf(rest) };
    }
    return { kind: 'argv', index: scan.index };
  },
  doas(args) {
    const scan = scanOptions(args, { shortValue: 'uC' });
    if (!scan.ok) return { kind: 'unknown', reason: scan.reason };
    if (has(scan, '-s')) return { kind: 'none' };
    return { kind: 'argv', index: scan.index };
  },
  xargs(args) {
    const scan = scanOptions(args, {
      shortValue: 'adEILnPs',
      longValue: ['--arg-file', '--delimiter', '--eof', '--replace', '--max-lines', '--max-args', '--max-procs', '--max-chars', '--process-slot-var'],
    });
    if (!scan.ok) return { kind: 'unknown', reason: scan.reason };
    if (scan.index >= args.length) return { kind: 'none' }; // xargs alone runs echo
    return { kind: 'argv', index: scan.index, moreArgs: true };
  },
  flock(args) {
    const scan = scanOptions(args, { shortValue: 'wEc', longValue: ['--timeout', '--conflict-exit-code', '--command'] });
    if (!scan.ok) return { kind: 'unknown', reason: scan.reason };
    const command = scan.options.get('-c') ?? scan.options.get('--command');
    if (typeof command === 'string') return { kind: 'script', text: command, via: 'flock -c' };
    if (scan.index + 1 >= args.length) return { kind: 'none' };
    const afterFile = args.slice(scan.index + 1);
    if (afterFile[0] && isStatic(afterFile[0]) && (afterFile[0].value === '-c' || afterFile[0].value === '--command')) {
      return { kind: 'script', text: afterFile[1] ? (isStatic(afterFile[1]) ? afterFile[1].value : null) : null, via: 'flock -c' };
    }
    return { kind: 'argv', index: scan.index + 1 };
  },
  watch(args) {
    const scan = scanOptions(args, { shortValue: 'nqd', longValue: ['--interval', '--differences', '--equexit', '--errexit', '--chgexit'] });
    if (!scan.ok) return { kind: 'unknown', reason: scan.reason };
    const rest = args.slice(scan.index);
    if (rest.length === 0) return { kind: 'none' };
    if (has(scan, '-x', '--exec')) return { kind: 'argv', index: scan.index };
    return { kind: 'script', text: joined(rest), via: 'watch', source: sourceOf(rest) };
  },
  eval(args) {
    if (args.length === 0) return { kind: 'none' };
    return { kind: 'script', text: joined(args), via: 'eval', source: sourceOf(args) };
  },
  su(args) {
    const scan = scanOptions(args, { shortValue: 'cgGsw', longValue: ['--command', '--session-command', '--group', '--supp-group', '--shell', '--whitelist-environment'] });
    if (!scan.ok) return { kind: 'unknown', reason: scan.reason };
    const command = scan.options.get('-c') ?? scan.options.get('--command') ?? scan.options.get('--session-command');
    if (typeof command === 'string') return { kind: 'script', text: command, via: 'su -c' };
    return { kind: 'none' };
  },
  find(args) {
    // `find ... -exec cmd {} ;` runs cmd: judge it (with more arguments coming: the found files).
    const at = args.findIndex((arg) => isStatic(arg) && ['-exec', '-execdir', '-ok', '-okdir'].includes(arg.value));
    if (at === -1) return { kind: 'none' };
    return { kind: 'argv', index: at + 1, moreArgs: true, via: `find ${args[at]!.value}` };
  },
};

/** `sh -c STRING`, `bash -lc STRING`, `bash -e -o pipefail -c STRING`: the string, or none. */
function shellInner(args: readonly ShellWord[], name: string): Inner {
  let i = 0;
  let command = false;
  while (i < args.length) {
    const word = args[i]!;
    if (!isStatic(word)) {
      if (command) break;
      return { kind: 'unknown', reason: `an option of ${name} is not statically known: ${word.source}` };
    }
    const text = word.value;
    if (text === '--' || text === '-') {
      i += 1;
      break;
    }
    if (/^[-+]o$/.test(text) || /^[-+]O$/.test(text) || text === '--rcfile' || text === '--init-file') {
      i += 2;
      continue;
    }
    if (/^-[A-Za-z]+$/.test(text)) {
      if (text.includes('c')) command = true;
      i += 1;
      continue;
    }
    if (/^\+[A-Za-z]+$/.test(text) || text.startsWith('--')) {
      i += 1;
      continue;
    }
    break;
  }
  if (!command) {
    // `bash script.sh` or `bash` reading stdin: what it runs is in a file or a pipe, not here.
    return { kind: 'none' };
  }
  const script = args[i];
  if (script === undefined) return { kind: 'unknown', reason: `${name} -c without a command` };
  return { kind: 'script', text: isStatic(script) ? script.value : null, via: `${name} -c`, source: script.source };
}

// ---------------------------------------------------------------------------------------------
// Commands known by meaning
// ---------------------------------------------------------------------------------------------

/** The host of a URL or URL-like argument (`https://h/x`, `h:22`, `user@h:path` when scpLike). */
export function hostOf(spec: string, scpLike: boolean): { host: string; port?: number; url?: string } | null {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(spec);
  if (scheme) {
    if (scheme[1]!.toLowerCase() === 'file') return null;
    try {
      const url = new URL(spec);
      const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      if (host === '') return null;
      return { host, ...(url.port ? { port: Number(url.port) } : {}), url: spec };
    } catch {
      return null;
    }
  }
  if (scpLike) {
    const scp = /^(?:[^@/:\s]+@)?(\[[^\]]+\]|[^:/\s]+):(?!\/\/)/.exec(spec);
    if (scp) return { host: scp[1]!.replace(/^\[|\]$/g, '').toLowerCase() };
    return null;
  }
  const bare = /^(?:[^@/:\s]+@)?([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9a-fA-F:.]+\])(?::(\d+))?(?:[/?#]|$)/.exec(spec);
  if (bare && (bare[1]!.includes('.') || bare[1]!.startsWith('[') || bare[1] === 'localhost')) {
    return { host: bare[1]!.replace(/^\[|\]$/g, '').toLowerCase(), ...(bare[2] ? { port: Number(bare[2]) } : {}) };
  }
  return null;
}

interface Positionals {
  positionals: ShellWord[];
  options: Map<string, Array<string>>;
  dynamic: ShellWord[];
}

/** All positionals and options of a command whose options may come anywhere (GNU style). */
function splitArgs(args: readonly ShellWord[], spec: { shortValue?: string; longValue?: readonly string[] }): Positionals {
  const positionals: ShellWord[] = [];
  const options = new Map<string, string[]>();
  const dynamic: ShellWord[] = [];
  const add = (name: string, value: string) => options.set(name, [...(options.get(name) ?? []), value]);
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (!isStatic(word)) {
      dynamic.push(word);
      if (word.value !== null && !word.value.startsWith('-')) positionals.push(word);
      continue;
    }
    const text = word.value;
    if (text === '--') {
      positionals.push(...args.slice(i + 1));
      dynamic.push(...args.slice(i + 1).filter((arg) => !isStatic(arg)));
      break;
    }
    if (!text.startsWith('-') || text === '-') {
      positionals.push(word);
      continue;
    }
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const name = eq === -1 ? text : text.slice(0, eq);
      if (eq === -1 && spec.longValue?.includes(name)) {
        const value = args[++i];
        add(name, value?.value ?? value?.source ?? '');
        if (value && !isStatic(value)) dynamic.push(value);
      } else add(name, eq === -1 ? '' : text.slice(eq + 1));
      continue;
    }
    for (let c = 1; c < text.length; c++) {
      const letter = text[c]!;
      if (spec.shortValue?.includes(letter)) {
        const rest = text.slice(c + 1);
        if (rest !== '') add(`-${letter}`, rest);
        else {
          const value = args[++i];
          add(`-${letter}`, value?.value ?? value?.source ?? '');
          if (value && !isStatic(value)) dynamic.push(value);
        }
        break;
      }
      add(`-${letter}`, '');
    }
  }
  return { positionals, options, dynamic };
}

const GIT_VALUE_OPTIONS = ['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--super-prefix', '--config-env', '--exec-path', '--list-cmds', '--attr-source'];

/** `git -c` keys that make git run another program. */
const GIT_CONFIG_RUNS = /^(alias\.|core\.(sshcommand|pager|editor|fsmonitor|hookspath|gitproxy|askpass)|credential\.|filter\.|diff\..*\.(command|textconv)|merge\..*\.driver|sequence\.editor|gpg\.|ssh\.|uploadpack\.packobjectshook|protocol\.)/i;

interface GitCommand {
  subcommand: ShellWord | undefined;
  rest: ShellWord[];
  configRuns: string | null;
}

function parseGit(args: readonly ShellWord[]): GitCommand {
  let i = 0;
  let configRuns: string | null = null;
  while (i < args.length) {
    const word = args[i]!;
    if (!isStatic(word) || !word.value.startsWith('-')) break;
    const text = word.value;
    if (GIT_VALUE_OPTIONS.includes(text)) {
      const value = args[i + 1];
      if (text === '-c' || text === '--config-env') {
        const setting = value?.value ?? value?.source ?? '';
        if (value === undefined || !isStatic(value) || GIT_CONFIG_RUNS.test(setting)) configRuns = `git ${text} ${setting}`;
      }
      i += 2;
      continue;
    }
    if (text.startsWith('--config-env=')) configRuns = `git ${text}`;
    i += 1;
  }
  return { subcommand: args[i], rest: args.slice(i + 1), configRuns };
}

function gitPush(an: Analysis, frame: Frame, program: string, args: readonly ShellWord[], rest: readonly ShellWord[]): PolicyAction {
  // More arguments coming at run time (xargs, find -exec) could be `--force`: judged as one.
  let force = frame.moreArgs;
  let unknown: string | undefined = frame.moreArgs ? 'git push with more arguments coming at run time' : undefined;
  let noBranch = false;
  const positionals: ShellWord[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!isStatic(word)) {
      // A refspec or option we cannot see could be `+main` or `--force`: judged as one.
      force = true;
      unknown = `git push with an argument that is not statically known: ${word.source}`;
      if (word.value !== null && !word.value.startsWith('-')) positionals.push(word);
      continue;
    }
    const text = word.value;
    if (text === '--') {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (text.startsWith('--')) {
      const name = text.split('=')[0]!;
      if (['--force', '--force-with-lease', '--force-if-includes', '--mirror', '--delete', '--prune'].includes(name)) force = true;
      if (['--all', '--branches', '--tags', '--mirror'].includes(name)) noBranch = true;
      if (['--repo', '--push-option', '--receive-pack', '--exec', '--recurse-submodules'].includes(name) && !text.includes('=')) i += 1;
      continue;
    }
    if (text.startsWith('-') && text.length > 1) {
      for (let c = 1; c < text.length; c++) {
        const letter = text[c]!;
        if (letter === 'f' || letter === 'd') force = true;
        if (letter === 'o') {
          if (c === text.length - 1) i += 1;
          break;
        }
      }
      continue;
    }
    positionals.push(word);
  }
  const remote = positionals[0] ? (positionals[0].value ?? positionals[0].source) : null;
  const refspecs = positionals.slice(1).map((word) => word.value ?? word.source);
  for (const refspec of refspecs) if (refspec.startsWith('+') || refspec.startsWith(':')) force = true;
  const first = refspecs[0];
  let branch: string | null = null;
  if (first !== undefined && !noBranch) {
    const plain = first.replace(/^\+/, '');
    const destination = plain.includes(':') ? plain.slice(plain.indexOf(':') + 1) : plain;
    branch = destination.replace(/^refs\/heads\//, '') || null;
  }
  return { kind: 'push', ...an.command(frame, program, args), remote, branch, refspecs, force, ...(unknown ? { unknown } : {}) };
}

function gitNetwork(an: Analysis, frame: Frame, program: string, args: readonly ShellWord[], subcommand: string, rest: readonly ShellWord[]): PolicyAction | null {
  const { positionals, dynamic } = splitArgs(rest, {
    shortValue: subcommand === 'clone' ? 'objucj' : 'josX',
    longValue: [
      '--origin', '--branch', '--upload-pack', '--reference', '--reference-if-able', '--separate-git-dir', '--depth', '--shallow-since',
      '--shallow-exclude', '--jobs', '--filter', '--template', '--config', '--server-option', '--bundle-uri', '--ref-format', '--deepen',
      '--negotiation-tip', '--refmap', '--recurse-submodules-default', '--strategy', '--strategy-option',
    ],
  });
  const repository = positionals[0];
  const base = an.command(frame, program, args);
  if (repository === undefined) return { kind: 'network', ...base, host: null };
  if (!isStatic(repository)) return { kind: 'network', ...base, host: null, unknown: `the repository is not statically known: ${repository.source}` };
  const found = hostOf(repository.value, true);
  if (found) return { kind: 'network', ...base, ...found, url: found.url ?? repository.value };
  if (subcommand === 'clone' || repository.value.includes('/') || repository.value.startsWith('.')) {
    // A local repository: no network, an ordinary command.
    return dynamic.length > 0 ? { kind: 'network', ...base, host: null, unknown: 'an argument is not statically known' } : null;
  }
  return { kind: 'network', ...base, host: null, remote: repository.value };
}

function git(an: Analysis, frame: Frame, program: string, args: readonly ShellWord[]): PolicyAction[] | null {
  const { subcommand, rest, configRuns } = parseGit(args);
  const base = an.command(frame, program, args);
  const extra = configRuns ? { unknown: `${configRuns} can make git run another program` } : {};
  if (subcommand === undefined) return null;
  if (!isStatic(subcommand)) return [{ kind: 'exec', ...base, unknown: `the git subcommand is not statically known: ${subcommand.source}` }];
  if (GIT_LINK_MAKERS.has(subcommand.value)) an.linkMaker ??= `git ${subcommand.value}`;
  let action: PolicyAction | null = null;
  if (subcommand.value === 'push') action = gitPush(an, frame, program, args, rest);
  else if (['clone', 'fetch', 'pull', 'ls-remote'].includes(subcommand.value)) action = gitNetwork(an, frame, program, args, subcommand.value, rest);
  if (action === null) return configRuns ? [{ kind: 'exec', ...base, ...extra }] : null;
  return [{ ...action, ...(action.unknown === undefined ? extra : {}) }];
}

/** npm package spec -> name (`@types/node@20` -> `@types/node`); specs naming no registry package stay as written. */
function npmName(spec: string): string {
  if (/^[./~]|:|^(git|http)/.test(spec) || (spec.includes('/') && !spec.startsWith('@'))) return spec;
  if (spec.startsWith('@')) {
    const at = spec.indexOf('@', 1);
    return at === -1 ? spec : spec.slice(0, at);
  }
  const at = spec.indexOf('@');
  return at === -1 ? spec : spec.slice(0, at);
}

function pipName(spec: string): string {
  if (/^[./~]|:\/\/|\//.test(spec)) return spec;
  return spec.split(/[<>=!~;[\s@]/)[0]!.toLowerCase().replace(/_/g, '-');
}

const stripAt = (spec: string) => (spec.startsWith('@') ? spec : spec.split('@')[0]!);

interface DepsSpec {
  manager: string;
  /** Index of the subcommand word and the subcommands that add packages. */
  subcommands: readonly string[];
  shortValue?: string;
  longValue?: readonly string[];
  name: (spec: string) => string;
  /** Options whose value is itself a package source (`pip -r requirements.txt`, `-e path`). */
  sources?: readonly string[];
}

const NPM_LONG = ['--prefix', '--workspace', '--registry', '--cache', '--userconfig', '--globalconfig', '--tag', '--omit', '--include', '--install-strategy', '--before', '--loglevel', '--dir', '--filter', '--cwd', '--config', '--store-dir', '--virtual-store-dir', '--reporter', '--modules-folder', '--cache-folder', '--network-timeout', '--mutex'];
const NPM_INSTALL = ['install', 'i', 'in', 'ins', 'inst', 'insta', 'instal', 'isnt', 'isnta', 'isntal', 'isntall', 'add', 'a'];

const DEPS: Record<string, DepsSpec> = {
  npm: { manager: 'npm', subcommands: NPM_INSTALL.filter((s) => s !== 'a'), shortValue: 'wC', longValue: NPM_LONG, name: npmName },
  pnpm: { manager: 'pnpm', subcommands: ['add', 'install', 'i'], shortValue: 'CF', longValue: NPM_LONG, name: npmName },
  yarn: { manager: 'yarn', subcommands: ['add'], longValue: NPM_LONG, name: npmName },
  bun: { manager: 'bun', subcommands: ['add', 'a', 'install', 'i'], shortValue: 'c', longValue: NPM_LONG, name: npmName },
  pip: {
    manager: 'pip',
    subcommands: ['install'],
    shortValue: 'rceiftC',
    longValue: ['--requirement', '--constraint', '--editable', '--index-url', '--extra-index-url', '--find-links', '--target', '--prefix', '--root', '--platform', '--python-version', '--implementation', '--abi', '--src', '--upgrade-strategy', '--progress-bar', '--trusted-host', '--proxy', '--retries', '--timeout', '--cache-dir', '--log', '--no-binary', '--only-binary', '--config-settings', '--global-option', '--report', '--python'],
    name: pipName,
    sources: ['-r', '--requirement', '-e', '--editable', '-c', '--constraint'],
  },
  uv: { manager: 'uv', subcommands: ['add'], longValue: ['--index', '--default-index', '--index-url', '--extra-index-url', '--group', '--optional', '--python', '--directory', '--project', '--package', '--branch', '--tag', '--rev', '--extra'], name: pipName },
  poetry: { manager: 'poetry', subcommands: ['add'], shortValue: 'GEC', longValue: ['--group', '--extras', '--source', '--python', '--platform', '--directory', '--project'], name: pipName },
  cargo: {
    manager: 'cargo',
    subcommands: ['add', 'install'],
    shortValue: 'Fp',
    longValue: ['--features', '--rename', '--path', '--git', '--branch', '--tag', '--rev', '--registry', '--package', '--target', '--manifest-path', '--lockfile-path', '--color', '--version', '--root', '--index', '--profile', '--jobs', '--config'],
    name: stripAt,
  },
  go: { manager: 'go', subcommands: ['get', 'install'], name: stripAt },
  gem: { manager: 'gem', subcommands: ['install'], shortValue: 'vsi', longValue: ['--version', '--source', '--install-dir', '--bindir', '--platform'], name: (spec) => spec },
};

function deps(an: Analysis, frame: Frame, program: string, args: readonly ShellWord[], spec: DepsSpec, from = 0): PolicyAction[] | null {
  let words = args.slice(from);
  // The subcommand may follow global options (`npm --prefix x install y`); `yarn global add`, `yarn workspace NAME add`.
  const { positionals } = splitArgs(words, spec);
  let sub = positionals[0];
  if (spec.manager === 'yarn' && sub && isStatic(sub) && (sub.value === 'global' || sub.value === 'workspace')) {
    words = words.slice(words.indexOf(sub) + (sub.value === 'workspace' ? 2 : 1));
    sub = splitArgs(words, spec).positionals[0];
  }
  if (sub === undefined) return null;
  if (!isStatic(sub)) return [{ kind: 'exec', ...an.command(frame, program, args), unknown: `the ${program} subcommand is not statically known: ${sub.source}` }];
  if (!spec.subcommands.includes(sub.value)) return null;
  const after = splitArgs(words.slice(words.indexOf(sub) + 1), spec);
  const packages = after.positionals.map((word) => (isStatic(word) ? spec.name(word.value) : word.source));
  for (const option of spec.sources ?? []) for (const value of after.options.get(option) ?? []) packages.push(`${option} ${value}`);
  if (packages.length === 0) return null; // installing what the manifest already lists: an ordinary command
  const dynamic = after.positionals.find((word) => !isStatic(word)) ?? after.dynamic[0];
  return [
    {
      kind: 'deps',
      ...an.command(frame, program, args),
      manager: spec.manager,
      packages,
      ...(dynamic ? { unknown: `a package is not statically known: ${dynamic.source}` } : {}),
    },
  ];
}

/** Network clients: one network action per host named, plus the files they write or send. */
function network(an: Analysis, frame: Frame, program: string, name: string, args: readonly ShellWord[]): PolicyAction[] | null {
  const base = an.command(frame, program, args);
  const actions: PolicyAction[] = [];
  const hosts: Array<{ host: string; port?: number; url?: string }> = [];
  let unknown: string | undefined;
  let pathAdds: Array<['write' | 'read', string]> = [];
  const take = (spec: string, scpLike: boolean) => {
    const found = hostOf(spec, scpLike);
    if (found) hosts.push(found);
    return found !== null;
  };
  if (name === 'curl' || name === 'wget') {
    const { positionals, options, dynamic } =
      name === 'curl'
        ? splitArgs(args, {
            shortValue: 'oXHduAebcFTxUmwKrECYyzD',
            longValue: ['--output', '--request', '--header', '--data', '--data-raw', '--data-binary', '--data-urlencode', '--data-ascii', '--user', '--user-agent', '--referer', '--cookie', '--cookie-jar', '--form', '--form-string', '--upload-file', '--proxy', '--proxy-user', '--max-time', '--connect-timeout', '--write-out', '--config', '--range', '--cert', '--key', '--cacert', '--capath', '--continue-at', '--url', '--resolve', '--connect-to', '--interface', '--retry', '--retry-delay', '--retry-max-time', '--limit-rate', '--max-filesize', '--output-dir', '--dump-header', '--trace', '--trace-ascii', '--stderr', '--json', '--variable', '--oauth2-bearer', '--aws-sigv4', '--unix-socket', '--abstract-unix-socket', '--doh-url', '--preproxy', '--proxy-header'],
          })
        : splitArgs(args, {
            shortValue: 'OoaPiUtTwQeAlRDB',
            longValue: ['--output-document', '--output-file', '--append-output', '--directory-prefix', '--input-file', '--user-agent', '--header', '--post-data', '--post-file', '--tries', '--timeout', '--wait', '--execute', '--quota', '--level', '--accept', '--reject', '--domains', '--user', '--password', '--base', '--body-data', '--body-file', '--method', '--load-cookies', '--save-cookies', '--ca-certificate', '--certificate', '--private-key', '--referer'],
          });
    for (const word of positionals) if (isStatic(word)) take(word.value, false);
    for (const url of options.get('--url') ?? []) take(url, false);
    for (const proxy of [...(options.get('-x') ?? []), ...(options.get('--proxy') ?? []), ...(options.get('--preproxy') ?? [])]) take(proxy, false);
    if (dynamic.length > 0) unknown = `an argument is not statically known: ${dynamic[0]!.source}`;
    const writes = name === 'curl' ? ['-o', '--output', '-D', '--dump-header', '-c', '--cookie-jar', '--trace', '--trace-ascii', '--stderr'] : ['-O', '--output-document', '-o', '--output-file', '-a', '--append-output', '--save-cookies'];
    const reads = name === 'curl' ? ['-T', '--upload-file', '-K', '--config'] : ['-i', '--input-file', '--post-file', '--body-file', '--load-cookies'];
    for (const option of writes) for (const value of options.get(option) ?? []) if (value !== '-' && value !== '') pathAdds.push(['write', value]);
    for (const option of reads) for (const value of options.get(option) ?? []) if (value !== '-' && value !== '') pathAdds.push(['read', value]);
    for (const option of ['-d', '--data', '--data-binary', '--data-urlencode', '-F', '--form']) {
      for (const value of options.get(option) ?? []) {
        const file = /^(?:[^=@]*=)?[@<](.+)$/.exec(value)?.[1];
        if (file && file !== '-') pathAdds.push(['read', file.replace(/;.*$/, '')]);
      }
    }
    if (name === 'wget' && (options.has('-i') || options.has('--input-file'))) unknown ??= 'wget reads its URLs from a file';
  } else if (name === 'ssh') {
    const { positionals, options, dynamic } = splitArgs(args, { shortValue: 'bcDEeFIiJLlmOopQRSWwB' });
    const destination = positionals[0];
    if (destination && isStatic(destination)) take(destination.value.includes('://') ? destination.value : `ssh://${destination.value}`, false);
    for (const jump of options.get('-J') ?? []) for (const hop of jump.split(',')) take(`ssh://${hop}`, false);
    const settings = (options.get('-o') ?? []).join('\n');
    if (/(ProxyCommand|LocalCommand|PermitLocalCommand|KnownHostsCommand|Match\s+exec)/i.test(settings)) unknown = 'an ssh option runs a local command';
    else if (dynamic.length > 0 && (!destination || !isStatic(destination))) unknown = `the host is not statically known: ${dynamic[0]!.source}`;
  } else if (name === 'scp' || name === 'sftp' || name === 'rsync') {
    const { positionals, options, dynamic } =
      name === 'rsync'
        ? splitArgs(args, {
            shortValue: 'efTBM',
            longValue: ['--rsh', '--rsync-path', '--filter', '--exclude', '--include', '--exclude-from', '--include-from', '--files-from', '--temp-dir', '--log-file', '--password-file', '--port', '--partial-dir', '--backup-dir', '--suffix', '--chmod', '--chown', '--block-size', '--bwlimit', '--timeout', '--contimeout', '--compare-dest', '--copy-dest', '--link-dest', '--remote-option', '--out-format', '--info', '--debug', '--max-size', '--min-size', '--max-delete', '--iconv', '--address', '--sockopts', '--outbuf', '--usermap', '--groupmap', '--checksum-choice', '--compress-choice'],
          })
        : splitArgs(args, { shortValue: 'cFiJlloPSDX' });
    for (const word of positionals) {
      if (!isStatic(word)) continue;
      const spec = word.value;
      if (spec.startsWith('/') || spec.startsWith('.')) continue;
      const module = /^(?:[^@/:\s]+@)?([^:/\s]+)::/.exec(spec);
      if (module) hosts.push({ host: module[1]!.toLowerCase() });
      else take(spec, true);
    }
    for (const jump of options.get('-J') ?? []) for (const hop of jump.split(',')) take(`ssh://${hop}`, false);
    const rsh = [...(options.get('-e') ?? []), ...(options.get('--rsh') ?? [])];
    if (rsh.some((value) => !/^ssh(\s|$)/.test(value))) unknown = `a remote shell command that is not plain ssh: ${rsh.join(' ')}`;
    if (dynamic.length > 0) unknown ??= `an argument is not statically known: ${dynamic[0]!.source}`;
    if (hosts.length === 0 && unknown === undefined) {
      if (name === 'rsync') {
        an.linkMaker ??= 'rsync';
        return null; // a local copy
      }
    }
  } else {
    // nc, ncat, netcat, telnet, ftp
    const { positionals, options, dynamic } = splitArgs(args, { shortValue: 'psqwixXPTIOVMmec' });
    const host = positionals[0];
    if (host && isStatic(host)) hosts.push({ host: host.value.replace(/^\[|\]$/g, '').toLowerCase() });
    else if (host) unknown = `the host is not statically known: ${host.source}`;
    if (options.has('-e') || options.has('-c') || options.has('--exec') || options.has('--sh-exec') || options.has('--lua-exec')) unknown = `${name} -e/-c runs a program for the connection`;
    if (dynamic.length > 0) unknown ??= `an argument is not statically known: ${dynamic[0]!.source}`;
  }
  if (hosts.length === 0) actions.push({ kind: 'network', ...base, host: null, ...(unknown ? { unknown } : {}) });
  for (const found of hosts) actions.push({ kind: 'network', ...base, ...found, ...(unknown ? { unknown } : {}) });
  for (const [kind, target] of pathAdds) an.path(kind, frame, literalWord(target), { program, args: base.args });
  pathAdds = [];
  return actions;
}

const NETWORK = new Set(['curl', 'wget', 'ssh', 'scp', 'sftp', 'rsync', 'nc', 'ncat', 'netcat', 'telnet', 'ftp']);

/** The special meaning of a command, or null for an ordinary exec. */
function special(an: Analysis, frame: Frame, program: string, name: string, args: readonly ShellWord[]): PolicyAction[] | null {
  if (name === 'git') return git(an, frame, program, args);
  if (NETWORK.has(name)) return network(an, frame, program, name, args);
  const python = /^python(\d+(\.\d+)?)?$/.test(name);
  if (python) {
    const m = args.findIndex((arg) => isStatic(arg) && arg.value === '-m');
    if (m !== -1 && args[m + 1] && isStatic(args[m + 1]!) && args[m + 1]!.value === 'pip') return deps(an, frame, program, args, DEPS.pip!, m + 2);
    return null;
  }
  if (/^pip(\d+(\.\d+)?)?$/.test(name)) return deps(an, frame, program, args, DEPS.pip!);
  if (name === 'uv') {
    const first = args[0];
    if (first && isStatic(first) && first.value === 'pip') return deps(an, frame, program, args, DEPS.pip!, 1);
    return deps(an, frame, program, args, DEPS.uv!);
  }
  const spec = DEPS[name];
  return spec ? deps(an, frame, program, args, spec) : null;
}

/** Shell reserved words: never a program name in a correct parse. */
const RESERVED_WORDS = new Set(['{', '}', '!', 'if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', 'function', 'select', '[[', ']]']);

/** Non-ASCII or control characters in a program name: a look-alike (`gіt` with a Cyrillic і) or a trick. */
const suspiciousName = (name: string) => /[^\x21-\x7e]/.test(name);

/**
 * Analyses one simple command: `words[0]` is the program. `frame` says where it sits.
 */
export function analyzeCommand(an: Analysis, words: readonly ShellWord[], frame: Frame): void {
  if (words.length === 0) return;
  const [first, ...args] = words as [ShellWord, ...ShellWord[]];
  if (first.value === null) {
    an.unknown(frame, `the program is not statically known: ${first.source}`, { source: words.map((word) => word.source).join(' ') });
    return;
  }
  if (first.glob) {
    an.unknown(frame, `the program is a glob: ${first.source}`, { source: words.map((word) => word.source).join(' ') });
    return;
  }
  const program = first.value;
  const name = program.includes('/') ? path.posix.basename(program) : program;
  const base = an.command(frame, program, args);
  if (suspiciousName(program)) {
    an.actions.push({ kind: 'exec', ...base, unknown: `the program name has characters outside printable ASCII (a look-alike?): ${JSON.stringify(program)}` });
    return;
  }
  if (RESERVED_WORDS.has(program)) {
    // The parser read a reserved word as a program (tree-sitter does for `! { a; }`): the
    // structure is not what bash sees. Not statically known, and the words after it are judged
    // as the command they most likely are.
    an.unknown(frame, `the parser read the reserved word ${JSON.stringify(program)} as a command`, { source: words.map((word) => word.source).join(' ') });
    analyzeCommand(an, args, frame);
    return;
  }
  if (LINK_MAKERS.has(name)) an.linkMaker ??= name;

  if (name === 'cd' || name === 'pushd' || name === 'popd') {
    const scan = scanOptions(args, {});
    const target = scan.ok ? args[scan.index] : undefined;
    if (name === 'popd' || !scan.ok) an.cd(null, frame);
    else if (target === undefined) an.cd(name === 'cd' ? (an.home ?? null) : null, frame);
    else an.cd(isStatic(target) && target.value !== '-' && !/^[+-]\d+$/.test(target.value) ? target.value : null, frame);
    an.actions.push({ kind: 'exec', ...base });
    return;
  }

  const wrapper = SHELLS.has(name) ? shellInner : WRAPPERS[name];
  if (wrapper) {
    an.actions.push({ kind: 'exec', ...base });
    if (frame.via.length >= MAX_WRAPPERS) {
      an.unknown(frame, `more than ${MAX_WRAPPERS} wrappers around one command`);
      return;
    }
    const inner = wrapper(args, name);
    switch (inner.kind) {
      case 'none':
        return;
      case 'unknown':
        an.unknown({ ...frame, via: [...frame.via, name] }, inner.reason);
        return;
      case 'argv': {
        const rest = args.slice(inner.index);
        if (rest.length === 0) return;
        analyzeCommand(an, rest, {
          ...frame,
          via: [...frame.via, inner.via ?? name],
          env: [...frame.env, ...(inner.env ?? [])],
          moreArgs: frame.moreArgs || inner.moreArgs === true,
        });
        return;
      }
      case 'script': {
        const nested: Frame = { ...frame, depth: frame.depth + 1, via: [...frame.via, inner.via], env: [...frame.env], moreArgs: false };
        if (inner.text === null) an.unknown(nested, `the command string is not statically known: ${inner.source ?? '?'}`);
        else if (nested.depth > MAX_SHELL_DEPTH) an.unknown(nested, `shell strings nested deeper than ${MAX_SHELL_DEPTH}`);
        else an.script(inner.text, nested);
        return;
      }
    }
  }

  const mark = an.actions.length;
  const meaning = special(an, frame, program, name, args);
  if (meaning !== null) {
    an.actions.splice(mark, 0, ...meaning); // before the files the command writes or sends
    return;
  }
  if (name === 'hash' || name === 'alias' || name === 'enable') {
    // `hash -p /tmp/evil git`, `enable -f x.so git`: what a later name runs changes.
    if (args.length > 0) an.scriptEnv.add(`(${name})`);
  }
  an.actions.push({ kind: 'exec', ...base });
}
