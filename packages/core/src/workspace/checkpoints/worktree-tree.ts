import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from '../../fsutil/index.js';
import { splitZ } from './git.js';
import { repoGit, type CheckpointRepo } from './repo.js';

/**
 * A tree of the whole worktree — tracked and untracked-not-ignored files — written with a
 * temporary index, the way `git add -A && git write-tree` would, without touching the user's
 * index:
 *
 *   1. the temporary index starts as a copy of a base: the run's index cache (the index behind the
 *      previous tree) or the user's index, with its mtime kept so git's racy-entry check
 *      still holds; an empty index when there is neither;
 *   2. one `ls-files -m -d -o --exclude-standard` walk lists what differs from it;
 *   3. their sizes are summed *before* anything is hashed: over the byte budget, stop here;
 *   4. `update-index --add --remove --replace --stdin` hashes exactly those paths;
 *   5. `write-tree` (with `--prefix` when the workspace is a subdirectory of the repository).
 *
 * The same walk as `git add -A`, plus the byte count; `signal` kills the running git child.
 */

export interface WorktreeTreeOptions {
  /** An index to start from (copied, never modified). */
  baseIndex: string | null;
  /** Directory for the temporary index (private, on the data dir's filesystem). */
  tmpDir: string;
  maxBytes: number;
  signal?: AbortSignal | undefined;
  /** Called once the temporary index holds the worktree, before `write-tree` (to overlap work). */
  onIndexReady?: ((index: string, hashedPaths: number) => void) | undefined;
}

export type WorktreeTreeResult =
  | { kind: 'tree'; tree: string; index: string; hashedBytes: number; hashedPaths: number; embeddedRepos: string[] }
  | { kind: 'over_bytes'; bytes: number; paths: number };

export function tempIndexPath(tmpDir: string): string {
  ensurePrivateDir(tmpDir);
  return path.join(tmpDir, `index-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Copies an index keeping its timestamps (git treats entries newer than the index as racy). */
export function copyIndex(from: string, to: string): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(from);
  } catch {
    return false;
  }
  if (!stat.isFile() || stat.size === 0) return false;
  fs.copyFileSync(from, to);
  fs.chmodSync(to, 0o600);
  fs.utimesSync(to, stat.atime, stat.mtime);
  return true;
}

/** lstat, or undefined when the path is not there (ENOENT, or ENOTDIR: a parent is a file now). */
export function lstatOrNull(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

export function removeIndex(index: string): void {
  fs.rmSync(index, { force: true });
  fs.rmSync(`${index}.lock`, { force: true });
}

const pathspec = (repo: CheckpointRepo) => (repo.prefix ? ['--', repo.prefix] : []);

export async function writeWorktreeTree(repo: CheckpointRepo, options: WorktreeTreeOptions): Promise<WorktreeTreeResult> {
  const index = tempIndexPath(options.tmpDir);
  if (options.baseIndex) copyIndex(options.baseIndex, index);
  try {
    const result = await writeInto(repo, index, options);
    if (result.kind !== 'tree') removeIndex(index);
    return result;
  } catch (error) {
    removeIndex(index);
    throw error;
  }
}

async function writeInto(repo: CheckpointRepo, index: string, options: WorktreeTreeOptions): Promise<WorktreeTreeResult> {
  const { signal } = options;
  const listed = await repoGit(repo, {
    index,
    signal,
    env: { GIT_LITERAL_PATHSPECS: '1' },
    args: ['ls-files', '-z', '--modified', '--deleted', '--others', '--exclude-standard', ...pathspec(repo)],
  });
  const unique = new Set(splitZ(listed));
  const paths: string[] = [];
  const nowDirectories: string[] = [];
  const embeddedRepos: string[] = [];
  let bytes = 0;
  for (const file of unique) {
    // `dir/` is an untracked directory git will not descend into: an embedded repository.
    if (file.endsWith('/')) {
      embeddedRepos.push(file);
      continue;
    }
    const absolute = path.join(repo.workTree, file);
    const stat = lstatOrNull(absolute);
    // A tracked file replaced by a directory: its entry goes (the files inside are listed on
    // their own). A directory with a .git is a submodule: update-index moves its gitlink.
    if (stat?.isDirectory() && !fs.existsSync(path.join(absolute, '.git'))) {
      nowDirectories.push(file);
      continue;
    }
    paths.push(file);
    if (stat && (stat.isFile() || stat.isSymbolicLink())) bytes += stat.size;
  }
  if (bytes > options.maxBytes) return { kind: 'over_bytes', bytes, paths: paths.length };
  if (nowDirectories.length > 0) {
    await repoGit(repo, { index, signal, input: `${nowDirectories.join('\0')}\0`, args: ['update-index', '--force-remove', '-z', '--stdin'] });
  }
  if (paths.length > 0) {
    await repoGit(repo, {
      index,
      signal,
      input: `${paths.join('\0')}\0`,
      args: ['update-index', '--add', '--remove', '--replace', '-z', '--stdin'],
    });
  }
  options.onIndexReady?.(index, paths.length);
  const tree = await writeTree(repo, index, signal);
  return { kind: 'tree', tree, index, hashedBytes: bytes, hashedPaths: paths.length, embeddedRepos };
}

async function writeTree(repo: CheckpointRepo, index: string, signal: AbortSignal | undefined): Promise<string> {
  try {
    const out = await repoGit(repo, { index, signal, args: ['write-tree', ...(repo.prefix ? [`--prefix=${repo.prefix}`] : [])] });
    return out.trim();
  } catch (error) {
    // An empty subdirectory workspace has no entries under its prefix: its tree is the empty tree.
    if (repo.prefix && !signal?.aborted && /prefix|not found/i.test(String((error as Error).message))) {
      return emptyTree(repo, signal);
    }
    throw error;
  }
}

/** Git knows the empty tree in both object formats without it being stored. */
const EMPTY_TREES: Record<number, string> = {
  40: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  64: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321',
};

/** The empty tree's id in the object format of `like` (an object id), without a git call when it can. */
export async function emptyTreeLike(repo: CheckpointRepo, like: string, signal?: AbortSignal): Promise<string> {
  return /^[0-9a-f]+$/.test(like) && EMPTY_TREES[like.length] ? EMPTY_TREES[like.length]! : emptyTree(repo, signal);
}

/** The empty tree's id in this repository's object format (written, so it always exists). */
export async function emptyTree(repo: CheckpointRepo, signal?: AbortSignal): Promise<string> {
  const out = await repoGit(repo, { signal, input: '', args: ['hash-object', '-t', 'tree', '-w', '--stdin'] });
  return out.trim();
}
