import { z } from 'zod';
import { Action, AgentSpec, ApprovalDecision, RunStateName } from './ledger.js';
import { ApprovalPolicyContext } from './policy.js';
import { CheckpointItem } from './checkpoints.js';
import { RunUsage } from './usage.js';

/**
 * The transcript-level state of a run: a pure fold of its ledger events (I1). The CLI
 * (`keel replay --json`), the IPC and the renderer all show this one shape (I9).
 */
export const REPLAY_VIEW_SCHEMA_VERSION = 1;

const seq = z.number().int().positive();
const count = z.number().int().nonnegative();
/** A turn number; null for content that arrived before the first prompt. */
const turn = z.number().int().positive().nullable();

export const PlanStatus = z.enum(['pending', 'in_progress', 'completed']);

export const PlanEntryView = z.object({
  content: z.string(),
  status: PlanStatus,
  priority: z.enum(['low', 'medium', 'high']).optional(),
});
export type PlanEntryView = z.infer<typeof PlanEntryView>;

/**
 * Weighted progress of the current plan, computed once in core (I9):
 *   ratio = (completed + 0.5 * in_progress) / total, null when there is no plan;
 *   percent = Math.round(ratio * 100). Surfaces show these values, never recompute them.
 */
export const PlanProgress = z.object({
  total: count,
  completed: count,
  inProgress: count,
  pending: count,
  ratio: z.number().min(0).max(1).nullable(),
  percent: z.number().int().min(0).max(100).nullable(),
});
export type PlanProgress = z.infer<typeof PlanProgress>;

export const PromptItem = z.object({
  kind: z.literal('prompt'),
  seq,
  ts: z.string(),
  turn: z.number().int().positive(),
  text: z.string(),
  ik: z.string(),
});

/**
 * Consecutive `message.chunk` (or `thought.chunk`) events of the same turn and agent
 * generation merged into one item; any other item in between starts a new one.
 */
const textItem = {
  firstSeq: seq,
  lastSeq: seq,
  ts: z.string(),
  turn,
  generation: count.nullable(),
  text: z.string(),
  chunks: z.number().int().positive(),
};
export const MessageItem = z.object({ kind: z.literal('message'), ...textItem });
export const ThoughtItem = z.object({ kind: z.literal('thought'), ...textItem });

/** `interrupted`: the generation that ran it died before it finished (recorded by Keel). */
export const ToolCallStatus = z.enum(['pending', 'in_progress', 'completed', 'failed', 'interrupted']);

export const ToolDiffView = z.object({
  path: z.string(),
  oldText: z.string().nullable(),
  newText: z.string(),
  seq,
});
export type ToolDiffView = z.infer<typeof ToolDiffView>;

/**
 * One tool call, keyed by toolCallId, kept at the position of its first event.
 * - `output` is APPENDED: every `tool.updated.output` is a delta, the item shows their
 *   concatenation in ledger order (streamed command output is the common case, and it
 *   keeps the ledger linear in size). A producer holding a full replacement sends only
 *   what is new.
 * - `diffs` hold one entry per path, in order of first appearance; a later diff of the
 *   same path replaces the earlier one (it describes the file's new state).
 * - A repeated `tool.started` for a known id updates title/kind/input in place.
 * - A `tool.updated` for an id never started creates the item (title ''), so no output
 *   is ever dropped.
 */
export const ToolCallItem = z.object({
  kind: z.literal('tool'),
  firstSeq: seq,
  lastSeq: seq,
  ts: z.string(),
  turn,
  toolCallId: z.string(),
  title: z.string(),
  toolKind: z.string().nullable(),
  input: z.unknown().optional(),
  status: ToolCallStatus,
  output: z.string(),
  diffs: z.array(ToolDiffView),
  /** Set when the generation that ran it died first: which one, and why. */
  interruption: z.object({ generation: z.number().int().positive(), reason: z.string() }).optional(),
});

export const TurnEndItem = z.object({
  kind: z.literal('turn_end'),
  seq,
  ts: z.string(),
  turn: z.number().int().positive(),
  stopReason: z.string(),
});

/** A `ledger.repaired` notice: the log lost a torn tail and says so (I3). */
export const RepairItem = z.object({
  kind: z.literal('repair'),
  seq,
  ts: z.string(),
  reason: z.string(),
  truncatedBytes: count,
  brokenFile: z.string(),
  keptThroughSeq: count,
});

export const NoteItem = z.object({
  kind: z.literal('note'),
  seq,
  ts: z.string(),
  text: z.string(),
});

export const ApprovalStatus = z.enum(['pending', 'decided', 'timed_out', 'cancelled', 'orphaned']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

/**
 * One approval request, kept at the position of its `approval.requested` and updated in
 * place as it settles. Timed out, cancelled and orphaned are their own statuses, never a
 * denial (I5). An orphaned request can still be decided: the decision is carried over when
 * the agent asks again.
 */
export const ApprovalItem = z.object({
  kind: z.literal('approval'),
  seq,
  lastSeq: seq,
  ts: z.string(),
  turn,
  approvalId: z.string(),
  generation: count,
  action: Action,
  actionKey: z.string(),
  reason: z.string(),
  source: z.enum(['agent', 'keel']),
  status: ApprovalStatus,
  decision: ApprovalDecision.nullable(),
  by: z.enum(['user', 'auto', 'carryover']).nullable(),
  /** For carry-over: the approval whose decision was applied. */
  ref: z.string().nullable(),
  note: z.string().nullable(),
  timeoutMs: z.number().int().positive().nullable(),
  /** What the policy said about the request (rule and why); absent before policies. */
  policy: ApprovalPolicyContext.optional(),
});

export const RecoveryKind = z.enum([
  /** The agent process died (unexpectedly). */
  'agent_exited',
  /** Keel will start the next generation after a backoff delay. */
  'restarting',
  /** A later generation started (generation >= 2). */
  'agent_started',
  /** The session was re-bound after a restart: restored, replayed, fresh (remapped or not) or unavailable. */
  'session',
  /** Pending approvals of a dead generation were orphaned. */
  'approvals_reset',
  /** Keel itself had stopped mid-run; this start reconciled it. */
  'host_recovered',
  /** Restarts exhausted, or a fatal protocol error: the runtime is stopped. */
  'runtime_stopped',
  /** The hang watchdog killed a silent agent. */
  'hang',
  /** A line the agent sent could not be read. */
  'protocol_error',
  /** A fresh session was given the run's history from the ledger. */
  'handoff',
  /** Processes a dead generation had started (detached from its group) were killed. */
  'swept',
]);
export type RecoveryKind = z.infer<typeof RecoveryKind>;

/** One recovery card: something went wrong and what Keel did about it, in words (I4, I6). */
export const RecoveryItem = z.object({
  kind: z.literal('recovery'),
  seq,
  ts: z.string(),
  recovery: RecoveryKind,
  generation: count.nullable(),
  /** One sentence for the card, built in the fold so every surface says the same. */
  text: z.string(),
  /** session: the outcome; runtime_stopped: the stop reason; protocol_error: the error kind. */
  outcome: z.string().nullable(),
  detail: z.string().nullable(),
});

/** A command Keel ran for the agent (ACP terminal), with its output as Keel saw it. */
export const CommandItem = z.object({
  kind: z.literal('command'),
  seq,
  lastSeq: seq,
  ts: z.string(),
  turn,
  terminalId: z.string(),
  /** The agent's tool call this command ran for (its terminal was embedded in that call); null when unknown. */
  toolCallId: z.string().nullable().optional(),
  command: z.string(),
  args: z.array(z.string()),
  cwd: z.string(),
  output: z.string(),
  status: z.enum(['running', 'exited']),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
});

/** A file Keel wrote for the agent. */
export const FileWriteItem = z.object({
  kind: z.literal('file_write'),
  seq,
  ts: z.string(),
  turn,
  path: z.string(),
  bytes: count,
  created: z.boolean(),
});

export const TranscriptItem = z.discriminatedUnion('kind', [
  PromptItem,
  MessageItem,
  ThoughtItem,
  ToolCallItem,
  TurnEndItem,
  RepairItem,
  NoteItem,
  ApprovalItem,
  RecoveryItem,
  CommandItem,
  FileWriteItem,
  CheckpointItem,
]);
export type TranscriptItem = z.infer<typeof TranscriptItem>;
export type TranscriptItemKind = TranscriptItem['kind'];
export type ItemOfKind<K extends TranscriptItemKind> = Extract<TranscriptItem, { kind: K }>;

/**
 * Events the fold did not reflect in the view. `unknownType` (a newer build's event) and
 * `invalidPayload` still count as part of the run (eventCount, lastSeq); the other three
 * are not part of this run's sequence at all.
 */
export const IgnoredEvents = z.object({
  unknownType: count,
  invalidPayload: count,
  invalidEnvelope: count,
  outOfOrder: count,
  otherRun: count,
  /** Distinct unknown type names, first seen first, at most 16. */
  unknownTypes: z.array(z.string()),
});
export type IgnoredEvents = z.infer<typeof IgnoredEvents>;

export const RunView = z.object({
  schema_version: z.number().int().min(1).max(REPLAY_VIEW_SCHEMA_VERSION),
  runId: z.string(),
  /** Highest seq folded so far; 0 before any event. */
  lastSeq: count,
  /** Events accepted into this run's sequence (including unknown or invalid payloads). */
  eventCount: count,
  ignored: IgnoredEvents,
  /** `ts` of the first and the latest accepted event. */
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  workspace: z.string().nullable(),
  agent: AgentSpec.nullable(),
  title: z.string().nullable(),
  state: RunStateName,
  stopReason: z.string().nullable(),
  detail: z.string().nullable(),
  /** `ts` of the event that set the current state. */
  stateSince: z.string().nullable(),
  /** Turn of the latest prompt; 0 before the first one. */
  currentTurn: count,
  /** True between a prompt and its `turn.ended`. */
  turnOpen: z.boolean(),
  /** Highest agent process generation seen. */
  generation: count.nullable(),
  plan: z.array(PlanEntryView),
  progress: PlanProgress,
  /** Approval ids still waiting for a person, oldest first. */
  pendingApprovals: z.array(z.string()),
  /** Restarts of the agent process in this run so far (generations - 1, never negative). */
  restarts: count,
  /** Whether the agent runtime is stopped (restarts exhausted or fatal), needing a manual restart. */
  runtimeStopped: z.boolean(),
  /** Tokens, cost, duration and tool calls so far (issue 15 point 25). */
  usage: RunUsage,
  /** In order of first appearance; positions never change, so an index is a stable key. */
  items: z.array(TranscriptItem),
});
export type RunView = z.infer<typeof RunView>;

/** Transcript items run.viewWindow sends by default (the newest), and at most per call. */
export const VIEW_WINDOW_ITEMS = 2_000;
export const MAX_VIEW_WINDOW_ITEMS = 2_000;

/**
 * A run's view with a window of its transcript (issue 16: a 1M-event run's transcript is ~28 MiB;
 * opening it must not send, parse or fold all of it): `view.items` are items `itemsFrom` to
 * `itemsFrom + view.items.length` of the `itemCount` items the whole view holds. Positions never
 * change, so an earlier page asked for later lines up with the window.
 */
export const RunViewWindow = z.object({
  view: RunView,
  itemCount: count,
  itemsFrom: count,
});
export type RunViewWindow = z.infer<typeof RunViewWindow>;
