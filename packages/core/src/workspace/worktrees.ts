import fs from 'node:fs';
import path from 'node:path';
import { git } from './checkpoints/git.js';
import { discoverGitRepo } from './checkpoints/repo.js';

/**
 * Optional worktree per run (issue 12 point 8): a git worktree of the user's repository on a
 * branch `keel/<run>` under `<data>/worktrees/<run>`, so the agent works beside the user's own
 * checkout. After a crash the worktree is reused when valid, recreated at its branch (or base
 * commit) when missing, and a branch mismatch is reported, never "fixed" by Keel.
 */

export interface RunWorktree {
  path: string;
  branch: string;
  baseCommit: string;
  /** The user's repository (its main worktree). */
  source: string;
}

export type WorktreeCheck = RunWorktree & { action: 'reused' | 'recreated' | 'mismatch'; detail: string | null };

export const worktreeBranch = (runId: string) => `keel/${runId}`;
export const worktreePath = (dataDir: string, runId: string) => path.join(dataDir, 'worktrees', runId);

/** Fills a worktree added with --no-checkout: its own index, then its files (never the user's index). */
async function populate(worktree: string): Promise<void> {
  const gitDir = (await git({ cwd: worktree, args: ['rev-parse', '--absolute-git-dir'] })).trim();
  await git({ cwd: worktree, env: { GIT_INDEX_FILE: path.join(gitDir, 'index') }, args: ['reset', '--hard', '--quiet'] });
}

/** Creates the run's worktree on a new branch `keel/<run>` at the repository's HEAD. */
export async function createRunWorktree(workspace: string, options: { dataDir: string; runId: string }): Promise<RunWorktree> {
  const repo = await discoverGitRepo(workspace);
  if (!repo) throw new Error(`--worktree needs a git repository; ${workspace} is not one.`);
  if (repo.prefix !== '') throw new Error(`--worktree needs the repository's top folder (${repo.workTree}), not a folder inside it.`);
  let baseCommit: string;
  try {
    baseCommit = (await git({ cwd: repo.workTree, args: ['rev-parse', '--verify', 'HEAD^{commit}'] })).trim();
  } catch {
    throw new Error(`--worktree needs a repository with at least one commit; ${repo.workTree} has none.`);
  }
  const target = worktreePath(options.dataDir, options.runId);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const branch = worktreeBranch(options.runId);
  await git({ cwd: repo.workTree, args: ['worktree', 'add', '--no-checkout', '-b', branch, target, baseCommit] });
  await populate(target);
  return { path: fs.realpathSync(target), branch, baseCommit, source: repo.workTree };
}

/**
 * After a restart: the worktree as recorded is reused when it is there on its branch; recreated
 * (on its branch, or at the base commit when the branch is gone too) when its folder is missing;
 * a worktree on another branch is reported as a mismatch and left alone.
 */
export async function checkRunWorktree(recorded: RunWorktree): Promise<WorktreeCheck> {
  if (fs.existsSync(recorded.path)) {
    let head: string;
    try {
      head = (await git({ cwd: recorded.path, args: ['rev-parse', '--abbrev-ref', 'HEAD'] })).trim();
    } catch (error) {
      return { ...recorded, action: 'mismatch', detail: `${recorded.path} is no longer a git worktree: ${(error as Error).message}`.slice(0, 2000) };
    }
    if (head === recorded.branch) return { ...recorded, action: 'reused', detail: null };
    return { ...recorded, action: 'mismatch', detail: `The worktree is on ${head === 'HEAD' ? 'a detached HEAD' : `branch ${head}`}, not ${recorded.branch}; Keel left it as it is.` };
  }
  // Missing: forget the stale registration, then add it again.
  await git({ cwd: recorded.source, args: ['worktree', 'prune'] });
  let branchExists = true;
  try {
    await git({ cwd: recorded.source, args: ['rev-parse', '--verify', `refs/heads/${recorded.branch}`] });
  } catch {
    branchExists = false;
  }
  fs.mkdirSync(path.dirname(recorded.path), { recursive: true, mode: 0o700 });
  const args = branchExists ? ['worktree', 'add', '--no-checkout', recorded.path, recorded.branch] : ['worktree', 'add', '--no-checkout', '-b', recorded.branch, recorded.path, recorded.baseCommit];
  await git({ cwd: recorded.source, args });
  await populate(recorded.path);
  return { ...recorded, action: 'recreated', detail: branchExists ? `The worktree folder was missing; recreated on ${recorded.branch}.` : `The worktree and its branch were missing; recreated at the base commit ${recorded.baseCommit.slice(0, 12)}.` };
}
