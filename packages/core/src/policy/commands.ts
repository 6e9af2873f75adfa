import path from 'node:path';
import { MAX_SHELL_DEPTH, MAX_WRAPPERS, type Analysis, type Frame } from './analysis.js';
import { isStatic, literalWord, type ShellWord } from './words.js';
import { scanOptions } from './option-scan.js';
import { SHELLS, shellInner, WRAPPERS } from './wrappers.js';
import { special } from './known-commands.js';
export { hostOf } from './known-commands.js';

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
  if (/[ \t\n]/.test(program) && first.source === program) {
    // An unquoted word cannot hold a blank (space, tab, newline; a look-alike blank is no
    // blank): the parser merged several (tree-sitter reads `! { { a; }; }` as a program named
    // `{ {`). Judged as the words bash sees.
    analyzeCommand(an, [...program.split(/[ \t\n]+/).filter(Boolean).map(literalWord), ...args], frame);
    return;
  }
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
