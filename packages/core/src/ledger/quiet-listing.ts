import fs from 'node:fs';
import type { RunSummary } from '../contract/schemas/ledger.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import { ledgerPaths, runIdOfLogFile } from './paths.js';
import { openDatabase } from './database.js';
import { SqliteStore } from './sqlite-store.js';

/** What a quiet ledger says about its runs, read without recovering anything. */
export interface QuietLedger {
  /** Every run's summary (the runs projection), ordered by creation. */
  runs: RunSummary[];
  /**
   * Whether the run's newest agent generation has a recorded exit (true when none ever
   * started), from its runs row (`agent_exited`, projected from its process facts): what
   * host-crash reconciliation asks of an idle run.
   */
  lastGenerationExited(runId: string): boolean;
  close(): void;
}

/**
 * The ledger as it stands, when open would have nothing to recover (issue 16: `keel runs` in
 * O(runs) with a small constant, without loading the rest of Keel): keel.db at this build's
 * schema, and every run log exactly as long as its verified marker says, the marker at the
 * projection's last seq and head hash, every `.broken-*` file named by its run's
 * `ledger.repaired`, no run without its log and no log without its run. One directory read, one stat per log, two queries. Null when anything is
 * otherwise: the caller then opens the ledger as usual (recovery decides). Sizes are compared,
 * bytes are not read: like any read of the projection, this trusts what open verified last.
 */
export function readQuietLedger(dataDir: string): QuietLedger | null {
  const paths = ledgerPaths(dataDir);
  if (!fs.existsSync(paths.database) || !fs.existsSync(paths.logDir)) return null;
  let store: SqliteStore;
  try {
    store = new SqliteStore(openDatabase(paths.database, { readOnly: true }));
  } catch {
    return null;
  }
  try {
    if (store.schemaVersion() !== LATEST_SCHEMA_VERSION) return quietFails(store);
    const logs = new Set<string>();
    const broken: Array<{ runId: string; name: string }> = [];
    for (const name of fs.readdirSync(paths.logDir)) {
      const runId = runIdOfLogFile(name);
      if (runId) logs.add(runId);
      const at = name.indexOf(BROKEN);
      if (at > 0) broken.push({ runId: name.slice(0, at), name });
    }
    // A tail an earlier recovery cut is kept beside the log; quiet once its ledger.repaired names it.
    for (const { runId, name } of broken) if (!store.repairedBrokenFiles(runId).has(name)) return quietFails(store);
    // One read transaction: the projection, markers and heads of the same commit.
    const { runs, markers, heads, agentExited } = store.snapshot(() => ({ ...store.runsWithHeads(), markers: store.markers() }));
    if (runs.length !== logs.size) return quietFails(store);
    for (const run of runs) {
      const marker = markers.get(run.id);
      if (!logs.has(run.id) || !marker || marker.headHash === null || marker.throughSeq !== run.lastSeq) return quietFails(store);
      if (fs.statSync(paths.logOf(run.id), { throwIfNoEntry: false })?.size !== marker.logBytes) return quietFails(store);
    }
    for (const run of runs) if (heads.get(run.id) !== markers.get(run.id)!.headHash) return quietFails(store);
    return {
      runs,
      lastGenerationExited: (runId) => agentExited.get(runId) ?? true,
      close: () => store.close(),
    };
  } catch (error) {
    store.close();
    throw error;
  }
}

const BROKEN = '.ndjson.broken-';

function quietFails(store: SqliteStore): null {
  store.close();
  return null;
}
