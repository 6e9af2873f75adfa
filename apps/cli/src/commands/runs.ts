import type { Command } from 'commander';
import type { RunSummary } from '@keel/core/contract';
import { requireDataDir, resolveDataDir, whyNotWritable } from '@keel/core/data-dir';
import { readQuietLedger } from '@keel/core/quiet-listing';
import { reconcileMayAct } from '@keel/core/reconcile-gate';
import { withDataOption } from './options.js';
import { registerRunsManage, withRunListMarks } from './runs-manage.js';

/**
 * The runs as the projection holds them, when opening the data dir as a host would do nothing
 * (issue 16: `keel runs` in O(runs) without loading the rest of Keel): every log ends at its
 * verified marker, and no run is left for reconciliation. Null otherwise.
 */
function listQuiet(dataDir: string): RunSummary[] | null {
  const quiet = readQuietLedger(dataDir);
  if (!quiet) return null;
  try {
    return reconcileMayAct(dataDir, quiet.runs, (runId) => quiet.lastGenerationExited(runId)) ? null : quiet.runs;
  } finally {
    quiet.close();
  }
}

/**
 * Lists from the projection when there is nothing to recover or reconcile; otherwise opens the
 * data dir as the host (recovering, reconciling runs a killed host left) unless a live Keel holds
 * it or it cannot be written (a read-only filesystem): then lists read-only, and says so.
 */
async function listRuns(data: string | undefined): Promise<{ runs: RunSummary[]; note: string | null }> {
  const dataDir = requireDataDir(resolveDataDir({ flag: data }));
  const notWritable = whyNotWritable(dataDir);
  if (!notWritable) {
    const quiet = listQuiet(dataDir);
    if (quiet) return { runs: quiet, note: null };
  }
  const { LedgerError, openLedger, RunManager } = await import('@keel/core');
  const listReadOnly = async (note: string) => {
    const ledger = await openLedger({ dataDir, readOnly: true });
    try {
      return { runs: ledger.runs(), note: `${note} Listing read-only.` };
    } finally {
      await ledger.close();
    }
  };
  if (notWritable) return listReadOnly(notWritable);
  try {
    const ledger = await openLedger({ dataDir });
    try {
      const manager = await RunManager.open({ ledger, dataDir });
      await manager.close();
      return { runs: ledger.runs(), note: null };
    } finally {
      await ledger.close();
    }
  } catch (error) {
    if (!(error instanceof LedgerError && error.code === 'locked')) throw error;
    return listReadOnly(error.message);
  }
}

/** What `keel runs` is asked: the data directory, and whether to print JSON. */
export interface RunsListOptions {
  data?: string;
  json?: boolean;
}

/** `keel runs`: the runs as the app's run list shows them, as a table or as JSON. */
export async function printRuns(options: RunsListOptions): Promise<void> {
  const { runs: listed, note } = await listRuns(options.data);
  const runs = await withRunListMarks(options.data, listed);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
    return;
  }
  if (note) process.stderr.write(`${note}\n`);
  if (runs.length === 0) {
    process.stdout.write('no runs yet\n');
    return;
  }
  // One write for the whole list: a write per line costs a syscall each (issue 16: 2,000 runs).
  const lines = runs.map((run) => {
    const agent = run.agent ? `${run.agent.kind}${run.agent.script ? `:${run.agent.script}` : ''}` : '?';
    const flags = [run.quarantined ? `QUARANTINED (${run.quarantineReason})` : '', run.readOnly ? 'read-only' : '', run.archived ? 'archived' : ''].filter(Boolean).join(' ');
    return `${run.id}  ${agent.padEnd(22)} ${run.state.padEnd(18)} ${(run.stopReason ?? '-').padEnd(18)} ${run.workspace ?? '?'}${flags ? `  ${flags}` : ''}\n`;
  });
  process.stdout.write(lines.join(''));
}

export function registerRuns(program: Command): void {
  const runsCommand = withDataOption(program.command('runs'));
  registerRunsManage(runsCommand);
  runsCommand
    .description('list runs: id, agent, workspace, state, stop reason, quarantine')
    .option('--json', 'print JSON')
    .action((options: RunsListOptions) => printRuns(options));
}
