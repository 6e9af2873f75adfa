import { performance } from 'node:perf_hooks';
import { simpleGit } from 'simple-git';

/**
 * Every git call of the checkpoint engine goes through here: `simple-git`'s `raw()` with an
 * argument vector (never a shell string) and a per-call environment.
 *
 * - The environment is built from an allowlist (PATH, HOME, locale, temp dirs) plus the
 *   GIT_* keys the call sets itself. Nothing inherited can point git elsewhere (an ambient
 *   GIT_DIR or GIT_INDEX_FILE from a hook, a GIT_CONFIG_* override), and simple-git's
 *   environment guard is told exactly which GIT_* keys are ours.
 * - Every call names an index (GIT_INDEX_FILE): a temporary one, or a path that does not exist.
 *   No command of the engine can ever read-modify-write the user's real index (I7).
 * - GIT_TRACE=2 makes git write one line to stderr at start: simple-git waits an extra 50 ms
 *   after a child that printed nothing, which would dominate plumbing calls that are silent by
 *   design (update-index, read-tree, checkout-index). Trace lines are removed from errors.
 * - `signal` kills the git child (simple-git's abort plugin); the caller's budget uses it.
 */

/** GIT_* keys the engine may set on a call; simple-git strips every other one. */
const ALLOWED_GIT_ENV = [
  'GIT_INDEX_FILE',
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_TRACE',
  'GIT_OPTIONAL_LOCKS',
  'GIT_TERMINAL_PROMPT',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_AUTHOR_DATE',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
  'GIT_COMMITTER_DATE',
  'GIT_NO_REPLACE_OBJECTS',
  'GIT_LITERAL_PATHSPECS',
] as const;
export type GitEnvKey = (typeof ALLOWED_GIT_ENV)[number];

/** Inherited variables git needs to find itself, the user's global config and a temp dir. */
const INHERITED = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TEMP', 'TMP', 'XDG_CONFIG_HOME', 'SYSTEMROOT', 'USERPROFILE'];

/**
 * glibc malloc: keep freed memory instead of giving it back after every object. update-index
 * frees and re-grows zlib's buffers per hashed file, one brk() pair each; where brk is slow
 * (sandboxed kernels: ~120 us a call) that made hashing 20,000 files take 17 s instead of 3 s.
 * Other C libraries ignore these variables.
 */
export const GIT_MALLOC_ENV = { MALLOC_TRIM_THRESHOLD_: String(64 * 1024 * 1024), MALLOC_TOP_PAD_: String(16 * 1024 * 1024) } as const;

/**
 * Per-command config: no split index in the temporary index, no automatic gc or maintenance in
 * the user's repository, and no hooks — git runs `post-index-change` whenever an index is
 * written, ours included, and a checkpoint must not run the user's code. (simple-git calls a
 * `core.hooksPath` override unsafe because it could point at code; this one points at nothing.)
 */
const CONFIG = ['core.splitIndex=false', 'gc.auto=0', 'core.quotePath=false', 'maintenance.auto=false', 'core.hooksPath=/nonexistent/keel-no-hooks'];

export class GitCallError extends Error {
  constructor(
    readonly args: readonly string[],
    message: string,
    readonly aborted: boolean,
  ) {
    super(message);
    this.name = 'GitCallError';
  }
}

export interface GitCall {
  /** The directory git runs in (the worktree, or a directory inside the data dir). */
  cwd: string;
  args: string[];
  env?: Partial<Record<GitEnvKey, string>>;
  /** Written to the child's stdin (commands that read a list of paths or objects). */
  input?: string;
  signal?: AbortSignal | undefined;
}

const TRACE_LINE = /^\d{2}:\d{2}:\d{2}\.\d+ +\S+:\d+ +trace: .*$/gm;

export function cleanGitMessage(message: string): string {
  return message.replace(TRACE_LINE, '').replace(/\n{2,}/g, '\n').trim();
}

function environment(extra: GitCall['env'], fallbackIndex: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, GIT_MALLOC_ENV);
  env.GIT_TRACE = '2';
  env.GIT_OPTIONAL_LOCKS = '0';
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_NO_REPLACE_OBJECTS = '1';
  env.GIT_INDEX_FILE = fallbackIndex;
  for (const [key, value] of Object.entries(extra ?? {})) if (value !== undefined) env[key] = value;
  return env;
}

/** An index path that never exists: reads see an empty index, a write fails. */
const NO_INDEX = '/nonexistent/keel-no-index';

export type GitCallObserver = (call: { args: readonly string[]; ms: number; ok: boolean }) => void;
let observer: GitCallObserver | null = null;
/** Sees every git call with its duration (the benchmark's breakdown); null to stop. */
export function observeGitCalls(next: GitCallObserver | null): void {
  observer = next;
}

/** Runs one git command and returns its stdout (UTF-8). Rejects with a GitCallError. */
export async function git(call: GitCall): Promise<string> {
  if (!observer) return gitCall(call);
  const started = performance.now();
  let ok = false;
  try {
    const out = await gitCall(call);
    ok = true;
    return out;
  } finally {
    observer?.({ args: call.args, ms: performance.now() - started, ok });
  }
}

async function gitCall(call: GitCall): Promise<string> {
  if (call.signal?.aborted) throw new GitCallError(call.args, 'aborted before start', true);
  const input = call.input;
  const client = simpleGit({
    baseDir: call.cwd,
    allowEnvironment: ALLOWED_GIT_ENV,
    config: CONFIG,
    unsafe: { allowUnsafeHooksPath: true },
    trimmed: false,
    ...(call.signal ? { abort: call.signal } : {}),
    // A Buffer (even empty) always ends stdin: a command reading a list never waits for more.
    ...(input !== undefined ? { input: () => Buffer.from(input) } : {}),
  }).env(environment(call.env, NO_INDEX));
  try {
    return await client.raw(call.args);
  } catch (error) {
    const aborted = call.signal?.aborted === true;
    const message = cleanGitMessage(error instanceof Error ? error.message : String(error));
    throw new GitCallError(call.args, `git ${call.args[0] ?? ''} failed${aborted ? ' (aborted)' : ''}: ${message}`, aborted);
  }
}

/** Splits NUL-separated output (`-z`), dropping the empty tail. */
export function splitZ(output: string): string[] {
  const parts = output.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The installed git's version, or null when git cannot be run. */
export async function gitVersion(cwd: string): Promise<string | null> {
  try {
    const out = await git({ cwd, args: ['--version'] });
    return /git version (\S+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    return null;
  }
}
