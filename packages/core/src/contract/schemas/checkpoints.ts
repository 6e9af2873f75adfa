import { z } from 'zod';

/**
 * Checkpoints (issue 12): payloads of the events the checkpoint engine produces, and the
 * persisted formats it writes (sidecar, restore journal). The run core wires the payloads into
 * the ledger's EventBody; they live here so the engine, the CLI and the UI share one shape.
 *
 * Sizes are bounded: lists of files are capped at MAX_LISTED_FILES entries with a `truncated`
 * flag and the true count beside them, so an event stays far below the ledger's record limit.
 */

export const CHECKPOINT_SIDECAR_SCHEMA_VERSION = 1;
export const RESTORE_JOURNAL_SCHEMA_VERSION = 1;
/** How many files an event or sidecar lists before it says `truncated`. */
export const MAX_LISTED_FILES = 500;

const count = z.number().int().nonnegative();
/** A checkpoint's turn: 0 is the baseline before turn 1. */
export const CheckpointTurn = z.number().int().nonnegative();
/** A git object id: sha1 (40) or sha256 (64) hex. */
export const GitObjectId = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'a lowercase hex git object id');
/** `refs/keel/checkpoints/<runId>/<turn>` or `refs/keel/safety/<runId>/<n>`. */
export const CheckpointRefName = z.string().regex(/^refs\/keel\/(checkpoints|safety)\/[A-Za-z0-9][A-Za-z0-9_-]{0,63}\/\d+$/);

export const Diffstat = z.object({ files: count, insertions: count.nullable(), deletions: count.nullable() });
export type Diffstat = z.infer<typeof Diffstat>;

/** How a path differs between two trees (git's raw status letters, renames not detected). */
export const FileChangeStatus = z.enum(['added', 'modified', 'deleted', 'type_changed']);
export type FileChangeStatus = z.infer<typeof FileChangeStatus>;

export const ChangedFile = z.object({
  path: z.string().min(1),
  status: FileChangeStatus,
  /** Null for binary files and when line counts were not computed (very large changes). */
  insertions: count.nullable(),
  deletions: count.nullable(),
});
export type ChangedFile = z.infer<typeof ChangedFile>;

/** Why a checkpoint was not taken. Over a budget is a normal outcome, never a hang. */
export const CheckpointSkipReason = z.enum([
  'over_time_budget',
  'over_byte_budget',
  'aborted',
  'workspace_missing',
  'git_unavailable',
  'git_failed',
]);
export type CheckpointSkipReason = z.infer<typeof CheckpointSkipReason>;

export const CheckpointBudget = z.object({
  /** Wall-clock limit for one checkpoint, git children included. */
  timeMs: z.number().int().positive(),
  /** Limit on the bytes of files to hash into new blobs (counted before hashing). */
  maxBytes: z.number().int().positive(),
});
export type CheckpointBudget = z.infer<typeof CheckpointBudget>;

/** Where a checkpoint's objects and refs live: the user's repository, or Keel's private one. */
export const CheckpointRepoKind = z.enum(['git', 'private']);

// ---- event payloads ------------------------------------------------------------------------

export const CheckpointCreatedPayload = z.object({
  turn: CheckpointTurn,
  ref: CheckpointRefName,
  commit: GitObjectId,
  tree: GitObjectId,
  parent: GitObjectId.nullable(),
  repo: CheckpointRepoKind,
  filesChanged: count,
  diffstat: Diffstat,
  /** The changed files (first MAX_LISTED_FILES). */
  files: z.array(ChangedFile).max(MAX_LISTED_FILES),
  truncated: z.boolean(),
  /** Bytes of files hashed for this checkpoint (an upper bound of the new blobs). */
  hashedBytes: count,
  durationMs: count,
});
export type CheckpointCreatedPayload = z.infer<typeof CheckpointCreatedPayload>;

export const CheckpointSkippedPayload = z.object({
  turn: CheckpointTurn,
  reason: CheckpointSkipReason,
  detail: z.string().max(2000),
  budget: CheckpointBudget,
  /** Bytes that would have been hashed, when the byte count got that far. */
  bytes: count.nullable(),
  durationMs: count,
});
export type CheckpointSkippedPayload = z.infer<typeof CheckpointSkippedPayload>;

export const CheckpointRestoreRequestedPayload = z.object({
  targetTurn: CheckpointTurn,
  targetRef: z.string().min(1),
  /** Null: the whole workspace; otherwise only these workspace-relative paths. */
  files: z.array(z.string().min(1)).nullable(),
});
export type CheckpointRestoreRequestedPayload = z.infer<typeof CheckpointRestoreRequestedPayload>;

export const RestoredFileAction = z.enum(['restored', 'removed']);
export const RestoredFile = z.object({ path: z.string().min(1), action: RestoredFileAction });
export type RestoredFile = z.infer<typeof RestoredFile>;

export const CheckpointRestoreCompletedPayload = z.object({
  targetTurn: CheckpointTurn.nullable(),
  targetCommit: GitObjectId,
  /**
   * The worktree right after the restore, as a commit (the target itself after a whole restore):
   * the next checkpoint's parent, so the next turn's files changed are measured from it.
   * Absent in older ledgers, or when git could not write it.
   */
  restoredCommit: GitObjectId.optional(),
  /** The checkpoint of the worktree as it was before the restore: restoring it undoes this one. */
  safetyRef: CheckpointRefName,
  safetyCommit: GitObjectId,
  filesTouched: count,
  files: z.array(RestoredFile).max(MAX_LISTED_FILES),
  truncated: z.boolean(),
  /** True when a restore interrupted by a crash was finished on the next start. */
  resumed: z.boolean(),
  durationMs: count,
});
export type CheckpointRestoreCompletedPayload = z.infer<typeof CheckpointRestoreCompletedPayload>;

export const CheckpointRestoreFailedPayload = z.object({
  targetTurn: CheckpointTurn.nullable(),
  reason: z.enum(['safety_checkpoint_skipped', 'target_missing', 'apply_failed', 'verify_failed', 'rollback_failed', 'interrupted']),
  detail: z.string().max(4000),
  /** Whether the worktree is back as it was before (always true unless reason is rollback_failed). */
  rolledBack: z.boolean(),
  safetyRef: CheckpointRefName.nullable(),
  durationMs: count,
});
export type CheckpointRestoreFailedPayload = z.infer<typeof CheckpointRestoreFailedPayload>;

export const WorkspaceDriftPayload = z.object({
  sinceTurn: CheckpointTurn.nullable(),
  sinceRef: z.string().min(1),
  sinceCommit: GitObjectId,
  count: count,
  files: z.array(z.object({ path: z.string().min(1), status: FileChangeStatus })).max(MAX_LISTED_FILES),
  truncated: z.boolean(),
});
export type WorkspaceDriftPayload = z.infer<typeof WorkspaceDriftPayload>;

export const LockfileKind = z.enum(['npm', 'pnpm', 'yarn', 'yarn-berry', 'cargo', 'poetry']);
export type LockfileKind = z.infer<typeof LockfileKind>;

export const PackageVersion = z.object({ name: z.string().min(1), versions: z.array(z.string()) });
export const PackageUpdate = z.object({ name: z.string().min(1), from: z.array(z.string()), to: z.array(z.string()) });

export const LockfileChange = z.object({
  path: z.string().min(1),
  kind: LockfileKind,
  status: z.enum(['added', 'modified', 'deleted']),
  added: z.array(PackageVersion),
  removed: z.array(PackageVersion),
  updated: z.array(PackageUpdate),
  diffstat: Diffstat,
  /** Why the file could not be parsed at one side (the change is then reported by diffstat only). */
  parseError: z.string().nullable(),
});
export type LockfileChange = z.infer<typeof LockfileChange>;

export const DepsChangedPayload = z.object({
  turn: CheckpointTurn,
  fromTurn: CheckpointTurn.nullable(),
  lockfiles: z.array(LockfileChange),
  totals: z.object({ added: count, removed: count, updated: count }),
  diffstat: Diffstat,
});
export type DepsChangedPayload = z.infer<typeof DepsChangedPayload>;

/** A run's own git worktree (`--worktree`): created with the run, then checked on every resume. */
export const WorkspaceWorktreePayload = z.object({
  action: z.enum(['created', 'reused', 'recreated', 'mismatch']),
  path: z.string().min(1),
  branch: z.string().min(1),
  baseCommit: GitObjectId,
  /** The user's repository the worktree belongs to. */
  source: z.string().min(1),
  detail: z.string().max(2000).nullable(),
});
export type WorkspaceWorktreePayload = z.infer<typeof WorkspaceWorktreePayload>;

/** Event type -> payload schema, for the run core to wire into the ledger's EventBody. */
export const CheckpointEventPayloads = {
  'checkpoint.created': CheckpointCreatedPayload,
  'checkpoint.skipped': CheckpointSkippedPayload,
  'checkpoint.restore_requested': CheckpointRestoreRequestedPayload,
  'checkpoint.restore_completed': CheckpointRestoreCompletedPayload,
  'checkpoint.restore_failed': CheckpointRestoreFailedPayload,
  'workspace.drift': WorkspaceDriftPayload,
  'deps.changed': DepsChangedPayload,
  'workspace.worktree': WorkspaceWorktreePayload,
} as const;
export type CheckpointEventType = keyof typeof CheckpointEventPayloads;

/** The checkpoint events as ledger event bodies (spread into `EventBody`). */
export const checkpointEventBodies = [
  z.object({ type: z.literal('checkpoint.created'), payload: CheckpointCreatedPayload }),
  z.object({ type: z.literal('checkpoint.skipped'), payload: CheckpointSkippedPayload }),
  z.object({ type: z.literal('checkpoint.restore_requested'), payload: CheckpointRestoreRequestedPayload }),
  z.object({ type: z.literal('checkpoint.restore_completed'), payload: CheckpointRestoreCompletedPayload }),
  z.object({ type: z.literal('checkpoint.restore_failed'), payload: CheckpointRestoreFailedPayload }),
  z.object({ type: z.literal('workspace.drift'), payload: WorkspaceDriftPayload }),
  z.object({ type: z.literal('deps.changed'), payload: DepsChangedPayload }),
  z.object({ type: z.literal('workspace.worktree'), payload: WorkspaceWorktreePayload }),
] as const;

// ---- persisted formats ---------------------------------------------------------------------

export const CheckpointRepoInfo = z.object({
  kind: CheckpointRepoKind,
  gitDir: z.string().min(1),
  workTree: z.string().min(1),
  /** The workspace's path inside the repository's worktree ('' at its root, else ending in '/'). */
  prefix: z.string(),
});
export type CheckpointRepoInfo = z.infer<typeof CheckpointRepoInfo>;

/**
 * `<data>/runs/<run>/checkpoints/<turn>.json`: what a checkpoint (or its skip) was, readable
 * without the ledger. `sha256` is over the canonical JSON of every other member; a sidecar that
 * fails it is reported and ignored, never trusted.
 */
export const CheckpointSidecar = z.object({
  schema_version: z.number().int().min(1).max(CHECKPOINT_SIDECAR_SCHEMA_VERSION),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  runId: z.string().min(1),
  turn: CheckpointTurn,
  createdAt: z.string(),
  repo: CheckpointRepoInfo,
  status: z.enum(['created', 'skipped']),
  created: CheckpointCreatedPayload.omit({ turn: true }).nullable(),
  skipped: CheckpointSkippedPayload.omit({ turn: true }).nullable(),
});
export type CheckpointSidecar = z.infer<typeof CheckpointSidecar>;

/**
 * `<data>/runs/<run>/restore-journal.json`, written atomically before a restore touches a file
 * and removed when it is done: a restore killed half way is finished or rolled back from it.
 */
export const RestoreJournal = z.object({
  schema_version: z.number().int().min(1).max(RESTORE_JOURNAL_SCHEMA_VERSION),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  runId: z.string().min(1),
  startedAt: z.string(),
  repo: CheckpointRepoInfo,
  targetTurn: CheckpointTurn.nullable(),
  targetCommit: GitObjectId,
  targetTree: GitObjectId,
  safetyRef: CheckpointRefName,
  safetyCommit: GitObjectId,
  safetyTree: GitObjectId,
  /** `applying`: moving files to the target; `rolling_back`: moving them back to the safety checkpoint. */
  phase: z.enum(['applying', 'rolling_back']),
  /** Workspace-relative paths the restore may touch (those that differ between the two trees). */
  paths: z.array(z.string().min(1)),
  /** Null: the whole workspace; otherwise the paths the user asked for. */
  files: z.array(z.string().min(1)).nullable(),
  /** Why a rollback started (the apply or verify failure). */
  failure: z.string().nullable(),
});
export type RestoreJournal = z.infer<typeof RestoreJournal>;

// ---- procedure outputs (checkpoints.list / checkpoints.diff / checkpoints.restore) ----------

export const CheckpointListingEntry = z.object({
  turn: CheckpointTurn,
  /** created: ref (and usually sidecar); skipped: the sidecar says so; ref_only: no trusted sidecar; ref_missing: sidecar only. */
  status: z.enum(['created', 'skipped', 'ref_only', 'ref_missing']),
  ref: z.string().nullable(),
  commit: z.string().nullable(),
  createdAt: z.string().nullable(),
  filesChanged: count.nullable(),
  insertions: count.nullable(),
  deletions: count.nullable(),
  durationMs: count.nullable(),
  skipReason: z.string().nullable(),
  mismatch: z.boolean(),
});
export type CheckpointListingEntry = z.infer<typeof CheckpointListingEntry>;

export const RunCheckpointsView = z.object({
  runId: z.string(),
  repo: CheckpointRepoInfo.nullable(),
  checkpoints: z.array(CheckpointListingEntry),
  /** Sidecars that failed their checksum or schema: reported, never trusted. */
  problems: z.array(z.object({ file: z.string(), problem: z.string(), detail: z.string() })),
});
export type RunCheckpointsView = z.infer<typeof RunCheckpointsView>;

export const CheckpointFileDiff = ChangedFile.extend({
  binary: z.boolean(),
  /** Unified diff of this file (git's format); '' when not produced. */
  patch: z.string(),
  patchTruncated: z.boolean(),
});
export type CheckpointFileDiff = z.infer<typeof CheckpointFileDiff>;

export const CheckpointDiffView = z.object({
  turn: CheckpointTurn,
  /** The checkpoint the turn is compared with (null: the empty tree). */
  fromTurn: CheckpointTurn.nullable(),
  /** A restore came before the turn: it is compared with the restored tree (`from`; `fromTurn` is the checkpoint restored whole, or null). */
  afterRestore: z.boolean().optional(),
  from: z.string().nullable(),
  to: z.string(),
  files: z.array(CheckpointFileDiff),
  diffstat: Diffstat,
});
export type CheckpointDiffView = z.infer<typeof CheckpointDiffView>;

export const RestoreOutcome = z.discriminatedUnion('kind', [
  CheckpointRestoreCompletedPayload.extend({ kind: z.literal('completed') }),
  CheckpointRestoreFailedPayload.extend({ kind: z.literal('failed') }),
]);
export type RestoreOutcome = z.infer<typeof RestoreOutcome>;

// ---- the transcript item (run-view fold) ----------------------------------------------------

/**
 * One checkpoint card in the transcript: a checkpoint taken or skipped at a turn's end, drift
 * found on resume, a turn's lockfile changes, or a restore. `text` is the card's sentence, built
 * once in the fold so every surface says the same (I9).
 */
export const CheckpointItem = z.object({
  kind: z.literal('checkpoint'),
  seq: z.number().int().positive(),
  ts: z.string(),
  event: z.enum(['created', 'skipped', 'drift', 'deps', 'restore_requested', 'restore_completed', 'restore_failed', 'worktree']),
  /** The checkpoint's turn (0: the baseline); drift: the turn it is measured from; restore: the target. */
  turn: CheckpointTurn.nullable(),
  text: z.string(),
  files: z.array(z.object({ path: z.string(), status: z.string(), insertions: count.nullable(), deletions: count.nullable() })).max(MAX_LISTED_FILES),
  /** How many files in all (files may list fewer). */
  filesTotal: count,
  commit: z.string().nullable(),
  detail: z.string().nullable(),
});
export type CheckpointItem = z.infer<typeof CheckpointItem>;
