import fs from 'node:fs';
import path from 'node:path';
import { RunId } from '../contract/schemas/ledger.js';
import { git } from './checkpoints/git.js';

/**
 * Retention of run worktrees (`keel gc`, issue 12 point 9): the folders under
 * `<data>/worktrees/<run>` of runs that are gone from the ledger, or whose checkpoints the same
 * gc pruned as old, are abandoned and removed with `git worktree remove`. Never a dirty worktree
 * (its changes may be in no checkpoint: it is listed with the reason, for the person to decide);
 * never the run's branch `keel/<run>` (it may hold the agent's commits; doctor lists branches
 * without a worktree); never a folder git does not know as a worktree (reported).
 */

export interface WorktreeGcOptions {
  dataDir: string;
  /** Runs the ledger knows; null: treat no run as deleted (no ledger found). */
  knownRuns: ReadonlySet<string> | null;
  /** Runs pruned for age by the checkpoint gc of the same call. */
  expiredRuns?: ReadonlySet<string> | undefined;
  dryRun?: boolean | undefined;
}

export interface WorktreeGcRemoval {
  runId: string;
  path: string;
  reason: 'deleted_run' | 'older_than';
  bytes: number;
}

export interface WorktreeGcResult {
  removed: WorktreeGcRemoval[];
  kept: Array<{ runId: string; path: string; why: string }>;
  problems: string[];
}

export async function gcWorktrees(options: WorktreeGcOptions): Promise<WorktreeGcResult> {
  const result: WorktreeGcResult = { removed: [], kept: [], problems: [] };
  const root = path.join(options.dataDir, 'worktrees');
  let names: string[] = [];
  try {
    names = fs.readdirSync(root);
  } catch {
    return result; // no worktrees were ever made here
  }
  for (const runId of names.sort()) {
    const folder = path.join(root, runId);
    if (!RunId.safeParse(runId).success || !fs.statSync(folder).isDirectory()) continue;
    const deleted = options.knownRuns !== null && !options.knownRuns.has(runId);
    const expired = options.expiredRuns?.has(runId) === true;
    if (!deleted && !expired) continue;
    let mainWorktree: string;
    let worktreeIndex: string;
    let dirty: string;
    try {
      // The repository's main worktree (listed first), where git is asked to remove this one.
      mainWorktree = /^worktree (.+)$/m.exec(await git({ cwd: folder, args: ['worktree', 'list', '--porcelain'] }))?.[1] ?? '';
      if (!mainWorktree || !fs.existsSync(mainWorktree)) throw new Error('its repository was not found');
      const gitDir = (await git({ cwd: folder, args: ['rev-parse', '--absolute-git-dir'] })).trim();
      // The worktree's own index (Keel's git calls default to none, so that no user index is ever touched).
      worktreeIndex = path.join(gitDir, 'index');
      dirty = await git({ cwd: folder, env: { GIT_INDEX_FILE: worktreeIndex }, args: ['status', '--porcelain', '--untracked-files=all'] });
    } catch (error) {
      result.problems.push(`${folder} is not a git worktree any more (${(error as Error).message.split('\n')[0]}); Keel left it alone.`);
      continue;
    }
    if (dirty.trim() !== '') {
      const count = dirty.trim().split('\n').length;
      result.kept.push({ runId, path: folder, why: `it has ${count} uncommitted change(s) that may be in no checkpoint; commit or remove them yourself` });
      continue;
    }
    const removal: WorktreeGcRemoval = { runId, path: folder, reason: deleted ? 'deleted_run' : 'older_than', bytes: treeBytes(folder) };
    if (!options.dryRun) {
      try {
        // git checks the worktree is clean with a status inside it, which reads GIT_INDEX_FILE: its own index.
        await git({ cwd: mainWorktree, env: { GIT_INDEX_FILE: worktreeIndex }, args: ['worktree', 'remove', folder] });
      } catch (error) {
        result.problems.push(`removing the worktree ${folder} failed: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
    }
    result.removed.push(removal);
  }
  return result;
}

function treeBytes(folder: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.lstatSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}
