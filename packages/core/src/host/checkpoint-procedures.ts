import { KeelRpcError } from '../contract/errors.js';
import type { ProcedureHandlers } from './router.js';
import type { RunManager } from '../runs/index.js';
import { diffTurn, listCheckpoints, type RestoreResult, type ResumeResult } from '../workspace/index.js';

type CheckpointHandlers = Pick<ProcedureHandlers, 'checkpoints.list' | 'checkpoints.diff' | 'checkpoints.restore'>;

/** The checkpoint procedures (issue 12): list and diff read refs and sidecars; restore goes through the run (intent first). */
export function checkpointProcedures(runs: RunManager, dataDir: string): CheckpointHandlers {
  const workspaceOf = (runId: string) => runs.workspaceOf(runId);
  return {
    'checkpoints.list': async ({ runId }) => {
      const workspace = workspaceOf(runId);
      try {
        return await listCheckpoints({ dataDir, runId, workspace });
      } catch {
        // No repository yet (a folder whose private repository was never made): what sidecars say.
        return await listCheckpoints({ dataDir, runId });
      }
    },
    'checkpoints.diff': async ({ runId, turn, file }) => {
      const workspace = workspaceOf(runId);
      let diff;
      try {
        diff = await diffTurn(workspace, { dataDir, runId, turn });
      } catch (error) {
        throw new KeelRpcError('not_found', (error as Error).message);
      }
      const files = file ? diff.files.filter((entry) => entry.path === file) : diff.files;
      if (file && files.length === 0) throw new KeelRpcError('not_found', `Turn ${turn} did not change ${file}.`);
      return { turn: diff.turn, fromTurn: diff.fromTurn, ...(diff.afterRestore ? { afterRestore: true } : {}), from: diff.from, to: diff.to, files, diffstat: diff.diffstat };
    },
    'checkpoints.restore': async ({ runId, turn, files }) => {
      const result: RestoreResult | ResumeResult = await runs.get(runId).checkpoints.restore(turn, files ?? null);
      if (result.kind === 'unreadable') throw new KeelRpcError('conflict', `The restore journal of this run is ${result.problem}: ${result.detail}`);
      const { journal: _journal, ...outcome } = result as typeof result & { journal?: string };
      return outcome;
    },
  };
}
