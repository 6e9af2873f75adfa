// The checkpoint engine (issue 12): hidden-ref checkpoints of a workspace, sidecars,
// transactional restore with a crash journal, diffs, drift, lockfile forensics, gc and a bench.
export { createCheckpoint, DEFAULT_CHECKPOINT_BUDGET, type CreateCheckpointOptions, type CheckpointResult, type CheckpointCreated, type CheckpointSkipped } from './create.js';
export { restoreCheckpoint, resumeRestore, pendingRestore, findRestoreJournals, readRestoreJournal } from './restore.js';
export type { RestoreTarget, RestoreOptions, RestoreStep, RestoreResult, RestoreCompleted, RestoreFailed, ResumeResult } from './restore.js';
export { diffBetween, diffTurn, driftSince, splitPatch, type FileDiff, type CheckpointDiff, type DiffOptions, type DriftResult, type CheckpointScope } from './diff.js';
export { lockfileChanges, depsChangedInTurn, parseLockfile, parseNpmLock, parsePnpmLock, parseYarnLock, parsePackageTables, comparePackages, lockfileKindOf } from './lockfiles.js';
export type { LockfileForensics, PackageVersions } from './lockfiles.js';
export { listCheckpoints, type CheckpointListing, type RunCheckpoints } from './list.js';
export { readSidecar, readSidecars, type SidecarProblem } from './sidecar.js';
export { gcCheckpoints, ledgerRuns, type GcOptions, type GcResult, type GcRemoval } from './gc.js';
export { benchCheckpoints, type CheckpointBenchOptions, type CheckpointBenchResult } from './bench.js';
export { resolveCheckpointRepo, resolveCommit, listRefs, checkpointRef, safetyRef, runPaths, CHECKPOINT_REFS, SAFETY_REFS, type CheckpointRepo, type RefEntry } from './repo.js';
export { gitVersion, observeGitCalls, type GitCallObserver } from './git.js';
export { inspectWorkspace, type WorkspaceInspection } from './inspect.js';
