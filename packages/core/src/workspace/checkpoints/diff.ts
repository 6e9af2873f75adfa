import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  MAX_LISTED_FILES,
  type ChangedFile,
  type CheckpointBudget,
  type CheckpointSkipReason,
  type Diffstat,
  type WorkspaceDriftPayload,
} from '../../contract/schemas/checkpoints.js';
import { DEFAULT_CHECKPOINT_BUDGET, worktreeTreeFromCache } from './create.js';
import { GitCallError } from './git.js';
import { checkpointRef, CHECKPOINT_REFS, listRefs, repoGit, resolveCheckpointRepo, resolveCommit, runPaths, type CheckpointRepo, type RefEntry } from './repo.js';
import type { RestoreTarget } from './restore.js';
import { emptyTreeLike, removeIndex } from './worktree-tree.js';
import { diffstatOf, diffTrees, NUMSTAT_FILE_LIMIT, publicChange } from './tree-diff.js';

export interface FileDiff extends ChangedFile {
  binary: boolean;
  /** The unified diff of this file (git's format, `a/` and `b/` prefixes); '' when not produced. */
  patch: string;
  /** The patch was cut at `maxPatchBytes`, or not produced because of `maxPatchFiles`. */
  patchTruncated: boolean;
}

export interface CheckpointDiff {
  from: string | null;
  to: string;
  files: FileDiff[];
  diffstat: Diffstat;
}

export interface DiffOptions {
  /** Files that get a patch (the rest only their status and line counts). Default 500. */
  maxPatchFiles?: number;
  /** Bytes of patch kept per file. Default 256 KiB. */
  maxPatchBytes?: number;
  /** Context lines (git's -U). Default 3. */
  context?: number;
  signal?: AbortSignal;
}

/**
 * The files that differ between two checkpoints (commits, refs or trees; `a` null: the empty
 * tree), with unified diffs, by git plumbing (`diff-tree -r --raw --numstat`, then `diff-tree -p`).
 */
export async function diffBetween(repo: CheckpointRepo, a: string | null, b: string, options: DiffOptions = {}): Promise<CheckpointDiff> {
  const maxPatchFiles = options.maxPatchFiles ?? MAX_LISTED_FILES;
  const maxPatchBytes = options.maxPatchBytes ?? 256 * 1024;
  let changes = await diffTrees(repo, a, b, { signal: options.signal });
  const counted = changes.length <= NUMSTAT_FILE_LIMIT;
  if (counted && changes.length > 0) changes = await diffTrees(repo, a, b, { numstat: true, signal: options.signal });
  const patched = changes.slice(0, maxPatchFiles);
  const patches = new Map<string, string>();
  if (patched.length > 0) {
    const base = a ?? (await emptyTreeLike(repo, b, options.signal));
    const limit = changes.length > maxPatchFiles ? ['--', ...patched.map((change) => change.path)] : [];
    const out = await repoGit(repo, {
      signal: options.signal,
      env: { GIT_LITERAL_PATHSPECS: '1' },
      args: ['diff-tree', '-r', '-p', '--no-renames', '--no-ext-diff', '--no-textconv', '--no-color', `-U${options.context ?? 3}`, '--src-prefix=a/', '--dst-prefix=b/', base, b, ...limit],
    });
    for (const [file, patch] of splitPatch(out)) patches.set(file, (patches.get(file) ?? '') + patch);
  }
  const files = changes.map((change, i): FileDiff => {
    const patch = patches.get(change.path) ?? '';
    const binary = (counted && change.insertions === null) || /^Binary files /m.test(patch);
    return {
      ...publicChange(change),
      binary,
      patch: patch.length > maxPatchBytes ? patch.slice(0, maxPatchBytes) : patch,
      patchTruncated: patch.length > maxPatchBytes || i >= maxPatchFiles,
    };
  });
  return { from: a, to: b, files, diffstat: diffstatOf(changes, counted) };
}

/** Splits `diff-tree -p` output into [path, section] pairs (a type change gives two sections). */
export function splitPatch(output: string): Array<[string, string]> {
  const sections: Array<[string, string]> = [];
  const starts: number[] = [];
  const header = /^diff --git /gm;
  for (let match = header.exec(output); match; match = header.exec(output)) starts.push(match.index);
  for (let i = 0; i < starts.length; i++) {
    const section = output.slice(starts[i], starts[i + 1] ?? output.length);
    const line = section.slice(0, section.indexOf('\n') === -1 ? section.length : section.indexOf('\n'));
    const file = pathOfHeader(line.slice('diff --git '.length));
    if (file !== null) sections.push([file, section]);
  }
  return sections;
}

/** `a/P b/P` or `"a/P" "b/P"` (C-quoted) -> P. Renames are off, so both sides name one path. */
function pathOfHeader(rest: string): string | null {
  if (rest.startsWith('"')) {
    const first = unquote(rest);
    return first && first.value.startsWith('a/') ? first.value.slice(2) : null;
  }
  if (!rest.startsWith('a/')) return null;
  const length = (rest.length - 5) / 2; // "a/" + P + " b/" + P
  return Number.isInteger(length) && length > 0 ? rest.slice(2, 2 + length) : null;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Git's C-style quoting, as in patch headers: octal escapes are UTF-8 bytes. */
export function unquote(text: string): { value: string; end: number } | null {
  if (!text.startsWith('"')) return null;
  const bytes: number[] = [];
  for (let i = 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') return { value: Buffer.from(bytes).toString('utf8'), end: i + 1 };
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const next = text[++i] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(text.slice(i, i + 3), 8));
      i += 2;
    } else bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
  }
  return null;
}

export interface CheckpointScope {
  dataDir: string;
  runId: string;
  gitDir?: string | undefined;
}

/**
 * What a turn's checkpoint is measured from: its commit parent — the run's previous checkpoint,
 * or the restored worktree when a restore came between them (a restore is a diff boundary;
 * `fromTurn` is then the checkpoint the restore put back whole, or null) — else, for a
 * checkpoint without a parent, the previous checkpoint's ref.
 */
export async function turnBase(repo: CheckpointRepo, refs: readonly RefEntry[], entry: RefEntry): Promise<{ commit: string | null; fromTurn: number | null; afterRestore: boolean }> {
  const previous = refs.filter((ref) => ref.n < entry.n).at(-1) ?? null;
  const line = (await repoGit(repo, { args: ['rev-list', '--parents', '-n', '1', entry.commit] }).catch(() => '')).trim().split(' ');
  const parent = line[0] === entry.commit ? (line[1] ?? null) : null;
  if (parent === null) return { commit: entry.n === 0 ? null : (previous?.commit ?? null), fromTurn: entry.n === 0 ? null : (previous?.n ?? null), afterRestore: false };
  if (parent === previous?.commit) return { commit: parent, fromTurn: previous.n, afterRestore: false };
  // Any other parent is the tree a restore left: an earlier checkpoint (a whole restore) or a tree of its own (null).
  return { commit: parent, fromTurn: refs.find((ref) => ref.commit === parent)?.n ?? null, afterRestore: true };
}

/** What turn N changed: its checkpoint against what it is measured from (`turnBase`). */
export async function diffTurn(workspace: string, scope: CheckpointScope & { turn: number }, options: DiffOptions = {}): Promise<CheckpointDiff & { turn: number; fromTurn: number | null; afterRestore: boolean }> {
  const repo = await resolveCheckpointRepo(workspace, { ...scope, create: false });
  const refs = await listRefs(repo, `${CHECKPOINT_REFS}${scope.runId}/`);
  const entry = refs.find((ref) => ref.n === scope.turn);
  if (!entry) throw new Error(`Run ${scope.runId} has no checkpoint for turn ${scope.turn}.`);
  const base = await turnBase(repo, refs, entry);
  const diff = await diffBetween(repo, base.commit, entry.commit, options);
  return { ...diff, turn: scope.turn, fromTurn: base.fromTurn, afterRestore: base.afterRestore };
}

export type DriftResult =
  | (WorkspaceDriftPayload & { kind: 'drift' })
  | { kind: 'skipped'; reason: CheckpointSkipReason; detail: string; durationMs: number }
  | { kind: 'no_checkpoint'; detail: string };

/**
 * Files changed in the worktree since a checkpoint (default: the run's latest), for
 * `workspace.drift` on resume. Builds a tree of the worktree the way a checkpoint does (same
 * budget, no commit, no ref) and compares the two trees; `count` 0 means no drift.
 */
export async function driftSince(
  workspace: string,
  scope: CheckpointScope & { since?: RestoreTarget | 'latest'; budget?: Partial<CheckpointBudget>; signal?: AbortSignal },
): Promise<DriftResult> {
  const started = performance.now();
  const budget = { ...DEFAULT_CHECKPOINT_BUDGET, ...scope.budget };
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), budget.timeMs);
  const signal = scope.signal ? AbortSignal.any([scope.signal, timer.signal]) : timer.signal;
  try {
    const repo = await resolveCheckpointRepo(workspace, { ...scope, signal, create: false });
    const since = scope.since ?? 'latest';
    let rev: string;
    let sinceTurn: number | null = null;
    if (since === 'latest') {
      const latest = (await listRefs(repo, `${CHECKPOINT_REFS}${scope.runId}/`, signal)).at(-1);
      if (!latest) return { kind: 'no_checkpoint', detail: `Run ${scope.runId} has no checkpoint yet.` };
      rev = latest.ref;
      sinceTurn = latest.n;
    } else if ('turn' in since) {
      rev = checkpointRef(scope.runId, since.turn);
      sinceTurn = since.turn;
    } else rev = 'ref' in since ? since.ref : since.commit;
    const resolved = await resolveCommit(repo, rev, signal);
    if (!resolved) return { kind: 'no_checkpoint', detail: `No checkpoint ${rev}.` };
    const paths = runPaths(scope.dataDir, scope.runId);
    const worktree = await worktreeTreeFromCache(repo, paths, budget.maxBytes, signal);
    if (worktree.kind === 'over_bytes') {
      return { kind: 'skipped', reason: 'over_byte_budget', detail: `${worktree.paths} changed files hold ${worktree.bytes} bytes, over the budget.`, durationMs: Math.round(performance.now() - started) };
    }
    try {
      const changes = worktree.tree === resolved.tree ? [] : await diffTrees(repo, resolved.tree, worktree.tree, { signal });
      fs.renameSync(worktree.index, paths.indexCache);
      return {
        kind: 'drift',
        sinceTurn,
        sinceRef: rev,
        sinceCommit: resolved.commit,
        count: changes.length,
        files: changes.slice(0, MAX_LISTED_FILES).map((change) => ({ path: change.path, status: change.status })),
        truncated: changes.length > MAX_LISTED_FILES,
      };
    } finally {
      removeIndex(worktree.index);
    }
  } catch (error) {
    const durationMs = Math.round(performance.now() - started);
    if (timer.signal.aborted) return { kind: 'skipped', reason: 'over_time_budget', detail: `Drift detection took longer than ${budget.timeMs} ms.`, durationMs };
    if (scope.signal?.aborted) return { kind: 'skipped', reason: 'aborted', detail: 'Drift detection was cancelled.', durationMs };
    if (error instanceof GitCallError) return { kind: 'skipped', reason: 'git_failed', detail: error.message, durationMs };
    throw error;
  } finally {
    clearTimeout(timeout);
  }
}
