// Which runs host-crash reconciliation (RunManager.open) must act on, decided from the runs
// projection and a few small files. Light on purpose (Node built-ins and storage-failure.ts
// only): `keel runs` loads it without the rest of Keel to learn that there is nothing to do.
import fs from 'node:fs';
import path from 'node:path';
import type { RunStateName, RunSummary } from '../contract/schemas/ledger.js';
import { readStorageFailure } from './storage-failure.js';

export const ACTIVE_STATES: ReadonlySet<RunStateName> = new Set(['starting', 'running', 'awaiting_approval']);

/** A host died with this run live: mid-turn, or idle with an agent whose exit nobody recorded. */
export const leftLive = (facts: { state: RunStateName; lastGenerationExited: boolean }) =>
  ACTIVE_STATES.has(facts.state) || (facts.state === 'idle' && !facts.lastGenerationExited);

/** The checkpoint restore journal a run's directory holds while a restore is unfinished (workspace/checkpoints/restore.ts). */
const RESTORE_JOURNAL = 'restore-journal.json';

/**
 * True when RunManager.open could have anything to do in `dataDir`: a run it would reconcile
 * (projected active, idle with an agent whose exit is not recorded, or with a storage failure
 * left beside it) or an interrupted checkpoint restore to resume. Errs towards true: the
 * caller then opens the runs as a host does. `lastGenerationExited` answers from the run's
 * runs row (`agent_exited`, projected from its process facts).
 */
export function reconcileMayAct(dataDir: string, runs: readonly RunSummary[], lastGenerationExited: (runId: string) => boolean): boolean {
  const runsDir = path.join(dataDir, 'runs');
  let dirs: string[];
  try {
    dirs = fs.readdirSync(runsDir);
  } catch {
    dirs = [];
  }
  const withDir = new Set(dirs);
  for (const runId of dirs) if (fs.existsSync(path.join(runsDir, runId, RESTORE_JOURNAL))) return true;
  for (const run of runs) {
    if (run.quarantined || run.readOnly) continue;
    const state = run.state as RunStateName;
    if (withDir.has(run.id) && readStorageFailure(path.join(runsDir, run.id))) return true;
    if (ACTIVE_STATES.has(state)) return true;
    if (state === 'idle' && leftLive({ state, lastGenerationExited: lastGenerationExited(run.id) })) return true;
  }
  return false;
}
