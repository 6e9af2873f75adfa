import { ensureDataDir, LedgerError, openLedger, requireDataDir, resolveDataDir, whyNotWritable, type Ledger, type RecoveryReport } from '@keel/core';

export interface LedgerCommandOptions {
  data?: string;
  readOnly?: boolean;
}

/**
 * What a command does with the data directory: `read` inspects (and recovers when it can),
 * `write` changes what is there (backfill, repair) — both need an existing one and never create
 * it — and `create` may start a new one (run, serve, import).
 */
export type DataDirUse = 'read' | 'write' | 'create';

/** The data directory from `--data`, `KEEL_DATA_DIR` or the default, checked (or created) for `use`. */
export function dataDirFor(flag: string | undefined, use: DataDirUse): string {
  const dataDir = resolveDataDir({ flag });
  return use === 'create' ? ensureDataDir(dataDir) : requireDataDir(dataDir);
}

/**
 * Opens the ledger for a CLI command. Opening recovers (I3) unless `--read-only`; when a running
 * Keel holds the writer lock, or the data directory cannot be written (a read-only filesystem),
 * read-only commands fall back to inspecting without recovery, and say so.
 */
export async function openForCommand(options: LedgerCommandOptions, mode: DataDirUse): Promise<{ ledger: Ledger; note: string | null }> {
  const dataDir = dataDirFor(options.data, mode);
  if (options.readOnly && mode === 'read') return { ledger: await openLedger({ dataDir, readOnly: true }), note: null };
  const notWritable = whyNotWritable(dataDir);
  if (notWritable) {
    if (mode !== 'read') throw new Error(`${notWritable} This command writes there.`);
    return { ledger: await openLedger({ dataDir, readOnly: true }), note: `${notWritable} Inspecting read-only, without recovery.` };
  }
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
