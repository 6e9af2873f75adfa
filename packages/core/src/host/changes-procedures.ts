import { KeelRpcError } from '../contract/errors.js';
import type { RunManager } from '../runs/index.js';
import { ChangeFileRefusedError, ChangesRangeError, runChangeFile, runChanges } from '../workspace/index.js';
import type { ProcedureHandlers } from './router.js';

type ChangesHandlers = Pick<ProcedureHandlers, 'run.changes' | 'run.changeFile'>;

/** A known refusal in plain words; anything else (a broken repository) is internal. */
function translate(error: unknown): never {
  if (error instanceof ChangeFileRefusedError) throw new KeelRpcError('forbidden', error.message);
  if (error instanceof ChangesRangeError) throw new KeelRpcError('not_found', error.message);
  throw error;
}

/**
 * The changes view's procedures (issue 15, point 19): a run's changes between two checkpoints
 * (or to the working tree now), and one changed file's texts. The workspace comes from the run,
 * never from the caller, and a file is read only when the same range lists it (I11).
 */
export function changesProcedures(runs: RunManager, dataDir: string): ChangesHandlers {
  const workspaceOf = (runId: string) => {
    const workspace = runs.workspaceOf(runId);
    if (!workspace) throw new KeelRpcError('not_found', `Run ${runId} has no workspace: there are no changes to show.`);
    return workspace;
  };
  return {
    'run.changes': async ({ runId, from, to }) => {
      const workspace = workspaceOf(runId);
      return runChanges(workspace, { dataDir, runId, from, to }).catch(translate);
    },
    'run.changeFile': async ({ runId, path, from, to }) => {
      const workspace = workspaceOf(runId);
      return runChangeFile(workspace, { dataDir, runId, from, to, file: path }).catch(translate);
    },
  };
}
