import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  MAX_LISTED_FILES,
  RESTORE_JOURNAL_SCHEMA_VERSION,
  RestoreJournal,
  type CheckpointBudget,
  type CheckpointRestoreCompletedPayload,
  type CheckpointRestoreFailedPayload,
  type RestoredFile,
} from '../../contract/schemas/checkpoints.js';
import { createCheckpoint } from './create.js';
import { splitZ } from './git.js';
import {
  checkpointRef,
  CHECKPOINT_REFS,
  listRefs,
  repoFromInfo,
  repoGit,
  repoInfo,
  resolveCheckpointRepo,
  resolveCommit,
  runPaths,
  type CheckpointRepo,
} from './repo.js';
import { readSealed, writeSealed, type SealedRead } from './sealed-json.js';
import { lstatOrNull, removeIndex, writeWorktreeTree, tempIndexPath } from './worktree-tree.js';
import { diffTrees, type TreeChange } from './tree-diff.js';

/**
 * Transactional restore (I7): a safety checkpoint of the worktree first, then a journal, then
 * the files — changed and deleted ones back, files created since removed; ignored files and
 * files no checkpoint ever held are outside both trees and so never touched. Verified against
 * the target tree; any failure moves the same paths back to the safety checkpoint. A process
 * killed half way leaves the journal, and `resumeRestore` finishes or rolls back from it.
 */

export type RestoreTarget = { turn: number } | { ref: string } | { commit: string };

export interface RestoreStep {
  phase: 'applying' | 'rolling_back';
  action: 'remove' | 'checkout';
  paths: string[];
  /** Paths done before this step, of `total`. */
  done: number;
  total: number;
}

export interface RestoreOptions {
  dataDir: string;
  runId: string;
  gitDir?: string | undefined;
  /** Only these workspace-relative paths (a directory means everything under it); default all. */
  files?: string[] | null | undefined;
  /** Budget of the safety checkpoint (a restore never runs without one). */
  safety?: { budget?: Partial<CheckpointBudget> | undefined } | undefined;
  /** Paths per git call or removal batch (small values make crash tests precise). */
  batchSize?: number | undefined;
  /** Called (and awaited) before each batch: progress, and fault injection in tests. */
  onStep?: ((step: RestoreStep) => void | Promise<void>) | undefined;
}

export type RestoreCompleted = CheckpointRestoreCompletedPayload & { kind: 'completed' };
export type RestoreFailed = CheckpointRestoreFailedPayload & { kind: 'failed' };
export type RestoreResult = RestoreCompleted | RestoreFailed;

const DEFAULT_BATCH = 2_000;

export async function restoreCheckpoint(workspace: string, target: RestoreTarget, options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const paths = runPaths(options.dataDir, options.runId);
  const targetTurn = 'turn' in target ? target.turn : null;
  const failed = (reason: RestoreFailed['reason'], detail: string, rolledBack: boolean, safety: string | null): RestoreFailed => ({
    kind: 'failed',
    targetTurn,
    reason,
    detail: detail.slice(0, 4000),
    rolledBack,
    safetyRef: safety,
    durationMs: elapsed(),
  });
  if (fs.existsSync(paths.journal)) {
    return failed('interrupted', `An earlier restore of this run did not finish (${paths.journal}); resume it first.`, false, null);
  }
  const repo = await resolveCheckpointRepo(workspace, { dataDir: options.dataDir, runId: options.runId, gitDir: options.gitDir, create: false });
  const rev = 'turn' in target ? checkpointRef(options.runId, target.turn) : 'ref' in target ? target.ref : target.commit;
  const resolved = await resolveCommit(repo, rev);
  if (!resolved) return failed('target_missing', `No checkpoint ${rev} in ${repo.commonDir}.`, true, null);

  // 1. The safety checkpoint: the worktree as it is now, so this restore can be undone.
  const latest = (await listRefs(repo, `${CHECKPOINT_REFS}${options.runId}/`)).at(-1);
  const safety = await createCheckpoint(workspace, {
    dataDir: options.dataDir,
    runId: options.runId,
    gitDir: options.gitDir,
    turn: latest?.n ?? 0,
    parent: latest?.commit ?? null,
    budget: options.safety?.budget,
    safety: true,
    sidecar: false,
  });
  if (safety.kind === 'skipped') {
    return failed('safety_checkpoint_skipped', `No safety checkpoint could be taken (${safety.reason}: ${safety.detail}); nothing was restored.`, true, null);
  }

  // 2. The plan: every path that differs between now and the target (within `files`).
  const changes = selectFiles(await diffTrees(repo, safety.tree, resolved.tree), options.files ?? null);
  const journal: JournalContent = {
    schema_version: RESTORE_JOURNAL_SCHEMA_VERSION,
    runId: options.runId,
    startedAt: new Date().toISOString(),
    repo: repoInfo(repo),
    targetTurn,
    targetCommit: resolved.commit,
    targetTree: resolved.tree,
    safetyRef: safety.ref,
    safetyCommit: safety.commit,
    safetyTree: safety.tree,
    phase: 'applying',
    paths: changes.map((change) => change.path),
    files: options.files ?? null,
    failure: null,
  };
  // 3. The journal, durable before any file is touched.
  writeSealed(paths.journal, journal);
  return runJournal(repo, journal, changes, { ...options, mode: 'finish', resumed: false, elapsed });
}

type JournalContent = Omit<RestoreJournal, 'sha256'>;
type RunPaths = ReturnType<typeof runPaths>;

interface RunOptions extends Pick<RestoreOptions, 'dataDir' | 'runId' | 'batchSize' | 'onStep'> {
  mode: 'finish' | 'rollback';
  resumed: boolean;
  elapsed: () => number;
}

async function runJournal(repo: CheckpointRepo, journal: JournalContent, changes: TreeChange[], options: RunOptions): Promise<RestoreResult> {
  const paths = runPaths(options.dataDir, options.runId);
  const base = {
    targetTurn: journal.targetTurn,
    safetyRef: journal.safetyRef,
  };
  const fail = (reason: RestoreFailed['reason'], detail: string, rolledBack: boolean): RestoreFailed => ({
    kind: 'failed',
    ...base,
    reason,
    detail: detail.slice(0, 4000),
    rolledBack,
    durationMs: options.elapsed(),
  });
  let failure: { reason: 'apply_failed' | 'verify_failed' | 'interrupted'; detail: string } | null = null;
  if (journal.phase === 'applying' && options.mode === 'finish') {
    try {
      const touched = await moveTo(repo, 'target', journal, changes, options, paths.tmpDir);
      const { mismatch, tree: after } = await verifyTree(repo, journal.targetTree, changes, paths);
      if (mismatch.length === 0) {
        const restoredCommit = await restoredCommitOf(repo, journal, after ?? journal.safetyTree);
        fs.rmSync(paths.journal, { force: true });
        return {
          kind: 'completed',
          ...base,
          targetCommit: journal.targetCommit,
          ...(restoredCommit ? { restoredCommit } : {}),
          safetyCommit: journal.safetyCommit,
          filesTouched: touched.length,
          files: touched.slice(0, MAX_LISTED_FILES),
          truncated: touched.length > MAX_LISTED_FILES,
          resumed: options.resumed,
          durationMs: options.elapsed(),
        };
      }
      failure = { reason: 'verify_failed', detail: `After the restore, ${mismatch.length} file(s) do not match the checkpoint: ${mismatch.slice(0, 10).join(', ')}` };
    } catch (error) {
      failure = { reason: 'apply_failed', detail: error instanceof Error ? error.message : String(error) };
    }
  } else {
    failure = { reason: 'interrupted', detail: journal.failure ?? 'The restore was interrupted and is rolled back.' };
  }
  // Roll back: the same paths, to the safety checkpoint.
  const rollingBack: JournalContent = { ...journal, phase: 'rolling_back', failure: journal.failure ?? failure.detail };
  try {
    writeSealed(paths.journal, rollingBack);
    await moveTo(repo, 'safety', rollingBack, changes, options, paths.tmpDir);
    const mismatch = await verify(repo, journal.safetyTree, changes, paths);
    if (mismatch.length > 0) throw new Error(`${mismatch.length} file(s) still differ from the safety checkpoint: ${mismatch.slice(0, 10).join(', ')}`);
  } catch (error) {
    return fail('rollback_failed', `${failure.detail}; then the rollback failed too: ${error instanceof Error ? error.message : String(error)}. The journal ${paths.journal} is kept.`, false);
  }
  fs.rmSync(paths.journal, { force: true });
  return fail(failure.reason, failure.detail, true);
}

/** Changes limited to the requested files (a path, or a directory and everything under it). */
function selectFiles(changes: TreeChange[], files: string[] | null): TreeChange[] {
  if (files === null) return changes;
  const wanted = files.map((file) => file.split(path.sep).join('/').replace(/^\.\//, '').replace(/\/+$/, ''));
  return changes.filter((change) => wanted.some((file) => file === '' || file === '.' || change.path === file || change.path.startsWith(`${file}/`)));
}

/**
 * Makes every path of `changes` as it is in one of the two trees: `target` (deleted paths
 * removed, the others checked out) or `safety` (added paths removed, the others checked out).
 * Idempotent, so a resumed journal may run it again from any point.
 */
async function moveTo(
  repo: CheckpointRepo,
  side: 'target' | 'safety',
  journal: JournalContent,
  changes: TreeChange[],
  options: Pick<RunOptions, 'batchSize' | 'onStep'>,
  tmpDir: string,
): Promise<RestoredFile[]> {
  const absent = side === 'target' ? 'deleted' : 'added';
  const phase = side === 'target' ? 'applying' : 'rolling_back';
  const removals = changes.filter((change) => change.status === absent).map((change) => change.path);
  const checkouts = changes.filter((change) => change.status !== absent).map((change) => change.path);
  const batch = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
  const total = removals.length + checkouts.length;
  let done = 0;
  for (let i = 0; i < removals.length; i += batch) {
    const chunk = removals.slice(i, i + batch);
    await options.onStep?.({ phase, action: 'remove', paths: chunk, done, total });
    for (const file of chunk) removeFromWorktree(repo, file);
    done += chunk.length;
  }
  if (checkouts.length > 0) {
    const tree = side === 'target' ? journal.targetTree : journal.safetyTree;
    const index = tempIndexPath(tmpDir);
    try {
      await repoGit(repo, { index, args: ['read-tree', ...(repo.prefix ? [`--prefix=${repo.prefix}`] : []), tree] });
      for (let i = 0; i < checkouts.length; i += batch) {
        const chunk = checkouts.slice(i, i + batch);
        await options.onStep?.({ phase, action: 'checkout', paths: chunk, done, total });
        for (const file of chunk) clearWayFor(repo, file);
        await repoGit(repo, { index, input: `${chunk.map((file) => repo.prefix + file).join('\0')}\0`, args: ['checkout-index', '--force', '-z', '--stdin'] });
        done += chunk.length;
      }
    } finally {
      removeIndex(index);
    }
  }
  return [...removals.map((file) => ({ path: file, action: 'removed' as const })), ...checkouts.map((file) => ({ path: file, action: 'restored' as const }))];
}

/** Absolute path of a workspace-relative path, refusing any walk through a symlinked directory. */
function worktreePath(repo: CheckpointRepo, file: string): string | null {
  const parts = (repo.prefix + file).split('/');
  let current = repo.workTree;
  for (const part of parts.slice(0, -1)) {
    current = path.join(current, part);
    const stat = lstatOrNull(current);
    if (!stat) return path.join(repo.workTree, ...parts); // missing ancestor: nothing beyond it exists
    if (stat.isSymbolicLink() || !stat.isDirectory()) return null;
  }
  return path.join(repo.workTree, ...parts);
}

function removeFromWorktree(repo: CheckpointRepo, file: string): void {
  const absolute = worktreePath(repo, file);
  if (absolute === null) return; // behind a symlink or a file: git never tracked it there
  const stat = lstatOrNull(absolute);
  // Not there, or a directory (the file was replaced by one; the files inside are entries of
  // their own): nothing of this path to remove.
  if (!stat || stat.isDirectory()) return;
  fs.unlinkSync(absolute);
  // Directories emptied by the removal go too (git does the same); never the workspace itself.
  const stop = repo.prefix ? path.join(repo.workTree, repo.prefix) : repo.workTree;
  let dir = path.dirname(absolute);
  while (dir.startsWith(stop + path.sep)) {
    try {
      fs.rmdirSync(dir);
    } catch {
      break;
    }
    dir = path.dirname(dir);
  }
}

/** A symlink where the path needs a directory is replaced by git; a stray empty dir is removed. */
function clearWayFor(repo: CheckpointRepo, file: string): void {
  const absolute = path.join(repo.workTree, ...(repo.prefix + file).split('/'));
  const stat = lstatOrNull(absolute);
  if (stat?.isDirectory()) {
    try {
      fs.rmdirSync(absolute);
    } catch {
      throw new Error(`${file} is a non-empty directory in the worktree; it is left alone and the restore stopped.`);
    }
  }
}

/** Paths of `changes` whose worktree content differs from `tree` (an empty list: all match). */
async function verify(repo: CheckpointRepo, tree: string, changes: TreeChange[], paths: RunPaths): Promise<string[]> {
  return (await verifyTree(repo, tree, changes, paths)).mismatch;
}

/** `verify`, with the tree of the worktree it wrote (null when nothing needed checking). */
async function verifyTree(repo: CheckpointRepo, tree: string, changes: TreeChange[], paths: RunPaths): Promise<{ mismatch: string[]; tree: string | null }> {
  if (changes.length === 0) return { mismatch: [], tree: null };
  const baseIndex = fs.existsSync(paths.indexCache) ? paths.indexCache : repo.userIndex;
  const worktree = await writeWorktreeTree(repo, { baseIndex, tmpDir: paths.tmpDir, maxBytes: Number.MAX_SAFE_INTEGER });
  if (worktree.kind !== 'tree') return { mismatch: ['(the worktree tree could not be written)'], tree: null };
  removeIndex(worktree.index);
  if (worktree.tree === tree) return { mismatch: [], tree: worktree.tree };
  const wanted = new Set(changes.map((change) => change.path));
  const differ = await repoGit(repo, { args: ['diff-tree', '-r', '-z', '--no-renames', '--name-only', tree, worktree.tree] });
  return { mismatch: splitZ(differ).filter((file) => wanted.has(file)), tree: worktree.tree };
}

/**
 * The worktree right after a restore, as a commit: the next checkpoint's parent, so the next
 * turn's "files changed" are measured from the restored tree (a restore is a diff boundary).
 * The target checkpoint itself when the worktree is exactly it (a whole restore); otherwise a
 * commit of the restored tree on the safety checkpoint. Undefined when git could not write it:
 * the next checkpoint then falls back to the run's previous one.
 */
async function restoredCommitOf(repo: CheckpointRepo, journal: JournalContent, tree: string): Promise<string | undefined> {
  if (tree === journal.targetTree) return journal.targetCommit;
  try {
    const stamp = `${Math.floor(Date.now() / 1000)} +0000`;
    const env = { GIT_AUTHOR_NAME: 'Keel', GIT_AUTHOR_EMAIL: 'keel@localhost', GIT_AUTHOR_DATE: stamp, GIT_COMMITTER_NAME: 'Keel', GIT_COMMITTER_EMAIL: 'keel@localhost', GIT_COMMITTER_DATE: stamp };
    const message = `Keel restore: run ${journal.runId}${journal.targetTurn === null ? '' : `, turn ${journal.targetTurn}`}\n\nKeel-Run: ${journal.runId}\n`;
    return (await repoGit(repo, { env, args: ['commit-tree', tree, '-p', journal.safetyCommit, '-m', message] })).trim();
  } catch {
    return undefined;
  }
}

// ---- after a crash ---------------------------------------------------------------------------

export type ResumeResult = (RestoreResult & { journal: string }) | { kind: 'unreadable'; journal: string; problem: string; detail: string };

/** The restore journal a run left behind, or null. */
export function pendingRestore(dataDir: string, runId: string): string | null {
  const file = runPaths(dataDir, runId).journal;
  return fs.existsSync(file) ? file : null;
}

/** Every run with an unfinished restore (for the host to resume at start). */
export function findRestoreJournals(dataDir: string): Array<{ runId: string; journal: string }> {
  const runsDir = path.join(dataDir, 'runs');
  let entries: string[];
  try {
    entries = fs.readdirSync(runsDir);
  } catch {
    return [];
  }
  return entries
    .map((runId) => ({ runId, journal: path.join(runsDir, runId, 'restore-journal.json') }))
    .filter((entry) => fs.existsSync(entry.journal));
}

export function readRestoreJournal(file: string): SealedRead<RestoreJournal> {
  return readSealed(file, RestoreJournal, RESTORE_JOURNAL_SCHEMA_VERSION);
}

/**
 * Finishes (default) or rolls back a restore a crash interrupted, from its journal. A journal
 * already rolling back is always rolled back. A journal that fails its checksum is reported and
 * left in place: nothing is done on data that cannot be trusted.
 */
export async function resumeRestore(
  journalFile: string,
  options: { dataDir: string; mode?: 'finish' | 'rollback'; batchSize?: number; onStep?: RestoreOptions['onStep'] },
): Promise<ResumeResult> {
  const started = performance.now();
  const read = readRestoreJournal(journalFile);
  if (!read.ok) return { kind: 'unreadable', journal: journalFile, problem: read.problem, detail: read.detail };
  const { sha256: _seal, ...journal } = read.value;
  const repo = repoFromInfo(journal.repo);
  const all = await diffTrees(repo, journal.safetyTree, journal.targetTree);
  const wanted = new Set(journal.paths);
  const changes = all.filter((change) => wanted.has(change.path));
  const result = await runJournal(repo, journal, changes, {
    dataDir: options.dataDir,
    runId: journal.runId,
    batchSize: options.batchSize,
    onStep: options.onStep,
    mode: options.mode ?? 'finish',
    resumed: true,
    elapsed: () => Math.round(performance.now() - started),
  });
  return { ...result, journal: journalFile };
}
