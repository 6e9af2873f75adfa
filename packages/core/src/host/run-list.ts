import fs from 'node:fs';
import path from 'node:path';
import { KeelRpcError } from '../contract/errors.js';
import type { RunStateName, RunSummary } from '../contract/schemas/ledger.js';
import type { RunDeleteOutcome } from '../contract/schemas/run-list.js';
import type { Ledger } from '../ledger/index.js';
import type { RunManager } from '../runs/index.js';
import { gcCheckpoints, gcWorktrees } from '../workspace/index.js';
import type { ProcedureHandlers } from './router.js';
import type { RunListMarks } from './run-list-marks.js';

/** A turn is in progress: archive and delete are refused (the person cancels it or waits). */
const BUSY: ReadonlySet<string> = new Set<RunStateName>(['starting', 'running', 'awaiting_approval']);

export interface RunListDeps {
  ledger: Ledger;
  runs: RunManager;
  dataDir: string;
  marks: RunListMarks;
  /** The run list changed in a way a `changed` message cannot say (a run left it). */
  onRemoved(): void;
  /** One run's summary changed (archived or not). */
  onChanged(runId: string): void;
  /** A run was deleted: caches of its events (replay, views) let it go. */
  onDeleted?(runId: string): void;
}

function requireRun(ledger: Ledger, marks: RunListMarks, runId: string): RunSummary {
  const summary = ledger.run(runId);
  if (!summary || marks.mark(runId)?.deletedAt) throw new KeelRpcError('not_found', `There is no run ${runId} in the run list.`);
  return summary;
}

/**
 * The run a delete acts on: a listed run, or one already deleted with its files kept (or whose
 * file deletion did not finish) when the person now asks for its files to go.
 */
function requireDeletable(ledger: Ledger, marks: RunListMarks, runId: string, deleteFiles: boolean): { summary: RunSummary | undefined; alreadyDeleted: boolean } {
  const mark = marks.mark(runId);
  if (mark?.deletedAt) {
    if (deleteFiles && mark.files !== 'deleted') return { summary: ledger.run(runId), alreadyDeleted: true };
    throw new KeelRpcError('not_found', `There is no run ${runId} in the run list.`);
  }
  return { summary: requireRun(ledger, marks, runId), alreadyDeleted: false };
}

function refuseBusy(summary: RunSummary, what: 'archive' | 'delete'): void {
  if (!BUSY.has(summary.state)) return;
  const doing = summary.state === 'awaiting_approval' ? 'is waiting for an approval' : 'is working on a turn';
  throw new KeelRpcError('conflict', `This run ${doing}. Cancel it (or let the turn end), then ${what} it.`);
}

/**
 * Deletes a run's files: its ledger (SQLite rows, then the NDJSON log), then what `keel gc`
 * removes for a run gone from the ledger (checkpoint refs, sidecars and private repository;
 * its worktree if clean), then the rest of `<data>/runs/<run>` (agent state, protocol logs).
 */
export async function deleteRunFiles(ledger: Ledger, dataDir: string, runId: string): Promise<Omit<RunDeleteOutcome, 'runId'>> {
  const notes: string[] = [];
  if (ledger.run(runId) || fs.existsSync(path.join(dataDir, 'ledger', `${runId}.ndjson`))) ledger.forgetRun(runId);
  // Every run but this one is known, so gc's "deleted run" rule touches this run alone.
  const known = new Set<string>(ledger.runs().map((run) => run.id));
  for (const folder of ['runs', 'worktrees']) {
    for (const name of safeReaddir(path.join(dataDir, folder))) if (name !== runId) known.add(name);
  }
  const checkpoints = await gcCheckpoints({ dataDir, knownRuns: known });
  const worktrees = await gcWorktrees({ dataDir, knownRuns: known });
  notes.push(...checkpoints.problems, ...worktrees.problems);
  for (const kept of worktrees.kept) if (kept.runId === runId) notes.push(`Its worktree ${kept.path} was kept: ${kept.why}.`);
  for (const skipped of checkpoints.skippedRuns) if (skipped.runId === runId) notes.push(`Its checkpoints were kept: ${skipped.why}.`);
  if (checkpoints.skippedRuns.every((skipped) => skipped.runId !== runId)) fs.rmSync(path.join(dataDir, 'runs', runId), { recursive: true, force: true });
  return {
    filesDeleted: true,
    checkpointsRemoved: checkpoints.removed.filter((removal) => removal.runId === runId).length,
    worktreeRemoved: worktrees.removed.some((removal) => removal.runId === runId),
    notes,
  };
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Finishes deletions of files a previous host was asked for and did not complete (killed
 * mid-way): the intent is in run-list.json before any file goes.
 */
export async function finishPendingDeletes(deps: Pick<RunListDeps, 'ledger' | 'dataDir' | 'marks'>): Promise<string[]> {
  const done: string[] = [];
  for (const runId of deps.marks.pendingFileDeletes()) {
    await deleteRunFiles(deps.ledger, deps.dataDir, runId);
    deps.marks.update(runId, (mark) => ({ ...mark, files: 'deleted' }));
    done.push(runId);
  }
  return done;
}

/** The run list's procedures; they need no call context, so the CLI calls them too. */
type RunListHandlers = { [M in 'run.archive' | 'run.delete']: (input: Parameters<ProcedureHandlers[M]>[0]) => ReturnType<ProcedureHandlers[M]> };

export function runListHandlers(deps: RunListDeps): RunListHandlers {
  const { ledger, runs, dataDir, marks } = deps;
  return {
    'run.archive': ({ runId, archived }) => {
      const summary = requireRun(ledger, marks, runId);
      if (archived) refuseBusy(summary, 'archive');
      const at = new Date().toISOString();
      marks.update(runId, ({ archivedAt, ...rest }) => (archived ? { ...rest, archivedAt: archivedAt ?? at } : rest));
      deps.onChanged(runId);
      return {};
    },
    'run.delete': async ({ runId, deleteFiles }) => {
      const { summary, alreadyDeleted } = requireDeletable(ledger, marks, runId, deleteFiles);
      if (summary) refuseBusy(summary, 'delete');
      if (deleteFiles && ledger.readOnly) throw new KeelRpcError('forbidden', 'The ledger is open read-only here; its files cannot be deleted.');
      // From here no prompt opens the run (RunManager refuses it before its idle agent is stopped):
      // nothing may write to a run being deleted.
      await runs.withdraw(runId);
      try {
        // A turn that began before the withdrawal (its prompt was already under way) keeps the run.
        const now = ledger.run(runId);
        if (now && !alreadyDeleted) refuseBusy(now, 'delete');
        // The intent is durable before any file goes (a killed host finishes it on the next open).
        marks.update(runId, (mark) => ({ ...mark, deletedAt: mark.deletedAt ?? new Date().toISOString(), files: deleteFiles ? 'pending' : 'kept' }));
      } finally {
        // Once the mark says deleted, RunManager's isDeleted refuses the run; if the mark was not
        // written, the run is given back as it was.
        runs.endWithdraw(runId);
      }
      deps.onDeleted?.(runId);
      if (!alreadyDeleted) deps.onRemoved();
      if (!deleteFiles) return { runId, filesDeleted: false, checkpointsRemoved: 0, worktreeRemoved: false, notes: [] };
      const outcome = await deleteRunFiles(ledger, dataDir, runId);
      marks.update(runId, (mark) => ({ ...mark, files: 'deleted' }));
      return { runId, ...outcome };
    },
  };
}
