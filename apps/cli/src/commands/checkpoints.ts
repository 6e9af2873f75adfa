import path from 'node:path';
import type { Command } from 'commander';
import { diffTurn, gcCheckpoints, gcWorktrees, ledgerRuns, LedgerError, listCheckpoints, openLedger, resolveDataDir, RunManager, whyNotWritable, type CheckpointListing, type GcResult, type WorktreeGcResult } from '@keel/core';
import { dataDirFor } from './open-ledger.js';
import { withDataOption } from './options.js';

/**
 * `keel checkpoints list|diff|restore` and `keel gc`. list, diff and gc read the hidden refs and
 * sidecars and never open the ledger; restore goes through the run (recorded intent first, then
 * the restore, then its outcome), so it needs the ledger's writer lock.
 */

const parseTurn = (value: string): number => {
  const turn = Number(value);
  if (!Number.isInteger(turn) || turn < 0) throw new Error(`--turn must be a whole number (0 is the baseline), got "${value}".`);
  return turn;
};

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `7d`, `12h`, `30m`, `2w`, `45s`; a bare number is days. */
export function parseAge(value: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhdw]?)$/.exec(value.trim());
  if (!match) throw new Error(`--older-than takes an age such as 7d, 12h, 30m or 2w, got "${value}".`);
  return Math.round(Number(match[1]) * UNITS[match[2] || 'd']!);
}

const parseCount = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--keep-last must be a whole number, got "${value}".`);
  return n;
};

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function describeCheckpoint(entry: CheckpointListing): string {
  const name = entry.turn === 0 ? 'baseline' : `turn ${entry.turn}`;
  const when = entry.createdAt ?? '?';
  switch (entry.status) {
    case 'skipped':
      return `${name.padEnd(9)} SKIPPED   ${when}  ${entry.skipReason ?? ''}`;
    case 'ref_missing':
      return `${name.padEnd(9)} REF GONE  ${when}  (sidecar only: ${entry.commit?.slice(0, 12) ?? '?'})`;
    default: {
      const stat = entry.filesChanged === null ? 'no sidecar' : `${entry.filesChanged} file(s)${entry.insertions === null ? '' : `, +${entry.insertions} -${entry.deletions}`}`;
      return `${name.padEnd(9)} ${entry.commit?.slice(0, 12) ?? '?'}  ${when}  ${stat}${entry.durationMs === null ? '' : ` in ${entry.durationMs} ms`}${entry.mismatch ? '  (sidecar disagrees with the ref)' : ''}`;
    }
  }
}

async function workspaceOf(dataDir: string, runId: string, workspace: string | undefined): Promise<string> {
  if (workspace) return path.resolve(workspace);
  const listing = await listCheckpoints({ dataDir, runId });
  if (!listing.repo) throw new Error(`Run ${runId} has no checkpoint sidecars in ${dataDir}; pass --workspace DIR.`);
  return listing.repo.prefix ? path.join(listing.repo.workTree, listing.repo.prefix) : listing.repo.workTree;
}

export function registerCheckpoints(program: Command): void {
  const checkpoints = program.command('checkpoints').description("a run's checkpoints: git snapshots of its workspace at each turn boundary, in hidden refs");
  withDataOption(checkpoints.command('list'))
    .description('list the checkpoints of a run (turn, commit, files changed, duration; skipped ones with the reason)')
    .requiredOption('--run <id>', 'run id')
    .option('--workspace <dir>', "the run's workspace (default: what its sidecars recorded)")
    .option('--json', 'print JSON')
    .action(async (options: { data?: string; run: string; workspace?: string; json?: boolean }) => {
      const dataDir = resolveDataDir({ flag: options.data });
      const listing = await listCheckpoints({ dataDir, runId: options.run, workspace: options.workspace });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
        return;
      }
      for (const problem of listing.problems) process.stderr.write(`warning: ${problem.detail}\n`);
      if (listing.checkpoints.length === 0) {
        process.stdout.write(`run ${options.run} has no checkpoints\n`);
        return;
      }
      process.stdout.write(`run ${options.run}: ${listing.checkpoints.length} checkpoint(s) in ${listing.repo?.kind === 'private' ? "Keel's private repository" : 'the repository'} ${listing.repo?.gitDir ?? '?'}\n`);
      for (const entry of listing.checkpoints) process.stdout.write(`  ${describeCheckpoint(entry)}\n`);
    });
  withDataOption(checkpoints.command('diff'))
    .description('what a turn changed: its checkpoint against the previous one, as unified diffs')
    .requiredOption('--run <id>', 'run id')
    .requiredOption('--turn <n>', 'turn (0: the baseline against nothing)', parseTurn)
    .option('--workspace <dir>', "the run's workspace (default: what its sidecars recorded)")
    .option('--stat', 'only the list of files with line counts')
    .option('--json', 'print JSON')
    .action(async (options: { data?: string; run: string; turn: number; workspace?: string; stat?: boolean; json?: boolean }) => {
      const dataDir = resolveDataDir({ flag: options.data });
      const workspace = await workspaceOf(dataDir, options.run, options.workspace);
      const diff = await diffTurn(workspace, { dataDir, runId: options.run, turn: options.turn }, options.stat ? { maxPatchFiles: 0 } : {});
      if (options.json) {
        process.stdout.write(`${JSON.stringify(diff, null, 2)}\n`);
        return;
      }
      const from = diff.afterRestore
        ? `the tree a restore left${diff.fromTurn === null ? '' : ` (${diff.fromTurn === 0 ? 'the baseline' : `turn ${diff.fromTurn}`}, restored whole)`}`
        : diff.fromTurn === null
          ? 'nothing'
          : diff.fromTurn === 0
            ? 'the baseline'
            : `turn ${diff.fromTurn}`;
      const { files, insertions, deletions } = diff.diffstat;
      process.stdout.write(`turn ${options.turn} against ${from}: ${files} file(s)${insertions === null ? '' : `, +${insertions} -${deletions}`}\n`);
      for (const file of diff.files) {
        const counts = file.binary ? 'binary' : file.insertions === null ? '' : `+${file.insertions} -${file.deletions}`;
        process.stdout.write(`  ${file.status.padEnd(12)} ${file.path}  ${counts}\n`);
      }
      if (options.stat) return;
      for (const file of diff.files) {
        if (!file.patch) continue;
        process.stdout.write(`\n${file.patch}${file.patch.endsWith('\n') ? '' : '\n'}`);
        if (file.patchTruncated) process.stdout.write(`[diff of ${file.path} cut short]\n`);
      }
    });
  withDataOption(checkpoints.command('restore'))
    .description("put the workspace (or only some files) back as it was at a turn's checkpoint: a safety checkpoint first, all or nothing")
    .requiredOption('--run <id>', 'run id')
    .requiredOption('--turn <n>', 'turn to restore (0: the baseline, before turn 1)', parseTurn)
    .option('--file <path...>', 'only these workspace-relative files or directories')
    .option('--json', 'print JSON')
    .action(async (options: { data?: string; run: string; turn: number; file?: string[]; json?: boolean }) => {
      const code = await restore(options);
      if (code !== 0) process.exitCode = code;
    });
}

async function restore(options: { data?: string; run: string; turn: number; file?: string[]; json?: boolean }): Promise<number> {
  const dataDir = dataDirFor(options.data, 'write');
  // A restore is recorded in the run's ledger (intent first, then the outcome), so it needs the
  // ledger's writer lock: one writer per data directory, never beside a running app or server.
  const notWritable = whyNotWritable(dataDir);
  if (notWritable) throw new Error(`${notWritable} keel checkpoints restore records the restore there, so it cannot run.`);
  let ledger;
  try {
    ledger = await openLedger({ dataDir });
  } catch (error) {
    if (error instanceof LedgerError && error.code === 'locked') {
      throw new Error(
        `${error.message} A Keel app or server has this data directory (${dataDir}) open, and a restore must be recorded by the one process that writes it; nothing was restored. ` +
          "Restore from the app instead (the Restore button on the run header's checkpoint timeline), or close the app or server and run this again.",
      );
    }
    throw error;
  }
  const manager = await RunManager.open({ ledger, dataDir });
  try {
    const result = await manager.get(options.run).checkpoints.restore(options.turn, options.file ?? null);
    if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (result.kind === 'completed') {
      const target = options.turn === 0 ? 'the baseline' : `turn ${options.turn}`;
      process.stdout.write(`restored ${target}: ${result.filesTouched} file(s) in ${result.durationMs} ms\n`);
      for (const file of result.files) process.stdout.write(`  ${file.action.padEnd(8)} ${file.path}\n`);
      if (result.truncated) process.stdout.write(`  ... and ${result.filesTouched - result.files.length} more\n`);
      process.stdout.write(`the worktree as it was before is kept in the safety checkpoint ${result.safetyRef} (${result.safetyCommit.slice(0, 12)})\n`);
    } else if (result.kind === 'failed') {
      process.stderr.write(`restore failed (${result.reason}): ${result.detail}\n${result.rolledBack ? 'The workspace is as it was before.' : 'The workspace could NOT be rolled back: see the journal in the data directory.'}\n`);
    } else process.stderr.write(`restore refused: the run's restore journal is ${result.problem}: ${result.detail}\n`);
    return result.kind === 'completed' ? 0 : 1;
  } finally {
    await manager.close();
    await ledger.close();
  }
}

function printGc(result: GcResult, worktrees: WorktreeGcResult): void {
  const verb = result.dryRun ? 'would remove' : 'removed';
  for (const kept of worktrees.kept) process.stdout.write(`kept worktree ${kept.path} (run ${kept.runId}): ${kept.why}\n`);
  for (const entry of worktrees.removed) process.stdout.write(`${verb} worktree ${entry.path} (run ${entry.runId}, ${entry.reason.replace('_', ' ')}; ${bytes(entry.bytes)}; its branch keel/${entry.runId} is kept)\n`);
  for (const problem of worktrees.problems) process.stderr.write(`warning: ${problem}\n`);
  for (const skipped of result.skippedRuns) process.stdout.write(`kept run ${skipped.runId}: ${skipped.why}\n`);
  for (const entry of result.removed) {
    const what = entry.ref ?? entry.sidecar ?? `${entry.kind} ${entry.n}`;
    process.stdout.write(`${verb} ${what}${entry.ref && entry.sidecar ? ' and its sidecar' : ''} (run ${entry.runId}, ${entry.reason.replace('_', ' ')})\n`);
  }
  for (const problem of result.problems) process.stderr.write(`warning: ${problem}\n`);
  process.stdout.write(
    `${result.dryRun ? 'dry run: nothing removed; ' : ''}${result.removed.length} checkpoint(s) of ${result.runsCleared.length} run(s) ${verb}; ` +
      `${bytes(result.bytesFreed)} ${result.dryRun ? 'would be ' : ''}freed in the data directory` +
      (result.bytesReclaimable > 0 ? `; ${bytes(result.bytesReclaimable)} of objects in workspaces become unreferenced (their own \`git gc\` frees them)` : '') +
      '\n',
  );
}

export function registerGc(program: Command): void {
  withDataOption(program.command('gc'))
    .description('prune the checkpoints (refs, sidecars, private repositories) and clean worktrees of old or deleted runs; never the ledger, a dirty worktree or a branch')
    .option('--dry-run', 'print what would be removed, remove nothing')
    .option('--older-than <age>', "prune runs whose newest checkpoint is older than this (7d, 12h, 2w)", parseAge)
    .option('--keep-last <n>', 'always keep the checkpoints of the n most recently checkpointed runs', parseCount)
    .option('--workspace <dir...>', 'also look in these repositories for refs of runs whose sidecars are gone')
    .option('--json', 'print JSON')
    .action(async (options: { data?: string; dryRun?: boolean; olderThan?: number; keepLast?: number; workspace?: string[]; json?: boolean }) => {
      const dataDir = resolveDataDir({ flag: options.data });
      const result = await gcCheckpoints({ dataDir, dryRun: options.dryRun, olderThanMs: options.olderThan, keepLast: options.keepLast, workspaces: options.workspace });
      // Worktrees of runs gone from the ledger, or whose checkpoints went for age just now.
      const knownRuns = ledgerRuns(dataDir, []);
      const expiredRuns = new Set(result.runsCleared.filter((runId) => knownRuns?.has(runId)));
      const worktrees = await gcWorktrees({ dataDir, knownRuns, expiredRuns, dryRun: options.dryRun });
      if (options.json) process.stdout.write(`${JSON.stringify({ ...result, worktrees }, null, 2)}\n`);
      else printGc(result, worktrees);
    });
}
