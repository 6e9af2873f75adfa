import fs from 'node:fs';
import path from 'node:path';
import type { PayloadOf } from '../contract/schemas/ledger.js';
import { scanLog } from './log-scan.js';
import { runIdOfLogFile, type ledgerPaths } from './paths.js';
import { recoverRun, type RunRecovery } from './recovery.js';
import { runEntry, type RunEntry } from './run-entry.js';
import type { SqliteStore } from './sqlite-store.js';
import { resumePoint } from './verified-marker.js';

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
 * The broken-file names a run's `ledger.repaired` events give, read from its whole log: the
 * records are the authority. Asked only for names SQLite's rows do not give (see unrecordedCuts).
 */
function recordedBrokenFiles(file: string, runId: string): Set<string> {
  const names = new Set<string>();
  scanLog(file, runId, (event) => {
    if (event.type === 'ledger.repaired') names.add((event.payload as RepairPayload).brokenFile);
  });
  return names;
}

const BROKEN = '.ndjson.broken-';

/** The ledger directory read once: each run's log and the `.broken-*` files kept beside it. */
function listLogDir(logDir: string): { logs: string[]; broken: Map<string, string[]> } {
  const logs: string[] = [];
  const broken = new Map<string, string[]>();
  for (const name of fs.readdirSync(logDir).sort()) {
    const runId = runIdOfLogFile(name);
    if (runId) {
      logs.push(runId);
      continue;
    }
    const at = name.indexOf(BROKEN);
    if (at > 0) {
      const owner = name.slice(0, at);
      const list = broken.get(owner);
      if (list) list.push(name);
      else broken.set(owner, [name]);
    }
  }
  return { logs, broken };
}

/**
 * The `ledger.repaired` payloads a run still owes: the tail cut just now, and any `.broken-*`
 * file of this run that no event names (a crash between the cut and its event). `brokenFiles`:
 * this run's broken files as the directory listing found them (the cut just made is added here).
 */
function unrecordedCuts(store: SqliteStore, logDir: string, file: string, recovery: RunRecovery, brokenFiles: readonly string[]): RepairPayload[] {
  const cuts: RepairPayload[] = [];
  if (recovery.truncated) {
    const { reason, truncatedBytes, brokenFile, keptThroughSeq } = recovery.truncated;
    cuts.push({ reason, truncatedBytes, brokenFile, keptThroughSeq });
  }
  const others = brokenFiles.filter((name) => !cuts.some((cut) => cut.brokenFile === name));
  // SQLite (backfilled from the log by now) names them in one indexed read; the log is read
  // whole only for a name it does not give — a crash between a cut and its event — so a run cut
  // once does not cost a read of all its events on every open. SQLite never holds a record the
  // log lacks (I2: NDJSON first), so a name it gives is in the log too.
  const inStore = others.length > 0 ? store.repairedBrokenFiles(recovery.runId) : new Set<string>();
  const unnamed = others.filter((name) => !inStore.has(name));
  const recorded = unnamed.length > 0 ? recordedBrokenFiles(file, recovery.runId) : new Set<string>();
  for (const name of unnamed) {
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

/**
 * Recovers every log (I3) in time proportional to the number of runs, not events: a log whose
 * verified marker still matches (its head record where the marker says) is validated only past
 * it; any other log is validated whole, as before. Torn tails are cut, damage quarantines,
 * SQLite is backfilled. The directory is read once, the runs table once, and every SQLite write
 * of the pass (backfill, quarantine flags, markers) commits in one transaction (one sync).
 */
export async function recoverOnOpen(context: OpenRecoveryContext): Promise<RecoveryReport> {
  const { store, paths, entries } = context;
  const report: RecoveryReport = { runs: [], repaired: [], quarantined: [] };
  const { logs, broken } = listLogDir(paths.logDir);
  const onDisk = new Set(logs);
  const now = context.now();
  store.db.transaction(() => {
    const markers = store.markers();
    const summaries = new Map(store.runs().map((summary) => [summary.id, summary]));
    for (const runId of logs) {
      const file = paths.logOf(runId);
      const size = fs.statSync(file).size;
      const from = resumePoint(file, runId, markers.get(runId), size);
      const recovery = recoverRun(store, runId, file, now, { from });
      report.runs.push(recovery);
      if (recovery.outcome !== 'emptied') {
        entries.set(
          runId,
          runEntry(runId, file, {
            lastSeq: recovery.scan.lastSeq,
            lastHash: recovery.scan.lastHash,
            quarantine: recovery.quarantineReason ?? null,
            readOnly: summaries.get(runId)?.readOnly ?? false,
            dirSynced: true,
          }),
        );
      }
      if (recovery.quarantineReason) report.quarantined.push(runId);
    }
    // Runs SQLite knows but whose log is gone: every event there is unexpected.
    for (const summary of summaries.values()) {
      if (onDisk.has(summary.id)) continue;
      const extent = store.extent(summary.id);
      if (extent.count === 0 && summary.quarantined) continue;
      const reason = `the NDJSON log is missing; SQLite holds events 1..${extent.maxSeq}; run \`keel ledger repair --from-sqlite ${summary.id}\` after checking them`;
      store.setQuarantine(summary.id, reason);
      report.quarantined.push(summary.id);
      entries.set(summary.id, runEntry(summary.id, paths.logOf(summary.id), { quarantine: reason, readOnly: summary.readOnly }));
    }
  })();
  for (const recovery of report.runs) {
    if (recovery.outcome === 'emptied' || recovery.quarantineReason) continue;
    // Every cut tail gets its event: this one's, and any an earlier crash left unrecorded.
    for (const cut of unrecordedCuts(store, paths.logDir, paths.logOf(recovery.runId), recovery, broken.get(recovery.runId) ?? [])) {
      await context.recordRepair(recovery.runId, cut);
      if (!report.repaired.includes(recovery.runId)) report.repaired.push(recovery.runId);
    }
  }
  return report;
}
