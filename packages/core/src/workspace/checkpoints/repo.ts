import fs from 'node:fs';
import path from 'node:path';
import type { CheckpointRepoInfo } from '../../contract/schemas/checkpoints.js';
import { ensurePrivateDir } from '../../fsutil/index.js';
import { git, type GitCall, type GitEnvKey } from './git.js';
import { runPaths } from './paths.js';
import { latestRecordedRepo } from './sidecar.js';

export { CHECKPOINT_REFS, SAFETY_REFS, checkpointRef, safetyRef, runPaths } from './paths.js';

/**
 * Where a run's checkpoints live. `git`: the workspace is (inside) a git repository; objects
 * and hidden refs go to it, its index is only ever copied. `private`: Keel's own bare repository
 * in the data directory with the workspace as its work tree.
 */
export interface CheckpointRepo extends CheckpointRepoInfo {
  /** The workspace, resolved through symlinks. */
  workspace: string;
  /** Git dir holding refs and objects (for a linked worktree, the common dir). */
  commonDir: string;
  /** The user's real index (git repos): copied as a starting point, never written. */
  userIndex: string | null;
}

export interface RepoOptions {
  dataDir: string;
  runId: string;
  /** A private repository to use instead of `<data>/runs/<run>/checkpoints.git`. */
  gitDir?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Create the private repository when there is none (default true; readers pass false). */
  create?: boolean | undefined;
}

export class WorkspaceMissingError extends Error {}

/** Excludes of a private repository (non-git folders have no .gitignore of their own, usually). */
const PRIVATE_EXCLUDES = ['# Keel: a workspace that is not a git repository', 'node_modules/', '.DS_Store', ''].join('\n');

/** Resolves (and for a non-git folder, creates) the repository a run's checkpoints go to. */
export async function resolveCheckpointRepo(workspace: string, options: RepoOptions): Promise<CheckpointRepo> {
  let real: string;
  try {
    real = fs.realpathSync(workspace);
  } catch {
    throw new WorkspaceMissingError(`The workspace ${workspace} does not exist.`);
  }
  if (!fs.statSync(real).isDirectory()) throw new WorkspaceMissingError(`The workspace ${workspace} is not a directory.`);
  if (options.gitDir === undefined) {
    const recorded = options.runId === '' ? null : latestRecordedRepo(options.dataDir, options.runId, real);
    if (recorded) return { ...repoFromInfo(recorded), workspace: real };
    const found = await discover(real, options.signal);
    if (found) return found;
  }
  const gitDir = path.resolve(options.gitDir ?? runPaths(options.dataDir, options.runId).privateGitDir);
  if (isInside(gitDir, real)) throw new Error(`Refusing to keep Keel's repository ${gitDir} inside the workspace ${real}.`);
  if (options.create !== false) await ensurePrivateRepo(gitDir, options.signal);
  return { kind: 'private', workspace: real, workTree: real, prefix: '', gitDir, commonDir: gitDir, userIndex: null };
}

/** Rebuilds a repo from what a sidecar or journal recorded (no discovery). */
export function repoFromInfo(info: CheckpointRepoInfo): CheckpointRepo {
  const workspace = info.prefix ? path.join(info.workTree, info.prefix) : info.workTree;
  const commonDir = info.kind === 'git' ? readCommonDir(info.gitDir) : info.gitDir;
  const userIndex = info.kind === 'git' ? path.join(info.gitDir, 'index') : null;
  return { ...info, workspace, commonDir, userIndex };
}

export function repoInfo(repo: CheckpointRepo): CheckpointRepoInfo {
  return { kind: repo.kind, gitDir: repo.gitDir, workTree: repo.workTree, prefix: repo.prefix };
}

function readCommonDir(gitDir: string): string {
  try {
    const text = fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim();
    return path.resolve(gitDir, text);
  } catch {
    return gitDir;
  }
}

/** The git repository a directory is in, or null (never creates anything). */
export async function discoverGitRepo(workspace: string, signal?: AbortSignal): Promise<CheckpointRepo | null> {
  let real: string;
  try {
    real = fs.realpathSync(workspace);
  } catch {
    return null;
  }
  return discover(real, signal);
}

const isInside = (child: string, parent: string) => child === parent || child.startsWith(parent + path.sep);

async function discover(dir: string, signal: AbortSignal | undefined): Promise<CheckpointRepo | null> {
  let out: string;
  try {
    out = await git({ cwd: dir, args: ['rev-parse', '--absolute-git-dir', '--git-common-dir', '--show-toplevel', '--show-prefix'], signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    return null; // not a repository (or one git refuses to use): Keel's private repository instead
  }
  const [gitDir, common, toplevel, prefix] = out.split('\n');
  if (!gitDir || !common || !toplevel) return null;
  const workTree = fs.realpathSync(toplevel);
  return {
    kind: 'git',
    workspace: dir,
    workTree,
    prefix: prefix ?? '',
    gitDir,
    commonDir: path.resolve(dir, common),
    userIndex: path.join(gitDir, 'index'),
  };
}

async function ensurePrivateRepo(gitDir: string, signal: AbortSignal | undefined): Promise<void> {
  if (fs.existsSync(path.join(gitDir, 'HEAD'))) return;
  ensurePrivateDir(gitDir);
  await git({ cwd: gitDir, args: ['init', '--bare', '--quiet'], env: { GIT_DIR: gitDir }, signal });
  ensurePrivateDir(path.join(gitDir, 'info'));
  fs.writeFileSync(path.join(gitDir, 'info', 'exclude'), PRIVATE_EXCLUDES, { mode: 0o600 });
}

/** The environment that points git at this repository and nothing else. */
export function repoEnv(repo: CheckpointRepo, index?: string): Partial<Record<GitEnvKey, string>> {
  return { GIT_DIR: repo.gitDir, GIT_WORK_TREE: repo.workTree, ...(index ? { GIT_INDEX_FILE: index } : {}) };
}

/** Runs git in the repository's work tree with its environment. */
export function repoGit(repo: CheckpointRepo, call: Omit<GitCall, 'cwd'> & { index?: string }): Promise<string> {
  const { index, env, ...rest } = call;
  return git({ ...rest, cwd: repo.workTree, env: { ...repoEnv(repo, index), ...env } });
}

/** Resolves a commit-ish to its commit and tree; null when it does not exist. */
export async function resolveCommit(repo: CheckpointRepo, rev: string, signal?: AbortSignal): Promise<{ commit: string; tree: string } | null> {
  if (/[\n\0]/.test(rev) || !fs.existsSync(repo.commonDir)) return null;
  // On stdin, not argv: a name starting with "-" stays a name.
  const out = await repoGit(repo, { signal, input: `${rev}^{commit}\n${rev}^{tree}\n`, args: ['cat-file', '--batch-check=%(objectname) %(objecttype)'] });
  const [commitLine, treeLine] = out.split('\n');
  const commit = /^([0-9a-f]+) commit$/.exec(commitLine ?? '')?.[1];
  const tree = /^([0-9a-f]+) tree$/.exec(treeLine ?? '')?.[1];
  return commit && tree ? { commit, tree } : null;
}

export interface RefEntry {
  ref: string;
  commit: string;
  /** Committer time, ms since the epoch. */
  committedAt: number;
  /** The number at the end of the ref (turn, or safety sequence). */
  n: number;
}

/** Refs under `prefix` (e.g. `refs/keel/checkpoints/<run>/`), sorted by their number. */
export async function listRefs(repo: CheckpointRepo, prefix: string, signal?: AbortSignal): Promise<RefEntry[]> {
  if (!fs.existsSync(repo.commonDir)) return []; // a private repository never created: no refs
  const out = await repoGit(repo, { args: ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(committerdate:unix)', prefix], signal });
  const entries: RefEntry[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [ref, commit, date] = line.split('\0');
    if (!ref || !commit) continue;
    const n = Number(ref.slice(ref.lastIndexOf('/') + 1));
    if (!Number.isInteger(n) || n < 0) continue;
    entries.push({ ref, commit, committedAt: Number(date ?? 0) * 1000, n });
  }
  return entries.sort((a, b) => a.n - b.n);
}
