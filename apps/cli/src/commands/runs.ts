import type { Command } from 'commander';
import { LedgerError, openLedger, RunManager, whyNotWritable, type RunSummary } from '@keel/core';
import { dataDirFor } from './open-ledger.js';
import { withDataOption } from './options.js';

/**
 * Opens the data dir as the host (reconciling runs a killed host left) unless a live Keel holds
 * it or it cannot be written (a read-only filesystem): then lists read-only, and says so.
 */
async function listRuns(data: string | undefined): Promise<{ runs: RunSummary[]; note: string | null }> {
  const dataDir = dataDirFor(data, 'read');
  const listReadOnly = async (note: string) => {
    const ledger = await openLedger({ dataDir, readOnly: true });
    try {
      return { runs: ledger.runs(), note: `${note} Listing read-only.` };
    } finally {
      await ledger.close();
    }
  };
  const notWritable = whyNotWritable(dataDir);
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

export function registerRuns(program: Command): void {
  withDataOption(program.command('runs'))
    .description('list runs: id, agent, workspace, state, stop reason, quarantine')
    .option('--json', 'print JSON')
    .action(async (options: { data?: string; json?: boolean }) => {
      const { runs, note } = await listRuns(options.data);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        return;
      }
      if (note) process.stderr.write(`${note}\n`);
      if (runs.length === 0) {
        process.stdout.write('no runs yet\n');
        return;
      }
      for (const run of runs) {
        const agent = run.agent ? `${run.agent.kind}${run.agent.script ? `:${run.agent.script}` : ''}` : '?';
        const flags = [run.quarantined ? `QUARANTINED (${run.quarantineReason})` : '', run.readOnly ? 'read-only' : ''].filter(Boolean).join(' ');
        process.stdout.write(
          `${run.id}  ${agent.padEnd(22)} ${run.state.padEnd(18)} ${(run.stopReason ?? '-').padEnd(18)} ${run.workspace ?? '?'}${flags ? `  ${flags}` : ''}\n`,
        );
      }
    });
}
