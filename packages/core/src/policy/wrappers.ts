// Wrappers: programs that run another command (env, nice, timeout, sudo, xargs, sh -c …). Each
// says where its inner command starts, or the shell string it runs, so both are judged.
import { isStatic, literalWord, type ShellWord } from './words.js';
import { has, scanOptions, type Scan } from './option-scan.js';

export const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'yash', 'posh', 'busybox']);

export type Inner =
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

export const WRAPPERS: Record<string, (args: readonly ShellWord[], name: string) => Inner> = {
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
export function shellInner(args: readonly ShellWord[], name: string): Inner {
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
