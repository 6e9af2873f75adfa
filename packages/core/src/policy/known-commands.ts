// Commands known by meaning: git push and fetch, package installs, network clients. Each becomes
// the push, deps or network actions the policy has rules for, plus the files it writes or sends.
import type { PolicyAction } from '../contract/schemas/policy.js';
import type { Analysis, Frame } from './analysis.js';
import { isStatic, literalWord, type ShellWord } from './words.js';
import { has, splitArgs } from './option-scan.js';

const GIT_LINK_MAKERS = new Set(['checkout', 'switch', 'restore', 'reset', 'apply', 'am', 'pull', 'merge', 'rebase', 'stash', 'cherry-pick', 'clone', 'worktree', 'read-tree', 'checkout-index', 'submodule', 'revert']);

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
export function special(an: Analysis, frame: Frame, program: string, name: string, args: readonly ShellWord[]): PolicyAction[] | null {
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
