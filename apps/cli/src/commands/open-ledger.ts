import { LedgerError, openLedger, resolveDataDir, type Ledger, type RecoveryReport } from '@keel/core';

export interface LedgerCommandOptions {
  data?: string;
  readOnly?: boolean;
}

/**
 * Opens the ledger for a CLI command. Opening recovers (I3) unless `--read-only`; when a running
 * Keel holds the writer lock, read-only commands fall back to inspecting without recovery.
 */
export async function openForCommand(options: LedgerCommandOptions, mode: 'read' | 'write'): Promise<{ ledger: Ledger; note: string | null }> {
  const dataDir = resolveDataDir({ flag: options.data });
  if (options.readOnly && mode === 'read') return { ledger: await openLedger({ dataDir, readOnly: true }), note: null };
  try {
    return { ledger: await openLedger({ dataDir }), note: null };
  } catch (error) {
    if (mode === 'read' && error instanceof LedgerError && error.code === 'locked') {
      return {
        ledger: await openLedger({ dataDir, readOnly: true }),
        note: `${error.message} Inspecting read-only, without recovery.`,
      };
    }
    throw error;
  }
}

/** One line per thing recovery did on open, so no repair happens silently. */
export function describeRecovery(report: RecoveryReport): string[] {
  const lines: string[] = [];
  for (const run of report.runs) {
    if (run.truncated) {
      lines.push(
        `recovered ${run.runId}: cut a torn tail of ${run.truncated.truncatedBytes} bytes (${run.truncated.reason}); kept through seq ${run.truncated.keptThroughSeq}; bytes saved in ${run.truncated.brokenFile}`,
      );
    }
    if (run.backfilled > 0) lines.push(`recovered ${run.runId}: backfilled ${run.backfilled} events into SQLite`);
    if (run.unexpected) lines.push(`UNEXPECTED ${run.runId}: SQLite holds seq ${run.unexpected.fromSeq}..${run.unexpected.toSeq} missing from NDJSON`);
    if (run.quarantineReason) lines.push(`QUARANTINED ${run.runId}: ${run.quarantineReason}`);
  }
  return lines;
}
