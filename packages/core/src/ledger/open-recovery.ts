import fs from 'node:fs';
import path from 'node:path';
import type { PayloadOf } from '../contract/schemas/ledger.js';
import { scanLog } from './log-scan.js';
import { runIdOfLogFile, type ledgerPaths } from './paths.js';
import { recoverRun, type RunRecovery } from './recovery.js';
import { runEntry, type RunEntry } from './run-entry.js';
import type { SqliteStore } from './sqlite-store.js';

export interface RecoveryReport {
  runs: RunRecovery[];
  /** Runs whose torn tails were cut (each got a `ledger.repaired` event). */
  repaired: string[];
  quarantined: string[];
}

type RepairPayload = PayloadOf<'ledger.repaired'>;

export interface OpenRecoveryContext {
  store: SqliteStore;
  paths: ReturnType<typeof ledgerPaths>;
  now: () => Date;
  /** The writer's runs: every run recovery keeps is registered here. */
  entries: Map<string, RunEntry>;
  /** Appends recovery's own `ledger.repaired` event (it must land even on a read-only run). */
  recordRepair(runId: string, cut: RepairPayload): Promise<unknown>;
}

/**
 * The broken-file names a run's `ledger.repaired` events give, read from its log: the records
 * are the authority, SQLite's `type` column is derived from them and not trusted here.
 */
function recordedBrokenFiles(file: string, runId: string): Set<string> {
  const names = new Set<string>();
  scanLog(file, runId, (event) => {
    if (event.type === 'ledger.repaired') names.add((event.payload as RepairPayload).brokenFile);
  });
  return names;
}

/**
 * The `ledger.repaired` payloads a run still owes: the tail cut just now, and any `.broken-*`
 * file of this run that no event names (a crash between the cut and its event).
 */
function unrecordedCuts(logDir: string, file: string, recovery: RunRecovery): RepairPayload[] {
  const cuts: RepairPayload[] = [];
  if (recovery.truncated) {
    const { reason, truncatedBytes, brokenFile, keptThroughSeq } = recovery.truncated;
    cuts.push({ reason, truncatedBytes, brokenFile, keptThroughSeq });
  }
  const prefix = `${recovery.runId}.ndjson.broken-`;
  const others = fs
    .readdirSync(logDir)
    .sort()
    .filter((name) => name.startsWith(prefix) && !cuts.some((cut) => cut.brokenFile === name));
  // Rare (only runs that were ever cut), so reading the log again costs nothing in the common case.
  const recorded = others.length > 0 ? recordedBrokenFiles(file, recovery.runId) : new Set<string>();
  for (const name of others) {
    if (recorded.has(name)) continue;
    cuts.push({
      reason: 'bytes cut by an earlier recovery that was interrupted before recording it',
      truncatedBytes: fs.statSync(path.join(logDir, name)).size,
      brokenFile: name,
      keptThroughSeq: recovery.scan.lastSeq,
    });
  }
  return cuts;
}

/** Validates every log, cuts torn tails, quarantines damage, backfills SQLite (I3). */
export async function recoverOnOpen(context: OpenRecoveryContext): Promise<RecoveryReport> {
  const { store, paths, entries } = context;
  const report: RecoveryReport = { runs: [], repaired: [], quarantined: [] };
  const onDisk = new Set<string>();
  for (const name of fs.readdirSync(paths.logDir).sort()) {
    const runId = runIdOfLogFile(name);
    if (!runId) continue;
    onDisk.add(runId);
    const recovery = recoverRun(store, runId, paths.logOf(runId), context.now());
    report.runs.push(recovery);
    if (recovery.outcome !== 'emptied') {
      entries.set(
        runId,
        runEntry(runId, paths.logOf(runId), {
          lastSeq: recovery.scan.lastSeq,
          lastHash: recovery.scan.lastHash,
          quarantine: recovery.quarantineReason ?? null,
          readOnly: store.run(runId)?.readOnly ?? false,
          dirSynced: true,
        }),
      );
    }
    if (recovery.quarantineReason) report.quarantined.push(runId);
  }
  // Runs SQLite knows but whose log is gone: every event there is unexpected.
  for (const summary of store.runs()) {
    if (onDisk.has(summary.id)) continue;
    const extent = store.extent(summary.id);
    if (extent.count === 0 && summary.quarantined) continue;
    const reason = `the NDJSON log is missing; SQLite holds events 1..${extent.maxSeq}; run \`keel ledger repair --from-sqlite ${summary.id}\` after checking them`;
    store.setQuarantine(summary.id, reason);
    report.quarantined.push(summary.id);
    entries.set(summary.id, runEntry(summary.id, paths.logOf(summary.id), { quarantine: reason, readOnly: summary.readOnly }));
  }
  for (const recovery of report.runs) {
    if (recovery.outcome === 'emptied' || recovery.quarantineReason) continue;
    // Every cut tail gets its event: this one's, and any an earlier crash left unrecorded.
    for (const cut of unrecordedCuts(paths.logDir, paths.logOf(recovery.runId), recovery)) {
      await context.recordRepair(recovery.runId, cut);
      if (!report.repaired.includes(recovery.runId)) report.repaired.push(recovery.runId);
    }
  }
  return report;
}
