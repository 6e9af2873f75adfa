import type { ChangedFile, Diffstat, FileChangeStatus } from '../../contract/schemas/checkpoints.js';
import { splitZ } from './git.js';
import { repoGit, type CheckpointRepo } from './repo.js';
import { emptyTreeLike } from './worktree-tree.js';

/** Above this many changed files, line counts are not computed (they would read every blob). */
export const NUMSTAT_FILE_LIMIT = 2000;

export interface TreeChange extends ChangedFile {
  oldMode: string;
  newMode: string;
  oldId: string;
  newId: string;
}

const STATUS: Record<string, FileChangeStatus> = { A: 'added', D: 'deleted', M: 'modified', T: 'type_changed' };

/**
 * The files that differ between two tree-ishes (paths relative to the trees: the workspace),
 * by git plumbing: `diff-tree -r -z --no-renames --raw [--numstat]`. `from` null: everything
 * in `to` is added. Line counts are null for binary files and when `numstat` is off.
 */
export async function diffTrees(
  repo: CheckpointRepo,
  from: string | null,
  to: string,
  options: { numstat?: boolean; signal?: AbortSignal | undefined } = {},
): Promise<TreeChange[]> {
  const base = from ?? (await emptyTreeLike(repo, to, options.signal));
  const out = await repoGit(repo, {
    signal: options.signal,
    args: ['diff-tree', '-r', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', '--raw', ...(options.numstat ? ['--numstat'] : []), base, to],
  });
  return parseRawNumstat(splitZ(out));
}

/**
 * The same as `diffTrees(from, <tree of index>)`, read from an index instead of a written tree
 * (`diff-index --cached`), so it can run while `write-tree` and `commit-tree` do. Only for a
 * workspace at the root of its repository (index paths are repository paths).
 */
export async function diffIndex(
  repo: CheckpointRepo,
  from: string | null,
  index: string,
  options: { numstat?: boolean; signal?: AbortSignal | undefined; like: string },
): Promise<TreeChange[]> {
  const base = from ?? (await emptyTreeLike(repo, options.like, options.signal));
  const out = await repoGit(repo, {
    index,
    signal: options.signal,
    args: ['diff-index', '--cached', '-r', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', '--raw', ...(options.numstat ? ['--numstat'] : []), base],
  });
  return parseRawNumstat(splitZ(out));
}

/** Parses `diff-tree -z --raw [--numstat]` tokens: `:meta`, `path` pairs, then `a\td\tpath` entries. */
export function parseRawNumstat(tokens: string[]): TreeChange[] {
  const changes: TreeChange[] = [];
  const byPath = new Map<string, TreeChange>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.startsWith(':')) {
      const [oldMode, newMode, oldId, newId, letter] = token.slice(1).split(' ');
      const file = tokens[++i];
      const status = STATUS[(letter ?? '').charAt(0)];
      if (file === undefined || !status) continue;
      const change: TreeChange = { path: file, status, insertions: null, deletions: null, oldMode: oldMode!, newMode: newMode!, oldId: oldId!, newId: newId! };
      changes.push(change);
      byPath.set(file, change);
      continue;
    }
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(token);
    if (!match) continue;
    const change = byPath.get(match[3]!);
    if (!change) continue;
    change.insertions = match[1] === '-' ? null : Number(match[1]);
    change.deletions = match[2] === '-' ? null : Number(match[2]);
  }
  return changes;
}

export function diffstatOf(changes: readonly ChangedFile[], counted: boolean): Diffstat {
  if (!counted) return { files: changes.length, insertions: null, deletions: null };
  let insertions = 0;
  let deletions = 0;
  for (const change of changes) {
    insertions += change.insertions ?? 0;
    deletions += change.deletions ?? 0;
  }
  return { files: changes.length, insertions, deletions };
}

/** Public shape of a change (no object ids or modes). */
export const publicChange = (change: TreeChange): ChangedFile => ({
  path: change.path,
  status: change.status,
  insertions: change.insertions,
  deletions: change.deletions,
});
