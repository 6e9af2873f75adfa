import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';

/**
 * Finding and stopping every process an agent generation started, wherever it moved
 * (ADR 0005). Killing the agent's process group is not enough: agents start their commands
 * in new sessions (Claude Code's shell tool uses setsid), npm wrappers leave native children
 * behind, and a command may double-fork. What all of them keep is the environment they
 * inherited, so each generation gets a unique marker variable and a sweep kills every
 * process that carries it.
 */

export const GENERATION_TAG_VAR = 'KEEL_GENERATION_TAG';

export interface TaggedProcess {
  pid: number;
  /** argv as the OS reports it. On macOS it is the `ps` command column split on spaces. */
  command: string[];
}

/** A tagged process as a scan sees it (internal; `findTagged` returns `TaggedProcess`). */
export interface ScannedProcess extends TaggedProcess {
  /** Process group id, when it could be read: a leader's group is killed with it. */
  pgid: number | null;
}

/** Characters a tag may hold: no space, `=`, quote or NUL, so it is one token in `ps` output and any shell. */
const TAG_SHAPE = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * A fresh tag for one generation. The run id and generation make a sweep's log readable;
 * the random part makes the tag unique even when a run id is reused (a re-created data
 * directory), so one run can never sweep another's processes.
 */
export function generationTag(runId: string, generation: number): string {
  if (!Number.isSafeInteger(generation) || generation < 0) throw new TypeError(`generation must be a non-negative integer, got ${generation}`);
  const run = runId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'run';
  return `${run}.${generation}.${randomBytes(8).toString('hex')}`;
}

function checkTag(tag: string): void {
  // An empty or odd tag could match far more than one generation (`KEEL_GENERATION_TAG=`).
  if (!TAG_SHAPE.test(tag)) throw new TypeError(`not a generation tag: ${JSON.stringify(tag)}`);
}

/** Every process other than this one whose environment holds exactly `KEEL_GENERATION_TAG=<tag>`. */
export function findTagged(tag: string): TaggedProcess[] {
  return scan(tag).map(({ pid, command }) => ({ pid, command }));
}

function scan(tag: string): ScannedProcess[] {
  checkTag(tag);
  if (process.platform === 'linux') return findTaggedInProc(tag);
  if (process.platform === 'darwin') return findTaggedWithPs(tag);
  // Windows has no process environment another process can read without a debugger API,
  // and Keel does not target the BSDs: nothing is found, so a sweep is a no-op there.
  return [];
}

/** Errors that mean "this process is gone or not ours to read": skip it, never fail the scan. */
const SKIPPABLE = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM']);

function readProc(pid: string, file: string): Buffer | null {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`);
  } catch (error) {
    if (SKIPPABLE.has((error as NodeJS.ErrnoException).code ?? '')) return null;
    // Anything else (EMFILE, ...) means the scan cannot be trusted: say so rather than
    // report "nothing left".
    throw error;
  }
}

/** Does a NUL-separated block hold `entry` as one whole entry? */
function holdsEntry(block: Buffer, entry: Buffer): boolean {
  for (let at = block.indexOf(entry); at !== -1; at = block.indexOf(entry, at + 1)) {
    const end = at + entry.length;
    if ((at === 0 || block[at - 1] === 0) && (end === block.length || block[end] === 0)) return true;
  }
  return false;
}

/** Field 5 of /proc/<pid>/stat; the command name before it may hold spaces and parentheses. */
function pgidOf(stat: Buffer | null): number | null {
  if (!stat) return null;
  const text = stat.toString('latin1');
  const pgid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[2]);
  return Number.isSafeInteger(pgid) && pgid > 0 ? pgid : null;
}

/**
 * Linux: /proc/<pid>/environ is the environment the process was exec'd with, readable for
 * processes of the same user (EACCES otherwise, and those we could not kill anyway). Reading a
 * zombie's fails with ESRCH: it is already dead and cannot touch the workspace, so it is skipped.
 * A process that overwrote its original environment block (some setproctitle implementations)
 * no longer shows the tag and escapes.
 */
export function findTaggedInProc(tag: string): ScannedProcess[] {
  checkTag(tag);
  const entry = Buffer.from(`${GENERATION_TAG_VAR}=${tag}`);
  const self = String(process.pid);
  const found: ScannedProcess[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || name === self) continue;
    const environ = readProc(name, 'environ');
    if (!environ || !holdsEntry(environ, entry)) continue;
    const stat = readProc(name, 'stat');
    if (!stat) continue; // Vanished between the two reads.
    const cmdline = readProc(name, 'cmdline');
    const command = cmdline ? cmdline.toString('utf8').split('\0') : [];
    if (command.at(-1) === '') command.pop();
    found.push({ pid: Number(name), pgid: pgidOf(stat), command });
  }
  return found;
}

/**
 * `ps` printing each process's environment after its command. macOS spells it `-E`: there a
 * first word without a dash (`ps eww`) is read as `-eww`, and `-e` means "every process", so
 * the environment would silently be missing. procps (Linux) spells it `e`.
 */
const PS_WITH_ENV = process.platform === 'darwin' ? ['-A', '-E', '-ww'] : ['eww', '-A'];

/**
 * macOS has no /proc; `ps -E` appends each process's environment to its command column.
 * Limits: the kernel shows another process's environment only to the same user (root sees
 * all), which is also who we may signal; a process that rewrites its argv/environment area
 * escapes. The command column is argv joined by spaces, so argv is only approximated.
 * Exported for tests (procps on Linux prints the same columns); callers use `findTagged`.
 */
export function findTaggedWithPs(tag: string): ScannedProcess[] {
  checkTag(tag);
  const token = ` ${GENERATION_TAG_VAR}=${tag} `;
  const withEnv = psLines([...PS_WITH_ENV, '-o', 'pid=,pgid=,command=']);
  const candidates = [...withEnv.values()].filter((line) => `${line.rest} `.includes(token) && line.pid !== process.pid);
  if (candidates.length === 0) return [];
  // The token might sit in argv (`grep KEEL_GENERATION_TAG=...`). Ask again without the
  // environment and look only past the argv: a match there is the environment's.
  const bare = psLines(['-ww', '-o', 'pid=,pgid=,command=', '-p', candidates.map((line) => line.pid).join(',')]);
  const found: ScannedProcess[] = [];
  for (const line of candidates) {
    const argv = bare.get(line.pid);
    if (!argv) continue; // Gone since the first call.
    const env = line.rest.startsWith(argv.rest) ? line.rest.slice(argv.rest.length) : line.rest;
    if (`${env} `.includes(token)) found.push({ pid: line.pid, pgid: line.pgid, command: argv.rest.split(' ').filter(Boolean) });
  }
  return found;
}

function psLines(args: string[]): Map<number, { pid: number; pgid: number | null; rest: string }> {
  let out: string;
  try {
    out = execFileSync('ps', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (error) {
    // ps exits 1 when `-p` names only processes that are gone: nothing to report.
    const status = (error as { status?: number }).status;
    if (status === 1) return new Map();
    throw error;
  }
  const lines = new Map<number, { pid: number; pgid: number | null; rest: string }>();
  for (const raw of out.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(raw);
    if (!match) continue;
    const pid = Number(match[1]);
    const pgid = Number(match[2]);
    lines.set(pid, { pid, pgid: pgid > 0 ? pgid : null, rest: match[3]!.trimStart() });
  }
  return lines;
}

function ownGroup(): number | null {
  try {
    if (process.platform === 'linux') return pgidOf(fs.readFileSync('/proc/self/stat'));
    if (process.platform === 'darwin') return psLines(['-o', 'pid=,pgid=,command=', '-p', String(process.pid)]).get(process.pid)?.pgid ?? null;
  } catch {
    // Unknown: then no group is signalled at all (below), only single pids.
  }
  return null;
}

function signal(target: number): boolean {
  try {
    process.kill(target, 'SIGKILL');
    return true;
  } catch {
    // ESRCH: already gone. EPERM: not ours (a setuid child); nothing we could do about it.
    return false;
  }
}

/**
 * SIGKILLs every process carrying `tag`, and the group of each that leads one (a member that
 * dropped the marker still dies with its leader). SIGKILL, not SIGTERM: the generation is
 * already dead and whatever it left running must stop changing the workspace now.
 *
 * Repeats until a scan finds nothing, at most `rounds` times: a process caught mid-fork may
 * leave a child the previous scan did not see. An empty final scan also means every killed
 * process has stopped running (on Linux a zombie reads as untagged).
 * Returns each process it signalled, once. A process still found after the last round (stuck
 * in uninterruptible sleep, say) has been signalled and is reported; `findTagged` shows it.
 */
export async function sweepTagged(tag: string, options: { rounds?: number } = {}): Promise<TaggedProcess[]> {
  checkTag(tag);
  const rounds = Number.isSafeInteger(options.rounds) ? Math.max(1, options.rounds!) : 5;
  const own = ownGroup();
  const killed = new Map<number, TaggedProcess>();
  for (let round = 1; ; round += 1) {
    const found = scan(tag);
    if (found.length === 0) break;
    for (const { pid, pgid, command } of found) {
      // Never our own group: a tagged leader whose group we share would take the host with it.
      const group = pgid === pid && own !== null && pgid !== own ? signal(-pid) : false;
      const single = signal(pid);
      if ((group || single) && !killed.has(pid)) killed.set(pid, { pid, command });
    }
    if (round >= rounds) break;
    // Give the kernel a moment to tear the killed processes down before looking again.
    await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** (round - 1)));
  }
  return [...killed.values()];
}
