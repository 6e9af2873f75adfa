// Sweeping a generation's processes (issue 9 point 2, ADR 0004): a command that detached itself
// from its agent (setsid, as Claude Code's shell tool does) is still found by the generation's
// environment marker and killed; other generations' processes and untagged ones are untouched.
// Real processes only; every wait is on an event or a bounded poll of a condition.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findTagged, generationTag, GENERATION_TAG_VAR, sweepTagged } from '../src/runtime/index.js';
import { findTaggedInProc, findTaggedWithPs } from '../src/runtime/process-sweep.js';

const supported = process.platform === 'linux' || process.platform === 'darwin';
const hasSetsid = spawnSync('sh', ['-c', 'command -v setsid'], { stdio: 'ignore' }).status === 0;
const hasPs = spawnSync('ps', ['-o', 'pid=', '-p', String(process.pid)], { stdio: 'ignore' }).status === 0;

const shQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

let dir = '';
/** Shell words that run a command in a new session: `setsid`, or (macOS has none) Node's detached spawn, which calls setsid() the way Claude Code's shell tool does. */
let detach = '';
const tags = new Set<string>();
const pids = new Set<number>();
const children = new Set<ChildProcess>();

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-sweep-'));
  if (hasSetsid) {
    detach = 'setsid';
  } else {
    const detacher = path.join(dir, 'detach.cjs');
    fs.writeFileSync(detacher, "require('node:child_process').spawn(process.argv[2], process.argv.slice(3), { detached: true, stdio: 'ignore' }).unref();\n");
    detach = `${shQuote(process.execPath)} ${shQuote(detacher)}`;
  }
});

afterEach(async () => {
  for (const tag of tags) await sweepTagged(tag);
  for (const pid of pids) signal(pid);
  for (const child of children) child.kill('SIGKILL');
  tags.clear();
  pids.clear();
  children.clear();
  for (const entry of fs.readdirSync(dir)) if (entry.endsWith('.pid')) fs.rmSync(path.join(dir, entry));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function newTag(generation = 1): string {
  const tag = generationTag('run-sweep-test', generation);
  tags.add(tag);
  return tag;
}

/** This environment without any marker (the test runner might itself run under Keel). */
function untaggedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env[GENERATION_TAG_VAR];
  return env;
}

const taggedEnv = (tag: string, extra: Record<string, string> = {}) => ({ ...untaggedEnv(extra), [GENERATION_TAG_VAR]: tag });

async function start(command: string, args: string[], env: NodeJS.ProcessEnv, options: { detached?: boolean } = {}): Promise<ChildProcess & { pid: number }> {
  const child = spawn(command, args, { env, stdio: 'ignore', detached: options.detached ?? false });
  children.add(child);
  // 'spawn' fires once exec succeeded: the new environment is in place.
  await once(child, 'spawn');
  pids.add(child.pid!);
  return child as ChildProcess & { pid: number };
}

/** One process with the marker as a word of its command line, not of its environment. */
const startMentioning = (tag: string) => start(process.execPath, ['-e', 'setInterval(() => {}, 60_000)', `${GENERATION_TAG_VAR}=${tag}`], untaggedEnv());

/** Bounded poll of a condition (a file, a process state), never a fixed sleep. */
async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The pid a script wrote (complete line only), registered for cleanup. */
async function readPidFile(file: string): Promise<number> {
  const pid = await until(() => {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    return /^\d+\n$/.test(text) ? Number(text) : undefined;
  }, path.basename(file));
  pids.add(pid);
  return pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function zombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/**
 * Waits until kill(pid, 0) throws ESRCH. A killed orphan stays a zombie until PID 1 reaps it
 * (about every 2 s on the Linux VM this was written on); an init that never reaps (a bare
 * container) would leave it a zombie forever, which is dead too, so after the bound that counts.
 */
async function gone(pid: number): Promise<void> {
  try {
    await until(() => !alive(pid), `pid ${pid} to be gone`, 10_000);
  } catch (error) {
    if (!zombie(pid)) throw error;
  }
}

function groupOf(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
}

/**
 * a.sh starts b.sh in a new session and stays (as `sleep 60`, like an agent mid-turn); b.sh
 * double-forks c.sh into another new session (orphaned to PID 1), then becomes `sleep 60`.
 */
function writeChain(): void {
  fs.writeFileSync(path.join(dir, 'a.sh'), `echo $$ > "$PIDS/a.pid"\n${detach} sh "$PIDS/b.sh" &\nexec sleep 60\n`);
  fs.writeFileSync(path.join(dir, 'b.sh'), `echo $$ > "$PIDS/b.pid"\n( ${detach} sh "$PIDS/c.sh" & )\nexec sleep 60\n`);
  fs.writeFileSync(path.join(dir, 'c.sh'), 'echo $$ > "$PIDS/c.pid"\nexec sleep 60\n');
}

const pidsOf = (list: Array<{ pid: number }>) => list.map((entry) => entry.pid).sort((a, b) => a - b);

describe('generationTag', () => {
  it('is unique per call, carries run and generation, and is one shell- and ps-safe token', () => {
    const first = generationTag('run-1', 3);
    const second = generationTag('run-1', 3);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^run-1\.3\.[0-9a-f]{16}$/);
    expect(generationTag('odd id/with space', 0)).toMatch(/^odd_id_with_space\.0\.[0-9a-f]{16}$/);
    expect(() => generationTag('run-1', -1)).toThrow(TypeError);
    expect(() => generationTag('run-1', 1.5)).toThrow(TypeError);
  });

  it('findTagged refuses a malformed tag instead of matching every empty marker', () => {
    expect(() => findTagged('')).toThrow(TypeError);
    expect(() => findTagged('a b')).toThrow(TypeError);
  });
});

describe.skipIf(!supported)(`sweeping a generation's processes (${process.platform}; detaching with ${hasSetsid ? 'setsid' : "Node's detached spawn"})`, () => {
  it('(a) a command that detached itself (setsid) from a shell that then exited is found by its tag, killed, and gone', async () => {
    const tag = newTag();
    const pidFile = path.join(dir, 'detached.pid');
    const shell = await start('sh', ['-c', `${detach} sh -c 'echo $$ > "$PIDFILE"; exec sleep 60' &\nexit 0`], taggedEnv(tag, { PIDFILE: pidFile }));
    const [code] = await once(shell, 'exit');
    expect(code).toBe(0);
    const pid = await readPidFile(pidFile);
    // It escaped: its own process group, so killing the agent's group would not reach it.
    expect(groupOf(pid)).toBe(pid);
    expect(groupOf(pid)).not.toBe(shell.pid);

    await until(() => findTagged(tag).some((found) => found.pid === pid && found.command.join(' ') === 'sleep 60'), 'the detached command to exec sleep');
    expect(findTagged(tag)).toEqual([{ pid, command: ['sleep', '60'] }]);

    const swept = await sweepTagged(tag);
    expect(swept).toEqual([{ pid, command: ['sleep', '60'] }]);
    await gone(pid);
    expect(findTagged(tag)).toEqual([]);
  });

  it("(b) another generation's process, a tag sharing the prefix, an untagged process and one naming the tag in its argv are untouched", async () => {
    const tag = newTag(1);
    const otherTag = newTag(2);
    const victim = await start('sleep', ['60'], taggedEnv(tag));
    const victimExit = once(victim, 'exit');
    const other = await start('sleep', ['60'], taggedEnv(otherTag));
    const prefixed = await start('sleep', ['60'], taggedEnv(`${tag}0`));
    tags.add(`${tag}0`);
    const untagged = await start('sleep', ['60'], untaggedEnv());
    const mentions = await startMentioning(tag);

    const swept = await sweepTagged(tag);
    expect(swept).toEqual([{ pid: victim.pid, command: ['sleep', '60'] }]);
    expect(await victimExit).toEqual([null, 'SIGKILL']);
    for (const survivor of [other, prefixed, untagged, mentions]) expect(alive(survivor.pid), survivor.spawnargs.join(' ')).toBe(true);
    expect(pidsOf(findTagged(otherTag))).toEqual([other.pid]);
  });

  it('(c) sweeping when nothing carries the tag returns [] quickly', async () => {
    const tag = newTag();
    const startedAt = performance.now();
    expect(await sweepTagged(tag)).toEqual([]);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(findTagged(tag)).toEqual([]);
  });

  it('(d) a chain, a tagged shell whose child left in a new session and whose grandchild was orphaned into another, is swept whole', async () => {
    const tag = newTag();
    writeChain();
    const shell = await start('sh', [path.join(dir, 'a.sh')], taggedEnv(tag, { PIDS: dir }));
    const shellExit = once(shell, 'exit');
    const [a, b, c] = [await readPidFile(path.join(dir, 'a.pid')), await readPidFile(path.join(dir, 'b.pid')), await readPidFile(path.join(dir, 'c.pid'))];
    expect(a).toBe(shell.pid);
    expect(new Set([groupOf(a), groupOf(b), groupOf(c)]).size).toBe(3);
    expect(pidsOf(findTagged(tag))).toEqual(expect.arrayContaining([a, b, c].sort((x, y) => x - y)));

    const swept = await sweepTagged(tag);
    expect(pidsOf(swept)).toEqual(expect.arrayContaining([a, b, c].sort((x, y) => x - y)));
    expect(new Set(pidsOf(swept)).size).toBe(swept.length); // once per pid
    expect(await shellExit).toEqual([null, 'SIGKILL']);
    await Promise.all([b, c].map((pid) => gone(pid)));
    expect(findTagged(tag)).toEqual([]);
  });

  it('(d) after kill -9 of the agent\'s process group (what Keel did before), the detached descendants survive; the sweep finds and kills them', async () => {
    const tag = newTag();
    writeChain();
    // Spawned like AgentProcess: leader of its own group.
    const agent = await start('sh', [path.join(dir, 'a.sh')], taggedEnv(tag, { PIDS: dir }), { detached: true });
    const agentExit = once(agent, 'exit');
    const [b, c] = [await readPidFile(path.join(dir, 'b.pid')), await readPidFile(path.join(dir, 'c.pid'))];
    process.kill(-agent.pid, 'SIGKILL');
    expect(await agentExit).toEqual([null, 'SIGKILL']);
    expect(alive(b) && alive(c)).toBe(true);

    await until(() => pidsOf(findTagged(tag)).join() === [b, c].sort((x, y) => x - y).join(), 'only the two detached descendants to carry the tag');
    const swept = await sweepTagged(tag);
    expect(pidsOf(swept)).toEqual([b, c].sort((x, y) => x - y));
    await Promise.all([b, c].map((pid) => gone(pid)));
    expect(findTagged(tag)).toEqual([]);
  });

  it.skipIf(process.platform !== 'linux' || !hasPs)('the ps scan (the macOS path, here through procps) agrees with /proc and ignores the marker in argv', async () => {
    const tag = newTag();
    const victim = await start('sleep', ['60'], taggedEnv(tag));
    await startMentioning(tag);
    await start('sleep', ['60'], untaggedEnv());
    const viaProc = findTaggedInProc(tag);
    const viaPs = findTaggedWithPs(tag);
    expect(viaProc).toEqual([{ pid: victim.pid, pgid: groupOf(victim.pid), command: ['sleep', '60'] }]);
    expect(viaPs).toEqual(viaProc);
  });
});
