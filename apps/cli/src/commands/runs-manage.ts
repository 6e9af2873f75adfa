import type { Command } from 'commander';
import type { RunSummary } from '@keel/core/contract';
import fs from 'node:fs';
import { requireDataDir, resolveDataDir, runListFile, whyNotWritable } from '@keel/core/data-dir';
import { withDataOption } from './options.js';

/** The listed runs as the app's run list has them: deleted ones left out, archived ones marked. */
export async function withRunListMarks(data: string | undefined, runs: RunSummary[]): Promise<RunSummary[]> {
  const dataDir = resolveDataDir({ flag: data });
  // No marks file (nothing ever archived or deleted): every run shows, none archived, and the
  // schemas that check the file (zod, ~0.1 s to load) stay unloaded (issue 16: start-up).
  if (!fs.existsSync(runListFile(dataDir))) return runs.map((run) => ({ ...run, archived: false }));
  const { RunListMarks } = await import('@keel/core/run-list-marks');
  // Listing never writes: an unreadable run-list.json is left for the app to set aside.
  return new RunListMarks(dataDir, { readOnly: true }).list(runs);
}

type Handlers = ReturnType<typeof import('@keel/core').runListHandlers>;

/**
 * Archive or delete through the same handlers as the app (host/run-list.ts), on the ledger this
 * command opens as the host. A running Keel holds the ledger: then the person is told to use the
 * app or stop Keel first, never a second writer. Keel's core is loaded only here (issue 16).
 */
async function withRunList<T>(data: string | undefined, runId: string, work: (handlers: Handlers) => Promise<T>): Promise<T> {
  const { finishPendingDeletes, KeelRpcError, LedgerError, openLedger, RunId, RunListMarks: Marks, RunManager, runListHandlers } = await import('@keel/core');
  const id = RunId.safeParse(runId);
  if (!id.success) throw new Error(`"${runId}" is not a run id: ${id.error.issues[0]?.message ?? 'invalid'}.`);
  const dataDir = requireDataDir(resolveDataDir({ flag: data }));
  const notWritable = whyNotWritable(dataDir);
  if (notWritable) throw new Error(`${notWritable} This command writes there.`);
  let ledger: Awaited<ReturnType<typeof openLedger>>;
  try {
    ledger = await openLedger({ dataDir });
  } catch (error) {
    if (!(error instanceof LedgerError && error.code === 'locked')) throw error;
    throw new Error(`${error.message} Archive or delete the run in the app (the ⋯ on its row), or stop Keel and run this again.`);
  }
  try {
    const marks = new Marks(dataDir);
    if (marks.problem) process.stderr.write(`keel: ${marks.problem}\n`);
    // As the app does on open: a deletion a killed Keel left half done is finished first.
    for (const finished of await finishPendingDeletes({ ledger, dataDir, marks })) process.stderr.write(`keel: finished deleting the files of run ${finished}\n`);
    const runs = await RunManager.open({ ledger, dataDir, isDeleted: (id) => marks.mark(id)?.deletedAt !== undefined });
    try {
      return await work(runListHandlers({ ledger, runs, dataDir, marks, onChanged: () => {}, onRemoved: () => {} }));
    } finally {
      await runs.close();
    }
  } catch (error) {
    throw error instanceof KeelRpcError ? new Error(error.message) : error;
  } finally {
    await ledger.close();
  }
}

/** `keel runs archive <run> [--undo]` and `keel runs delete <run> [--files]`, under `keel runs`. */
export function registerRunsManage(runs: Command): void {
  withDataOption(runs.command('archive <run>'))
    .description('archive a run: hidden from the app\'s run list unless "Show archived" (its ledger untouched)')
    .option('--undo', 'unarchive it')
    .action(async (runId: string, _options: unknown, command: Command) => {
      // `--data` may land on `keel runs` (the parent takes its options anywhere on the line).
      const options = command.optsWithGlobals<{ data?: string; undo?: boolean }>();
      await withRunList(options.data, runId, async (handlers) => handlers['run.archive']({ runId, archived: !options.undo }));
      process.stdout.write(`${options.undo ? 'unarchived' : 'archived'} ${runId}\n`);
    });
  withDataOption(runs.command('delete <run>'))
    .description('delete a run from the run list; its ledger and checkpoints stay on disk unless --files')
    .option('--files', 'also delete its files: ledger, checkpoints, run folder, clean worktree (cannot be undone; never its branch)')
    .option('--json', 'print JSON')
    .action(async (runId: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ data?: string; files?: boolean; json?: boolean }>();
      const outcome = await withRunList(options.data, runId, async (handlers) => handlers['run.delete']({ runId, deleteFiles: options.files === true }));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        outcome.filesDeleted
          ? `deleted ${runId} and its files (${outcome.checkpointsRemoved} checkpoint entries removed${outcome.worktreeRemoved ? ', and its worktree' : ''})\n`
          : `deleted ${runId} from the run list; its files are kept (add --files to remove them)\n`,
      );
      for (const note of outcome.notes) process.stdout.write(`  note: ${note}\n`);
    });
}
