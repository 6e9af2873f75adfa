import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  CHECKPOINT_SIDECAR_SCHEMA_VERSION,
  MAX_LISTED_FILES,
  type CheckpointBudget,
  type CheckpointCreatedPayload,
  type CheckpointRepoInfo,
  type CheckpointSkippedPayload,
  type CheckpointSkipReason,
} from '../../contract/schemas/checkpoints.js';
import { GitCallError } from './git.js';
import {
  checkpointRef,
  CHECKPOINT_REFS,
  listRefs,
  repoGit,
  repoInfo,
  resolveCheckpointRepo,
  runPaths,
  safetyRef,
  SAFETY_REFS,
  WorkspaceMissingError,
  type CheckpointRepo,
} from './repo.js';
import { latestCreatedBelow, writeSidecar } from './sidecar.js';
import { removeIndex, writeWorktreeTree, type WorktreeTreeResult } from './worktree-tree.js';
import { diffIndex, diffstatOf, diffTrees, NUMSTAT_FILE_LIMIT, publicChange, type TreeChange } from './tree-diff.js';

export const DEFAULT_CHECKPOINT_BUDGET: CheckpointBudget = { timeMs: 60_000, maxBytes: 100 * 1024 * 1024 };
/** After the time budget, how long a git child gets to die before the checkpoint returns anyway. */
const KILL_GRACE_MS = 2_000;

export const KEEL_IDENTITY = { name: 'Keel', email: 'keel@localhost' };

export interface CreateCheckpointOptions {
  dataDir: string;
  runId: string;
  /** 0 is the baseline before turn 1. */
  turn: number;
  /** A private repository to use (non-git workspaces); default `<data>/runs/<run>/checkpoints.git`. */
  gitDir?: string | undefined;
  budget?: Partial<CheckpointBudget> | undefined;
  /** Cancels the checkpoint (kills the git child): skipped with `aborted`. */
  signal?: AbortSignal | undefined;
  /** The parent commit; default: the run's checkpoint with the highest turn below this one. */
  parent?: string | null | undefined;
  /**
   * The parent to use instead of the previous checkpoint, when it still exists (the restored
   * worktree after a restore: a diff boundary); if git no longer has it, the previous checkpoint.
   */
  preferredParent?: string | undefined;
  /** Write the sidecar (default true). */
  sidecar?: boolean | undefined;
  /** Internal: a safety checkpoint taken before a restore goes to refs/keel/safety/. */
  safety?: boolean | undefined;
  now?: (() => Date) | undefined;
}

export type CheckpointCreated = CheckpointCreatedPayload & { kind: 'created'; repoInfo: CheckpointRepoInfo };
export type CheckpointSkipped = CheckpointSkippedPayload & { kind: 'skipped'; skipped: CheckpointSkipReason };
export type CheckpointResult = CheckpointCreated | CheckpointSkipped;

class Skip extends Error {
  constructor(
    readonly reason: CheckpointSkipReason,
    readonly detail: string,
    readonly bytes: number | null = null,
  ) {
    super(detail);
  }
}

const MiB = 1024 * 1024;

/**
 * A checkpoint of the workspace: a tree of the whole worktree written with a temporary index,
 * a commit (parent: the run's previous checkpoint) and a hidden ref
 * `refs/keel/checkpoints/<runId>/<turn>`, plus its sidecar. The user's index, HEAD, branches,
 * stash and files are never touched (I7). Over the time or byte budget, nothing is written but
 * the skip's sidecar; the result says why (never a hang: the git child is killed).
 */
export async function createCheckpoint(workspace: string, options: CreateCheckpointOptions): Promise<CheckpointResult> {
  const budget: CheckpointBudget = { ...DEFAULT_CHECKPOINT_BUDGET, ...options.budget };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), budget.timeMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal;
  const paths = runPaths(options.dataDir, options.runId);
  let repo: CheckpointRepo | null = null;
  let hardStop: NodeJS.Timeout | undefined;
  let lateAnswered = false;
  const skipFor = (error: unknown): Skip => {
    if (error instanceof Skip) return error;
    if (timer.signal.aborted) return new Skip('over_time_budget', `The checkpoint took longer than its budget of ${budget.timeMs} ms; the git process was stopped.`);
    if (options.signal?.aborted) return new Skip('aborted', 'The checkpoint was cancelled.');
    if (error instanceof WorkspaceMissingError) return new Skip('workspace_missing', error.message);
    if (error instanceof GitCallError && /ENOENT|spawn git/i.test(error.message)) return new Skip('git_unavailable', `git could not be run: ${error.message}`);
    return new Skip('git_failed', error instanceof Error ? error.message : String(error));
  };
  try {
    const work = (async (): Promise<CheckpointResult> => {
      repo = await resolveCheckpointRepo(workspace, { dataDir: options.dataDir, runId: options.runId, gitDir: options.gitDir, signal });
      return await checkpointIn(repo, options, budget, signal, elapsed);
    })();
    // The kill is the budget's first line; this is the second: return even if a child lingers.
    const deadline = new Promise<never>((_, reject) => {
      hardStop = setTimeout(() => {
        lateAnswered = true;
        reject(new Skip('over_time_budget', `The checkpoint took longer than its budget of ${budget.timeMs} ms.`));
      }, budget.timeMs + KILL_GRACE_MS);
    });
    work.then(
      (late) => {
        // Finished after the deadline had already answered "skipped": take the ref back.
        if (late.kind === 'created' && lateAnswered && repo) void repoGit(repo, { args: ['update-ref', '-d', late.ref, late.commit] }).catch(() => undefined);
      },
      () => undefined,
    );
    return await Promise.race([work, deadline]);
  } catch (error) {
    const skip = skipFor(error);
    const skipped: CheckpointSkippedPayload = { turn: options.turn, reason: skip.reason, detail: skip.detail.slice(0, 2000), budget, bytes: skip.bytes, durationMs: elapsed() };
    if (options.sidecar !== false && !options.safety) {
      const info: CheckpointRepoInfo = repo ? repoInfo(repo) : { kind: 'private', gitDir: paths.privateGitDir, workTree: workspace, prefix: '' };
      sidecarFor(options, info, { status: 'skipped', skipped });
    }
    return { ...skipped, kind: 'skipped', skipped: skip.reason };
  } finally {
    clearTimeout(timeout);
    clearTimeout(hardStop);
  }
}

async function checkpointIn(
  repo: CheckpointRepo,
  options: CreateCheckpointOptions,
  budget: CheckpointBudget,
  signal: AbortSignal,
  elapsed: () => number,
): Promise<CheckpointCreated> {
  const paths = runPaths(options.dataDir, options.runId);
  // The parent: given, else the previous checkpoint its sidecar records (no git call), else the refs.
  let parent: string | null;
  if (options.parent !== undefined) parent = options.parent;
  else if (options.preferredParent !== undefined) parent = options.preferredParent;
  else {
    const recorded = latestCreatedBelow(options.dataDir, options.runId, options.turn);
    parent = recorded?.created && recorded.repo.gitDir === repo.gitDir ? recorded.created.commit : await previousCheckpoint(repo, options.runId, options.turn, signal);
  }
  // What changed is described from the temporary index while write-tree, commit-tree and
  // update-ref run (it needs none of them); at the root of a repository only (index paths are
  // repository paths) and with a parent. Line counts in the same call when the change is known
  // to be small: the tree starts from the previous tree's index and few paths were hashed.
  const fromCache = fs.existsSync(paths.indexCache);
  let early: { numstat: boolean; changes: Promise<TreeChange[]> } | null = null;
  const onIndexReady = (index: string, hashedPaths: number) => {
    if (repo.prefix !== '' || parent === null) return;
    const numstat = fromCache && hashedPaths <= NUMSTAT_FILE_LIMIT;
    const changes = diffIndex(repo, parent, index, { numstat, like: parent });
    changes.catch(() => undefined);
    early = { numstat, changes };
  };
  const worktree = await worktreeTreeFromCache(repo, paths, budget.maxBytes, signal, onIndexReady);
  if (worktree.kind === 'over_bytes') {
    throw new Skip(
      'over_byte_budget',
      `${worktree.paths} changed files hold ${(worktree.bytes / MiB).toFixed(1)} MiB, over the budget of ${(budget.maxBytes / MiB).toFixed(1)} MiB; nothing was hashed.`,
      worktree.bytes,
    );
  }
  try {
    const now = (options.now ?? (() => new Date()))();
    const stamp = `${Math.floor(now.getTime() / 1000)} +0000`;
    const identity = {
      GIT_AUTHOR_NAME: 'Keel',
      GIT_AUTHOR_EMAIL: 'keel@localhost',
      GIT_AUTHOR_DATE: stamp,
      GIT_COMMITTER_NAME: 'Keel',
      GIT_COMMITTER_EMAIL: 'keel@localhost',
      GIT_COMMITTER_DATE: stamp,
    };
    const describedAgainst = parent;
    const ref = options.safety ? safetyRef(options.runId, await nextSafetyNumber(repo, options.runId, signal)) : checkpointRef(options.runId, options.turn);
    const message = `Keel ${options.safety ? 'safety checkpoint' : 'checkpoint'}: run ${options.runId}, turn ${options.turn}\n\nKeel-Run: ${options.runId}\nKeel-Turn: ${options.turn}\n`;
    const commitTree = async (withParent: string | null) =>
      (await repoGit(repo, { signal, env: identity, args: ['commit-tree', worktree.tree, ...(withParent ? ['-p', withParent] : []), '-m', message] })).trim();
    let commit: string;
    try {
      commit = await commitTree(parent);
    } catch (error) {
      if (signal.aborted || parent === null || options.parent !== undefined) throw error;
      // The recorded parent is gone (pruned): ask the refs.
      parent = await previousCheckpoint(repo, options.runId, options.turn, signal);
      commit = await commitTree(parent);
    }
    if (signal.aborted) throw new GitCallError(['update-ref'], 'aborted before the ref was written', true);
    await updateRef(repo, ref, commit, signal);
    // The checkpoint exists from here on: what follows only describes it.
    const ready = parent === describedAgainst ? (early as { numstat: boolean; changes: Promise<TreeChange[]> } | null) : null;
    let changes: TreeChange[] = [];
    let counted = false;
    let described = true;
    try {
      const fromIndex = ready ? await ready.changes.catch(() => null) : null;
      changes = fromIndex ?? (await diffTrees(repo, parent, worktree.tree));
      const numstatDone = fromIndex !== null && ready?.numstat === true;
      counted = numstatDone || changes.length <= NUMSTAT_FILE_LIMIT;
      if (!numstatDone && counted && changes.length > 0) changes = await diffTrees(repo, parent, worktree.tree, { numstat: true });
    } catch {
      described = false; // the checkpoint stands; only its description is missing
    }
    const created: CheckpointCreatedPayload = {
      turn: options.turn,
      ref,
      commit,
      tree: worktree.tree,
      parent,
      repo: repo.kind,
      filesChanged: changes.length,
      diffstat: described ? diffstatOf(changes, counted) : { files: 0, insertions: null, deletions: null },
      files: changes.slice(0, MAX_LISTED_FILES).map(publicChange),
      truncated: !described || changes.length > MAX_LISTED_FILES,
      hashedBytes: worktree.hashedBytes,
      durationMs: elapsed(),
    };
    if (options.sidecar !== false && !options.safety) sidecarFor(options, repoInfo(repo), { status: 'created', created });
    // The index behind this tree becomes the stat cache of the run's next one.
    fs.renameSync(worktree.index, paths.indexCache);
    fs.chmodSync(paths.indexCache, 0o600);
    return { ...created, kind: 'created', repoInfo: repoInfo(repo) };
  } finally {
    removeIndex(worktree.index);
  }
}

/**
 * The worktree tree from the run's index cache, else the user's index; if git rejects the cached index
 * (its objects pruned, a different repository), once more from the user's index.
 */
export async function worktreeTreeFromCache(
  repo: CheckpointRepo,
  paths: ReturnType<typeof runPaths>,
  maxBytes: number,
  signal: AbortSignal | undefined,
  onIndexReady?: (index: string, hashedPaths: number) => void,
): Promise<WorktreeTreeResult> {
  const cached = fs.existsSync(paths.indexCache) ? paths.indexCache : null;
  const base = cached ?? repo.userIndex;
  try {
    return await writeWorktreeTree(repo, { baseIndex: base, tmpDir: paths.tmpDir, maxBytes, signal, onIndexReady });
  } catch (error) {
    if (signal?.aborted || base === null) throw error;
    fs.rmSync(paths.indexCache, { force: true });
    return await writeWorktreeTree(repo, { baseIndex: cached ? repo.userIndex : null, tmpDir: paths.tmpDir, maxBytes, signal, onIndexReady });
  }
}

async function updateRef(repo: CheckpointRepo, ref: string, commit: string, signal: AbortSignal): Promise<void> {
  // A transaction on stdin: `start`/`prepare`/`commit` answer on stdout, so a failure is loud.
  const out = await repoGit(repo, { signal, input: `start\nupdate ${ref} ${commit}\nprepare\ncommit\n`, args: ['update-ref', '--stdin'] });
  if (!/commit: ok/.test(out)) throw new Error(`git update-ref did not commit ${ref}: ${out.trim()}`);
}

/** The commit of the run's checkpoint with the highest turn below `turn`, or null. */
export async function previousCheckpoint(repo: CheckpointRepo, runId: string, turn: number, signal?: AbortSignal): Promise<string | null> {
  const refs = await listRefs(repo, `${CHECKPOINT_REFS}${runId}/`, signal);
  const below = refs.filter((entry) => entry.n < turn);
  return below.length > 0 ? below[below.length - 1]!.commit : null;
}

async function nextSafetyNumber(repo: CheckpointRepo, runId: string, signal: AbortSignal): Promise<number> {
  const refs = await listRefs(repo, `${SAFETY_REFS}${runId}/`, signal);
  return refs.length > 0 ? refs[refs.length - 1]!.n + 1 : 1;
}

function sidecarFor(
  options: CreateCheckpointOptions,
  repo: CheckpointRepoInfo,
  outcome: { status: 'created'; created: CheckpointCreatedPayload } | { status: 'skipped'; skipped: CheckpointSkippedPayload },
): void {
  const strip = <T extends { turn: number }>(payload: T): Omit<T, 'turn'> => {
    const { turn: _turn, ...rest } = payload;
    return rest;
  };
  writeSidecar(options.dataDir, {
    runId: options.runId,
    turn: options.turn,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
    repo,
    status: outcome.status,
    created: outcome.status === 'created' ? strip(outcome.created) : null,
    skipped: outcome.status === 'skipped' ? strip(outcome.skipped) : null,
  });
}
