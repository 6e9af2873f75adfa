import fs from 'node:fs';
import path from 'node:path';
import { git, splitZ } from './git.js';
import { CHECKPOINT_REFS, SAFETY_REFS } from './paths.js';
import { discoverGitRepo, repoEnv, repoGit } from './repo.js';

/** What `keel doctor` learns about one workspace, read-only (GIT_OPTIONAL_LOCKS=0: even status writes nothing). */
export interface WorkspaceInspection {
  workspace: string;
  exists: boolean;
  repo: { workTree: string; gitDir: string; commonDir: string } | null;
  /** Entries of `git status --porcelain` (staged, unstaged, untracked; ignored files not counted). */
  changes: number | null;
  /** Files under `.keel/` that git would commit (everything but policy.yaml should be ignored). */
  keelFilesNotIgnored: string[];
  /** Run ids that have checkpoint or safety refs in this repository. */
  refRuns: Map<string, number>;
  /** `git worktree list` entries git marks prunable (their folder is gone). */
  prunableWorktrees: string[];
  /** Branches `keel/<run>` (worktree per run) whose worktree is gone. */
  keelBranches: string[];
  /** `index.lock` and how old it is: a stale one blocks every git command that writes the index. */
  indexLock: { path: string; ageMs: number } | null;
  problems: string[];
}

/** Inspects a workspace's repository for the doctor. Never writes anything. */
export async function inspectWorkspace(workspace: string, now = Date.now()): Promise<WorkspaceInspection> {
  const result: WorkspaceInspection = {
    workspace,
    exists: fs.existsSync(workspace),
    repo: null,
    changes: null,
    keelFilesNotIgnored: [],
    refRuns: new Map(),
    prunableWorktrees: [],
    keelBranches: [],
    indexLock: null,
    problems: [],
  };
  if (!result.exists) return result;
  const repo = await discoverGitRepo(workspace);
  if (!repo) return result;
  result.repo = { workTree: repo.workTree, gitDir: repo.gitDir, commonDir: repo.commonDir };
  const withIndex = repoEnv(repo, repo.userIndex ?? undefined);
  const attempt = async <T>(what: string, work: () => Promise<T>): Promise<T | null> => {
    try {
      return await work();
    } catch (error) {
      result.problems.push(`${what}: ${(error as Error).message}`.slice(0, 500));
      return null;
    }
  };
  result.changes = await attempt('git status', async () => splitZ(await git({ cwd: repo.workTree, env: withIndex, args: ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', repo.prefix || '.'] })).filter((entry) => /^.. /.test(entry)).length);
  const keelDir = path.join(workspace, '.keel');
  if (fs.existsSync(keelDir)) {
    await attempt('git ls-files .keel', async () => {
      const listed = splitZ(await git({ cwd: workspace, env: withIndex, args: ['ls-files', '-z', '--others', '--exclude-standard', '--', '.keel'] }));
      result.keelFilesNotIgnored = listed.filter((file) => path.posix.basename(file) !== 'policy.yaml');
    });
  }
  await attempt('git for-each-ref', async () => {
    const out = await repoGit(repo, { args: ['for-each-ref', '--format=%(refname)', CHECKPOINT_REFS, SAFETY_REFS] });
    for (const ref of out.split('\n').filter(Boolean)) {
      const runId = ref.split('/')[3];
      if (runId) result.refRuns.set(runId, (result.refRuns.get(runId) ?? 0) + 1);
    }
  });
  await attempt('git worktree list', async () => {
    const out = await repoGit(repo, { args: ['worktree', 'list', '--porcelain'] });
    let current: string | null = null;
    const live = new Set<string>();
    for (const line of out.split('\n')) {
      if (line.startsWith('worktree ')) current = line.slice('worktree '.length);
      else if (line.startsWith('prunable') && current) result.prunableWorktrees.push(current);
      else if (line.startsWith('branch refs/heads/keel/')) live.add(line.slice('branch refs/heads/'.length));
    }
    const branches = (await repoGit(repo, { args: ['for-each-ref', '--format=%(refname:short)', 'refs/heads/keel/'] })).split('\n').filter(Boolean);
    result.keelBranches = branches.filter((branch) => !live.has(branch));
  });
  const lock = path.join(repo.gitDir, 'index.lock');
  try {
    result.indexLock = { path: lock, ageMs: Math.max(0, now - fs.statSync(lock).mtimeMs) };
  } catch {
    result.indexLock = null;
  }
  return result;
}
