import { performance } from 'node:perf_hooks';
import {
  MAX_CHANGE_FILE_BYTES,
  MAX_CHANGED_FILES_LISTED,
  type ChangeFileSide,
  type ChangesCheckpoint,
  type ChangesEnd,
  type RunChangeFile,
  type RunChanges,
} from '../contract/schemas/changes.js';
import { worktreeTreeFromCache } from './checkpoints/create.js';
import { splitZ } from './checkpoints/git.js';
import { CHECKPOINT_REFS, listRefs, repoGit, resolveCheckpointRepo, runPaths, WorkspaceMissingError, type CheckpointRepo, type RefEntry } from './checkpoints/repo.js';
import { NUMSTAT_FILE_LIMIT } from './checkpoints/tree-diff.js';
import { removeIndex } from './checkpoints/worktree-tree.js';
import { parseChanges, publicFile, type RawChange } from './changes-parse.js';

/**
 * The changes view's core (issue 15, point 19): what a run changed between two of its
 * checkpoints (`refs/keel/checkpoints/<run>/<turn>`, turn 0 the baseline), or between a
 * checkpoint and the working tree as it is now. Plumbing only (`diff-tree -M`, `cat-file`)
 * through the checkpoint engine's git wrapper: argument vectors, a per-call environment naming
 * the checkpoint repository (the user's, or Keel's private one for a non-git folder) and an index
 * that is never the user's (I7). Reading a file's text is confined to the files the same range
 * lists (I11).
 */

export interface ChangesScope {
  dataDir: string;
  runId: string;
  /** A private repository to use instead of the run's own (tests). */
  gitDir?: string | undefined;
  /** Default: the run's first checkpoint (the baseline). */
  from?: number | undefined;
  /** Default: the run's latest checkpoint. `now`: the working tree as it is. */
  to?: ChangesEnd | undefined;
  /** Bytes of changed files hashed at most for `now` (default 100 MiB). */
  nowMaxBytes?: number | undefined;
  /** Time for `now` at most (default 20 s). */
  nowTimeMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** A range that cannot be compared, said in plain words (the host answers `not_found`). */
export class ChangesRangeError extends Error {
  override name = 'ChangesRangeError';
}

/** A file the range does not list (the host answers `forbidden`: no arbitrary reads, I11). */
export class ChangeFileRefusedError extends Error {
  override name = 'ChangeFileRefusedError';
}

const MiB = 1024 * 1024;

interface ResolvedRange {
  repo: CheckpointRepo;
  checkpoints: RefEntry[];
  from: RefEntry;
  to: ChangesEnd;
  /** The commit or tree to compare with. */
  toRev: string;
}

const checkpointsOf = (refs: RefEntry[]): ChangesCheckpoint[] =>
  refs.map((ref) => ({ turn: ref.n, commit: ref.commit, createdAt: ref.committedAt > 0 ? new Date(ref.committedAt).toISOString() : null }));

/** The run's checkpoints, or a plain reason there are none to compare. */
async function openRun(workspace: string, scope: ChangesScope): Promise<{ repo: CheckpointRepo; refs: RefEntry[] } | { note: string }> {
  let repo: CheckpointRepo;
  try {
    repo = await resolveCheckpointRepo(workspace, { dataDir: scope.dataDir, runId: scope.runId, gitDir: scope.gitDir, create: false, signal: scope.signal });
  } catch (error) {
    if (error instanceof WorkspaceMissingError) return { note: `${error.message} Its changes cannot be shown.` };
    throw error;
  }
  const refs = await listRefs(repo, `${CHECKPOINT_REFS}${scope.runId}/`, scope.signal);
  if (refs.length === 0) return { note: 'This run has no checkpoint yet: the first one is taken before its first turn.' };
  return { repo, refs };
}

const turnName = (turn: number) => (turn === 0 ? 'the baseline (turn 0)' : `turn ${turn}`);

async function resolveRange(workspace: string, scope: ChangesScope, opened: { repo: CheckpointRepo; refs: RefEntry[] }): Promise<ResolvedRange> {
  const { repo, refs } = opened;
  const find = (turn: number) => {
    const entry = refs.find((ref) => ref.n === turn);
    if (!entry) throw new ChangesRangeError(`This run has no checkpoint for ${turnName(turn)}: it was skipped or not taken yet.`);
    return entry;
  };
  const from = scope.from === undefined ? refs[0]! : find(scope.from);
  const to: ChangesEnd = scope.to ?? refs.at(-1)!.n;
  if (to === 'now') return { repo, checkpoints: refs, from, to, toRev: await worktreeNow(workspace, repo, scope) };
  const end = find(to);
  if (end.n < from.n) throw new ChangesRangeError(`The range goes backwards: ${turnName(from.n)} comes after ${turnName(end.n)}.`);
  return { repo, checkpoints: refs, from, to, toRev: end.commit };
}

/**
 * A tree of the working tree as it is, built the way a checkpoint builds one (a temporary index
 * copied from the run's index cache or the user's index; new blobs written, no commit, no ref).
 */
async function worktreeNow(workspace: string, repo: CheckpointRepo, scope: ChangesScope): Promise<string> {
  const maxBytes = scope.nowMaxBytes ?? 100 * MiB;
  const timeMs = scope.nowTimeMs ?? 20_000;
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), timeMs);
  const signal = scope.signal ? AbortSignal.any([scope.signal, timer.signal]) : timer.signal;
  try {
    const result = await worktreeTreeFromCache(repo, runPaths(scope.dataDir, scope.runId), maxBytes, signal);
    if (result.kind === 'over_bytes') {
      throw new ChangesRangeError(
        `The working tree has ${result.paths} changed files holding ${(result.bytes / MiB).toFixed(1)} MiB, more than ${(maxBytes / MiB).toFixed(0)} MiB: compare checkpoints instead.`,
      );
    }
    removeIndex(result.index);
    return result.tree;
  } catch (error) {
    if (timer.signal.aborted && !scope.signal?.aborted) throw new ChangesRangeError(`Reading the working tree of ${workspace} took longer than ${timeMs / 1000} s: compare checkpoints instead.`);
    throw error;
  } finally {
    clearTimeout(timeout);
  }
}

/** `diff-tree -r -z -M --raw [--numstat]` between two tree-ishes of the repository. */
async function diffRange(repo: CheckpointRepo, from: string, to: string, numstat: boolean, signal: AbortSignal | undefined): Promise<RawChange[]> {
  const out = await repoGit(repo, {
    signal,
    args: ['diff-tree', '-r', '-z', '-M', '--no-ext-diff', '--no-textconv', '--raw', ...(numstat ? ['--numstat'] : []), from, to],
  });
  return parseChanges(splitZ(out));
}

/** How many paths differ (no rename detection, no blob reads): decides whether lines are counted. */
async function countPaths(repo: CheckpointRepo, from: string, to: string, signal: AbortSignal | undefined): Promise<number> {
  const out = await repoGit(repo, { signal, args: ['diff-tree', '-r', '-z', '--no-renames', '--name-only', from, to] });
  return splitZ(out).length;
}

const byPath = (a: RawChange, b: RawChange) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The files the run changed in the range (default: its first checkpoint to its latest), with
 * status (renames detected), lines added and removed, and binary files marked. A run without
 * checkpoints, or whose workspace is gone, answers an empty list with a `note` saying why.
 */
export async function runChanges(workspace: string, scope: ChangesScope): Promise<RunChanges> {
  const started = performance.now();
  const empty = (note: string, checkpoints: ChangesCheckpoint[] = []): RunChanges => ({
    runId: scope.runId,
    checkpoints,
    from: null,
    to: null,
    files: [],
    truncated: false,
    totals: { files: 0, added: 0, removed: 0 },
    note,
    durationMs: Math.round(performance.now() - started),
  });
  const opened = await openRun(workspace, scope);
  if ('note' in opened) return empty(opened.note);
  const range = await resolveRange(workspace, scope, opened);
  const counted = (await countPaths(range.repo, range.from.commit, range.toRev, scope.signal)) <= NUMSTAT_FILE_LIMIT;
  const changes = (await diffRange(range.repo, range.from.commit, range.toRev, counted, scope.signal)).sort(byPath);
  let added: number | null = counted ? 0 : null;
  let removed: number | null = counted ? 0 : null;
  for (const change of changes) {
    if (added !== null) added += change.added ?? 0;
    if (removed !== null) removed += change.removed ?? 0;
  }
  return {
    runId: scope.runId,
    checkpoints: checkpointsOf(range.checkpoints),
    from: range.from.n,
    to: range.to,
    files: changes.slice(0, MAX_CHANGED_FILES_LISTED).map(publicFile),
    truncated: changes.length > MAX_CHANGED_FILES_LISTED,
    totals: { files: changes.length, added, removed },
    note: null,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * One changed file's old and new text, for the diff view. `file` must be a path the same range
 * lists (its new path; a deleted file's old one): anything else is refused, so this never reads
 * an arbitrary file. Each side over `maxBytes` (default 1 MiB), binary, or a submodule comes
 * without its text and says why.
 */
export async function runChangeFile(workspace: string, scope: ChangesScope & { file: string; maxBytes?: number }): Promise<RunChangeFile> {
  const opened = await openRun(workspace, scope);
  if ('note' in opened) throw new ChangesRangeError(opened.note);
  const range = await resolveRange(workspace, scope, opened);
  const change = await findChange(range, scope.file, scope.signal);
  const span = `${turnName(range.from.n)} and ${range.to === 'now' ? 'the working tree now' : turnName(range.to)}`;
  if (!change) throw new ChangeFileRefusedError(`"${scope.file}" is not one of the files this run changed between ${span}; only those can be shown.`);
  const maxBytes = scope.maxBytes ?? MAX_CHANGE_FILE_BYTES;
  const sizes = await objectSizes(range.repo, [change.oldId, change.newId], scope.signal);
  const side = async (id: string | null, kind: RawChange['oldKind']): Promise<ChangeFileSide | null> => {
    if (id === null || kind === null) return null;
    if (kind === 'submodule') return { size: 0, kind, text: `Subproject commit ${id}\n`, omitted: 'submodule' };
    const size = sizes.get(id) ?? 0;
    if (change.binary) return { size, kind, text: null, omitted: 'binary' };
    if (size > maxBytes) return { size, kind, text: null, omitted: 'too_large' };
    const text = await repoGit(range.repo, { signal: scope.signal, args: ['cat-file', 'blob', id] });
    // Git's own test: a NUL in the first 8000 bytes makes a file binary.
    if (text.slice(0, 8000).includes('\0')) return { size, kind, text: null, omitted: 'binary' };
    return { size, kind, text, omitted: null };
  };
  return {
    path: change.path,
    oldPath: change.oldPath,
    status: change.status,
    from: range.from.n,
    to: range.to,
    old: await side(change.oldId, change.oldKind),
    new: await side(change.newId, change.newKind),
    maxBytes,
  };
}

/**
 * The range's entry for one path. A path git sees as modified (or changed in kind) is one with
 * or without rename detection, so a diff limited to that literal path answers cheaply; an added
 * or deleted path may be half of a rename, which only the whole diff can tell.
 */
async function findChange(range: ResolvedRange, file: string, signal: AbortSignal | undefined): Promise<RawChange | undefined> {
  // Only a plain relative path goes to git as a pathspec (git refuses one outside the work tree).
  const plain = !/[\0\n]/.test(file) && !file.startsWith('/') && !file.split('/').some((part) => part === '' || part === '.' || part === '..');
  if (plain) {
    const out = await repoGit(range.repo, {
      signal,
      env: { GIT_LITERAL_PATHSPECS: '1' },
      args: ['diff-tree', '-r', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', '--raw', '--numstat', range.from.commit, range.toRev, '--', file],
    });
    const only = parseChanges(splitZ(out)).find((candidate) => candidate.path === file);
    if (only && (only.status === 'modified' || only.status === 'type_changed')) return only;
    if (!only) return undefined;
  }
  const changes = await diffRange(range.repo, range.from.commit, range.toRev, true, signal);
  return changes.find((candidate) => candidate.path === file);
}

/** Sizes of blobs by `cat-file --batch-check` (ids on stdin). */
async function objectSizes(repo: CheckpointRepo, ids: Array<string | null>, signal: AbortSignal | undefined): Promise<Map<string, number>> {
  const wanted = ids.filter((id): id is string => id !== null);
  const sizes = new Map<string, number>();
  if (wanted.length === 0) return sizes;
  const out = await repoGit(repo, { signal, input: `${wanted.join('\n')}\n`, args: ['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'] });
  for (const line of out.split('\n')) {
    const match = /^([0-9a-f]+) blob (\d+)$/.exec(line);
    if (match) sizes.set(match[1]!, Number(match[2]));
  }
  return sizes;
}
