import path from 'node:path';
import { RunId } from '../../contract/schemas/ledger.js';

/** Hidden ref namespaces: never a branch, never shown by `git branch`, `git log --all` shows them. */
export const CHECKPOINT_REFS = 'refs/keel/checkpoints/';
export const SAFETY_REFS = 'refs/keel/safety/';

export const checkpointRef = (runId: string, turn: number) => `${CHECKPOINT_REFS}${runId}/${turn}`;
export const safetyRef = (runId: string, n: number) => `${SAFETY_REFS}${runId}/${n}`;

/** Files Keel keeps per run under the data directory (never in the user's folder). */
export function runPaths(dataDir: string, runId: string) {
  const parsed = RunId.safeParse(runId);
  if (!parsed.success) throw new Error(`"${runId}" is not a run id.`);
  const runDir = path.join(dataDir, 'runs', runId);
  return {
    runDir,
    sidecarDir: path.join(runDir, 'checkpoints'),
    sidecarOf: (turn: number) => path.join(runDir, 'checkpoints', `${turn}.json`),
    /** Keel's private repository for a workspace that is not a git repository. */
    privateGitDir: path.join(runDir, 'checkpoints.git'),
    /** The index behind the last worktree tree: a stat cache that makes the next one cheap. */
    indexCache: path.join(runDir, 'checkpoints.index'),
    tmpDir: path.join(runDir, 'checkpoints.tmp'),
    journal: path.join(runDir, 'restore-journal.json'),
  };
}

