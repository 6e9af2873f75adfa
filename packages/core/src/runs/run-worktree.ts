import { KeelRpcError, type WorkspaceWorktreePayload } from '../contract/index.js';
import { createRunWorktree, type RunWorktree } from '../workspace/index.js';

/**
 * `--worktree` at run creation: the run's own git worktree on `keel/<run>` under the data
 * directory becomes the run's workspace. Made before `run.created` (whose workspace is its path)
 * and recorded right after as `workspace.worktree created`; a host that dies in between leaves a
 * worktree no run names, which `keel doctor` reports.
 */
export async function prepareRunWorkspace(workspace: string, worktree: boolean, scope: { dataDir: string; runId: string }): Promise<{ workspace: string; worktree: WorkspaceWorktreePayload | null }> {
  if (!worktree) return { workspace, worktree: null };
  let made: RunWorktree;
  try {
    made = await createRunWorktree(workspace, scope);
  } catch (error) {
    throw new KeelRpcError('invalid_input', (error as Error).message);
  }
  return { workspace: made.path, worktree: { action: 'created', ...made, detail: null } };
}
