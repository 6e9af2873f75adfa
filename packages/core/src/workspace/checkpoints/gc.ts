import fs from 'node:fs';
import path from 'node:path';
import { RunId } from '../../contract/schemas/ledger.js';
import { ledgerPaths } from '../../ledger/index.js';
import { readSidecars } from './sidecar.js';
import { CHECKPOINT_REFS, discoverGitRepo, listRefs, repoFromInfo, repoGit, runPaths, SAFETY_REFS, type CheckpointRepo, type RefEntry } from './repo.js';

/**
 * Retention of checkpoints (`keel gc`), per run: a run's checkpoint data goes when the run is gone
 * from the ledger, or when its newest checkpoint is older than `olderThanMs` and it is not among
 * the `keepLast` most recently checkpointed runs. With neither limit, only runs gone from the
 * ledger are pruned. Whole runs, not single turns: each checkpoint's parent is the previous one,
 * so pruning old turns of a kept run would free nothing.
 *
 * What goes: the run's hidden refs (checkpoints and safety checkpoints), its sidecars, its
 * private repository and index cache. Never the ledger, never a run with an unfinished restore,
 * never a user's branch, index or object store directly: unreferenced objects in a user's
 * repository are left to that repository's own `git gc`, and their size is reported as
 * reclaimable.
 */

export interface GcOptions {
  dataDir: string;
  olderThanMs?: number | undefined;
  keepLast?: number | undefined;
  dryRun?: boolean | undefined;
  now?: (() => number) | undefined;
  /** Runs the ledger knows; default: runs with a ledger log in the data dir. */
  knownRuns?: ReadonlySet<string> | undefined;
  /** Workspaces to scan for refs of runs whose sidecars are gone. */
  workspaces?: readonly string[] | undefined;
}

export type GcReason = 'deleted_run' | 'older_than';

export interface GcRemoval {
  runId: string;
  kind: 'checkpoint' | 'safety' | 'sidecar';
  /** The turn (checkpoint, sidecar) or sequence number (safety). */
  n: number;
  ref: string | null;
  commit: string | null;
  sidecar: string | null;
  gitDir: string | null;
  createdAt: string | null;
  reason: GcReason;
}

export interface GcResult {
  dryRun: boolean;
  removed: GcRemoval[];
  /** Runs whose checkpoint data went entirely (private repository and caches included). */
  runsCleared: string[];
  /** Bytes freed in the data directory (sidecars, private repositories, caches). */
  bytesFreed: number;
  /** Bytes of objects in users' repositories reachable only from removed refs (freed by their `git gc`). */
  bytesReclaimable: number;
  skippedRuns: Array<{ runId: string; why: string }>;
  problems: string[];
}

interface Entry {
  kind: GcRemoval['kind'];
  n: number;
  ref: RefEntry | null;
  sidecar: string | null;
  time: number | null;
  repo: CheckpointRepo | null;
}

export async function gcCheckpoints(options: GcOptions): Promise<GcResult> {
  const now = options.now?.() ?? Date.now();
  const dryRun = options.dryRun === true;
  const result: GcResult = { dryRun, removed: [], runsCleared: [], bytesFreed: 0, bytesReclaimable: 0, skippedRuns: [], problems: [] };
  const known = options.knownRuns ?? ledgerRuns(options.dataDir, result.problems);
  const runsDir = path.join(options.dataDir, 'runs');
  const runIds = new Set<string>();
  for (const name of safeReaddir(runsDir)) if (RunId.safeParse(name).success && fs.statSync(path.join(runsDir, name)).isDirectory()) runIds.add(name);

  // Repositories to look in, per run: what its sidecars recorded, its private repository, and
  // any workspace the caller names (for refs whose sidecars are gone).
  const extraRepos: CheckpointRepo[] = [];
  for (const workspace of options.workspaces ?? []) {
    try {
      const repo = await discoverGitRepo(workspace);
      if (!repo) throw new Error('not a git repository');
      extraRepos.push(repo);
      for (const runId of await runsWithRefs(repo)) runIds.add(runId);
    } catch (error) {
      result.problems.push(`${workspace}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const candidates: Array<{ runId: string; entries: Entry[]; deleted: boolean; lastActivity: number; repos: CheckpointRepo[] }> = [];
  for (const runId of [...runIds].sort()) {
    const paths = runPaths(options.dataDir, runId);
    if (fs.existsSync(paths.journal)) {
      result.skippedRuns.push({ runId, why: 'a restore of this run is unfinished (its safety checkpoint is needed)' });
      continue;
    }
    const { sidecars, problems } = readSidecars(options.dataDir, runId);
    for (const problem of problems) result.problems.push(problem.detail);
    const repos = new Map<string, CheckpointRepo>();
    for (const sidecar of sidecars.values()) {
      if (fs.existsSync(sidecar.repo.gitDir)) repos.set(sidecar.repo.gitDir, repoFromInfo(sidecar.repo));
    }
    if (fs.existsSync(path.join(paths.privateGitDir, 'HEAD'))) {
      repos.set(paths.privateGitDir, repoFromInfo({ kind: 'private', gitDir: paths.privateGitDir, workTree: options.dataDir, prefix: '' }));
    }
    for (const repo of extraRepos) repos.set(repo.gitDir, repo);
    const entries: Entry[] = [];
    const seenRefs = new Set<string>();
    for (const repo of repos.values()) {
      for (const [prefix, kind] of [
        [`${CHECKPOINT_REFS}${runId}/`, 'checkpoint'],
        [`${SAFETY_REFS}${runId}/`, 'safety'],
      ] as const) {
        let refs: RefEntry[] = [];
        try {
          refs = await listRefs(repo, prefix);
        } catch (error) {
          result.problems.push(`${repo.gitDir}: ${error instanceof Error ? error.message : String(error)}`);
        }
        for (const ref of refs) {
          if (seenRefs.has(`${repo.commonDir}\0${ref.ref}`)) continue;
          seenRefs.add(`${repo.commonDir}\0${ref.ref}`);
          const sidecar = kind === 'checkpoint' && sidecars.has(ref.n) ? paths.sidecarOf(ref.n) : null;
          entries.push({ kind, n: ref.n, ref, sidecar, time: ref.committedAt, repo });
        }
      }
    }
    for (const [turn, sidecar] of sidecars) {
      if (entries.some((entry) => entry.kind === 'checkpoint' && entry.n === turn)) continue;
      entries.push({ kind: 'sidecar', n: turn, ref: null, sidecar: paths.sidecarOf(turn), time: Date.parse(sidecar.createdAt) || null, repo: null });
    }
    for (const problem of problems) {
      const turn = Number(/(\d+)\.json$/.exec(problem.file)?.[1]);
      if (!Number.isInteger(turn)) continue;
      const owner = entries.find((entry) => entry.n === turn && entry.kind !== 'safety');
      if (owner) owner.sidecar ??= problem.file; // a damaged sidecar goes with its checkpoint
      else entries.push({ kind: 'sidecar', n: turn, ref: null, sidecar: problem.file, time: fileTime(problem.file), repo: null });
    }
    if (entries.length === 0) continue;
    const deleted = known !== null && !known.has(runId);
    const lastActivity = Math.max(...entries.map((entry) => entry.time ?? 0));
    candidates.push({ runId, entries, deleted, lastActivity, repos: [...repos.values()] });
  }

  // Which runs go: deleted ones always; others by age and rank.
  const live = candidates.filter((run) => !run.deleted).sort((a, b) => b.lastActivity - a.lastActivity);
  const kept = new Set(live.slice(0, options.keepLast ?? 0).map((run) => run.runId));
  const limited = options.olderThanMs !== undefined || options.keepLast !== undefined;
  const cutoff = options.olderThanMs === undefined ? Infinity : now - options.olderThanMs;
  const plans = candidates
    .filter((run) => run.deleted || (limited && !kept.has(run.runId) && run.lastActivity < cutoff))
    .map((run) => ({ ...run, reason: (run.deleted ? 'deleted_run' : 'older_than') as GcReason }));

  // Sizes first (before anything is removed), per repository across all removed runs.
  const removedRefs = new Map<CheckpointRepo, RefEntry[]>();
  const repoByDir = new Map<string, CheckpointRepo>();
  for (const plan of plans) {
    for (const entry of plan.entries) {
      if (!entry.ref || !entry.repo) continue;
      const repo = repoByDir.get(entry.repo.commonDir) ?? entry.repo;
      repoByDir.set(entry.repo.commonDir, repo);
      removedRefs.set(repo, [...(removedRefs.get(repo) ?? []), entry.ref]);
    }
  }
  for (const [repo, refs] of removedRefs) {
    if (repo.kind === 'private') continue; // the whole private repository goes (counted below)
    try {
      result.bytesReclaimable += await reachableOnlyFrom(repo, refs);
    } catch (error) {
      result.problems.push(`${repo.gitDir}: could not size the objects of removed refs: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  for (const plan of plans) {
    const paths = runPaths(options.dataDir, plan.runId);
    for (const entry of plan.entries) {
      result.removed.push({
        runId: plan.runId,
        kind: entry.kind,
        n: entry.n,
        ref: entry.ref?.ref ?? null,
        commit: entry.ref?.commit ?? null,
        sidecar: entry.sidecar,
        gitDir: entry.repo?.gitDir ?? null,
        createdAt: entry.time === null ? null : new Date(entry.time).toISOString(),
        reason: plan.reason,
      });
      if (entry.sidecar) result.bytesFreed += fileSize(entry.sidecar);
    }
    result.runsCleared.push(plan.runId);
    for (const target of [paths.privateGitDir, paths.indexCache, paths.tmpDir]) result.bytesFreed += treeSize(target);
    if (dryRun) continue;
    // Refs, per repository: one transaction, each delete guarded by the value the ref had.
    const byRepo = new Map<CheckpointRepo, RefEntry[]>();
    for (const entry of plan.entries) if (entry.ref && entry.repo) byRepo.set(entry.repo, [...(byRepo.get(entry.repo) ?? []), entry.ref]);
    let refsGone = true;
    for (const [repo, refs] of byRepo) {
      if (repo.kind === 'private' && repo.gitDir === paths.privateGitDir) continue; // removed whole below
      try {
        await repoGit(repo, { input: `start\n${refs.map((ref) => `delete ${ref.ref} ${ref.commit}`).join('\n')}\nprepare\ncommit\n`, args: ['update-ref', '--stdin'] });
      } catch (error) {
        refsGone = false;
        result.problems.push(`${repo.gitDir}: removing the refs of ${plan.runId} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (!refsGone) continue; // keep the sidecars that describe refs still there
    for (const entry of plan.entries) if (entry.sidecar) fs.rmSync(entry.sidecar, { force: true });
    for (const target of [paths.privateGitDir, paths.indexCache, paths.tmpDir]) fs.rmSync(target, { recursive: true, force: true });
    try {
      fs.rmdirSync(paths.sidecarDir);
    } catch {
      // not empty (files gc does not own) or already gone
    }
  }
  return result;
}

/** Run ids that have a ledger log; null (treat no run as deleted) when the ledger is missing. */
export function ledgerRuns(dataDir: string, problems: string[]): ReadonlySet<string> | null {
  const { logDir } = ledgerPaths(dataDir);
  const names = safeReaddir(logDir);
  if (names.length === 0) {
    problems.push(`No ledger logs in ${logDir}: no run is treated as deleted.`);
    return null;
  }
  const runs = new Set<string>();
  for (const name of names) {
    const match = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.ndjson$/.exec(name);
    if (match) runs.add(match[1]!);
  }
  return runs;
}

/** Run ids with refs under refs/keel/ in a repository. */
async function runsWithRefs(repo: CheckpointRepo): Promise<string[]> {
  const out = await repoGit(repo, { args: ['for-each-ref', '--format=%(refname)', CHECKPOINT_REFS, SAFETY_REFS] });
  const runs = new Set<string>();
  for (const ref of out.split('\n')) {
    const match = /^refs\/keel\/(?:checkpoints|safety)\/([^/]+)\/\d+$/.exec(ref);
    if (match && RunId.safeParse(match[1]).success) runs.add(match[1]!);
  }
  return [...runs];
}

/** Disk usage of the objects reachable from `refs` and from no other ref of the repository. */
async function reachableOnlyFrom(repo: CheckpointRepo, refs: RefEntry[]): Promise<number> {
  const excludes = refs.map((ref) => `--exclude=${ref.ref}`);
  const out = await repoGit(repo, { args: ['rev-list', '--objects', '--disk-usage', ...refs.map((ref) => ref.commit), '--not', ...excludes, '--all'] });
  return Number(out.trim()) || 0;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function fileSize(file: string): number {
  return fs.lstatSync(file, { throwIfNoEntry: false })?.size ?? 0;
}

function fileTime(file: string): number | null {
  return fs.lstatSync(file, { throwIfNoEntry: false })?.mtimeMs ?? null;
}

function treeSize(target: string): number {
  const stat = fs.lstatSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of fs.readdirSync(target, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.lstatSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

