import { z } from 'zod';
import { checkpointEventBodies } from './checkpoints.js';
import { runMetaEventBodies } from './run-meta.js';
import { runAgentEventBodies } from './run-agent.js';
import { RunUsage, usageEventBodies } from './usage.js';
import { ApprovalPolicyContext, policyEventBodies } from './policy.js';

/** The envelope version this build writes. Readers accept every version up to it (I10). */
export const LEDGER_SCHEMA_VERSION = 1;

/** Run ids become file names: keep them to a safe alphabet. */
export const RunId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a run id is 1-64 letters, digits, "_" or "-"');
export type RunId = z.infer<typeof RunId>;

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

export const RunStateName = z.enum([
  'created',
  'starting',
  'idle',
  'running',
  'awaiting_approval',
  'interrupted',
  'stopped',
  'completed',
  'failed',
]);
export type RunStateName = z.infer<typeof RunStateName>;

export const AgentKind = z.enum(['builtin', 'acp', 'codex']);

/** Which agent a run talks to: the built-in scripted agent, any ACP command, or Codex. */
export const AgentSpec = z.object({
  kind: AgentKind,
  /** The command line for acp and codex agents. */
  command: z.array(z.string()).optional(),
  /** The built-in agent's script (a name or a file). */
  script: z.string().optional(),
  /** Fault knobs for the built-in agent (tests, reliability harness). */
  faults: z.array(z.string()).optional(),
});
export type AgentSpec = z.infer<typeof AgentSpec>;

/** How a run answers approvals nobody is there to answer (non-interactive runs). */
export const ApprovalMode = z.enum(['interactive', 'none', 'reads', 'all']);
export type ApprovalMode = z.infer<typeof ApprovalMode>;

/** A dangerous (or not) request, normalised from whatever protocol asked for it. */
export const Action = z.object({
  kind: z.enum(['read', 'write', 'exec', 'network', 'generic']),
  title: z.string(),
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  cwd: z.string().optional(),
  paths: z.array(z.string()).optional(),
  /** The protocol's own kind (ACP tool kind, Codex request method), for unknown requests. */
  source: z.string().optional(),
  detail: z.string().optional(),
});
export type Action = z.infer<typeof Action>;

export const ApprovalDecision = z.enum(['allow_once', 'allow_run', 'deny']);
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

export const SessionOutcome = z.enum(['new', 'restored', 'replayed', 'fresh', 'unavailable']);
export type SessionOutcome = z.infer<typeof SessionOutcome>;

export const ProtocolErrorKind = z.enum(['garbage', 'invalid_utf8', 'oversize', 'invalid_message', 'rpc_error']);
export type ProtocolErrorKind = z.infer<typeof ProtocolErrorKind>;

const text = z.string().max(16 * 1024 * 1024);

/**
 * Every event type and its payload. The ledger refuses anything not listed here, so a typo
 * in a producer fails at the append, not at replay.
 */
export const EventBody = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run.created'),
    payload: z.object({
      workspace: z.string().min(1),
      agent: AgentSpec,
      title: z.string().max(500).optional(),
      approvalMode: ApprovalMode.optional(),
    }),
  }),
  z.object({
    type: z.literal('run.recovered'),
    payload: z.object({ reason: z.string(), previousState: z.string(), hostPid: z.number().int().optional() }),
  }),
  z.object({
    // What Keel told a fresh session about the run so far (the agent lost the old one), and the turn it goes with.
    type: z.literal('session.handoff'),
    payload: z.object({
      generation: z.number().int().positive(),
      turn: z.number().int().positive(),
      text: z.string().max(64 * 1024),
      truncated: z.boolean(),
    }),
  }),
  z.object({
    type: z.literal('runtime.started'),
    payload: z.object({
      generation: z.number().int().positive(),
      pid: z.number().int(),
      command: z.array(z.string()),
      hostPid: z.number().int(),
      /** The environment tag every process of this generation inherits (for the sweep). */
      tag: z.string().optional(),
    }),
  }),
  z.object({
    type: z.literal('runtime.exited'),
    payload: z.object({
      generation: z.number().int().positive(),
      code: z.number().int().nullable(),
      signal: z.string().nullable(),
      expected: z.boolean(),
      stderrTail: z.string().max(4096).optional(),
    }),
  }),
  z.object({
    // Processes a generation started that outlived it (they had left its process group), found by its tag and killed.
    type: z.literal('runtime.swept'),
    payload: z.object({
      generation: z.number().int().positive(),
      processes: z.array(z.object({ pid: z.number().int(), command: z.array(z.string().max(4096)).max(64) })).max(1000),
    }),
  }),
  z.object({
    type: z.literal('runtime.restarting'),
    payload: z.object({ nextGeneration: z.number().int().positive(), attempt: z.number().int().positive(), delayMs: z.number().int().nonnegative(), reason: z.string() }),
  }),
  z.object({
    type: z.literal('runtime.stopped'),
    payload: z.object({ stopReason: z.string(), attempts: z.number().int().nonnegative(), detail: z.string() }),
  }),
  z.object({
    type: z.literal('runtime.protocol_error'),
    payload: z.object({ generation: z.number().int().positive(), kind: ProtocolErrorKind, detail: z.string().max(4096), sample: z.string().max(512).optional() }),
  }),
  z.object({
    type: z.literal('runtime.hang'),
    payload: z.object({ generation: z.number().int().positive(), idleMs: z.number().int().nonnegative() }),
  }),
  z.object({
    type: z.literal('session.bound'),
    payload: z.object({
      generation: z.number().int().positive(),
      sessionId: z.string().nullable(),
      outcome: SessionOutcome,
      method: z.string(),
      remapped: z.boolean(),
      detail: z.string().optional(),
    }),
  }),
  z.object({
    type: z.literal('prompt.skipped'),
    payload: z.object({ turn: z.number().int().positive(), ik: z.string().startsWith('ik:'), reason: z.string() }),
  }),
  z.object({
    type: z.literal('approval.requested'),
    payload: z.object({
      approvalId: z.string().min(1),
      generation: z.number().int().positive(),
      turn: z.number().int().positive().optional(),
      action: Action,
      actionKey: z.string(),
      reason: z.string(),
      source: z.enum(['agent', 'keel']),
      timeoutMs: z.number().int().positive().optional(),
      /** What the policy said (it asks a person): rule, why, hash. Absent in ledgers from before policies. */
      policy: ApprovalPolicyContext.optional(),
    }),
  }),
  z.object({
    type: z.literal('approval.decided'),
    payload: z.object({
      approvalId: z.string().min(1),
      decision: ApprovalDecision,
      by: z.enum(['user', 'auto', 'carryover']),
      ref: z.string().optional(),
      note: z.string().optional(),
    }),
  }),
  z.object({ type: z.literal('approval.timed_out'), payload: z.object({ approvalId: z.string().min(1) }) }),
  z.object({ type: z.literal('approval.cancelled'), payload: z.object({ approvalId: z.string().min(1), reason: z.string() }) }),
  z.object({
    type: z.literal('approval.reset'),
    payload: z.object({ generation: z.number().int().positive(), approvalIds: z.array(z.string()), reason: z.string() }),
  }),
  z.object({
    type: z.literal('fs.written'),
    payload: z.object({ path: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string(), created: z.boolean(), approvalId: z.string().optional() }),
  }),
  z.object({
    type: z.literal('terminal.started'),
    payload: z.object({
      terminalId: z.string(),
      command: z.string(),
      args: z.array(z.string()),
      cwd: z.string(),
      /** Its process group, so a host that died can have its commands ended on the next start. */
      pid: z.number().int().positive().optional(),
      approvalId: z.string().optional(),
    }),
  }),
  z.object({ type: z.literal('terminal.output'), payload: z.object({ terminalId: z.string(), text }) }),
  z.object({
    type: z.literal('terminal.exited'),
    payload: z.object({ terminalId: z.string(), exitCode: z.number().int().nullable(), signal: z.string().nullable() }),
  }),
  z.object({
    type: z.literal('run.state'),
    payload: z.object({ state: RunStateName, stopReason: z.string().optional(), detail: z.string().optional() }),
  }),
  z.object({
    type: z.literal('prompt.sent'),
    payload: z.object({ turn: z.number().int().positive(), text, ik: z.string().startsWith('ik:') }),
  }),
  z.object({
    type: z.literal('message.chunk'),
    // Keys in canonical order: the hottest records then encode natively (hash-chain.ts).
    payload: z.object({ text, turn: z.number().int().positive().optional() }),
  }),
  z.object({
    type: z.literal('thought.chunk'),
    // Keys in canonical order: the hottest records then encode natively (hash-chain.ts).
    payload: z.object({ text, turn: z.number().int().positive().optional() }),
  }),
  z.object({
    type: z.literal('plan.updated'),
    payload: z.object({
      entries: z.array(
        z.object({
          content: z.string(),
          status: z.enum(['pending', 'in_progress', 'completed']),
          priority: z.enum(['low', 'medium', 'high']).optional(),
        }),
      ),
    }),
  }),
  z.object({
    type: z.literal('tool.started'),
    payload: z.object({
      toolCallId: z.string().min(1),
      title: z.string(),
      kind: z.string().optional(),
      input: z.unknown().optional(),
      /**
       * A call already announced, restated with its real title or input (ACP agents announce some
       * calls with a placeholder): it changes that call's item rather than starting one. Absent in
       * records written before it existed, where a second start of an id is a restatement too.
       */
      restated: z.literal(true).optional(),
    }),
  }),
  z.object({
    // Keel's record that a dead generation's open tool calls will never finish (the agent cannot say so).
    type: z.literal('tool.interrupted'),
    payload: z.object({ generation: z.number().int().positive(), toolCallIds: z.array(z.string().min(1)), reason: z.string() }),
  }),
  z.object({
    type: z.literal('tool.updated'),
    payload: z.object({
      toolCallId: z.string().min(1),
      /** A terminal (Keel's command) the agent embedded in this call: its output belongs to the call. */
      terminalId: z.string().min(1).optional(),
      status: z.enum(['pending', 'in_progress', 'completed', 'failed']).optional(),
      output: text.optional(),
      diff: z.object({ path: z.string(), oldText: z.string().nullable(), newText: z.string() }).optional(),
    }),
  }),
  z.object({
    type: z.literal('turn.ended'),
    payload: z.object({ turn: z.number().int().positive(), stopReason: z.string() }),
  }),
  z.object({
    type: z.literal('ledger.repaired'),
    payload: z.object({
      reason: z.string(),
      truncatedBytes: z.number().int().nonnegative(),
      brokenFile: z.string(),
      keptThroughSeq: z.number().int().nonnegative(),
    }),
  }),
  z.object({
    type: z.literal('note'),
    payload: z.object({ text: z.string().max(100_000) }),
  }),
  // Each capability declares its own event bodies beside its schemas.
  ...checkpointEventBodies,
  ...policyEventBodies,
  ...runMetaEventBodies,
  ...runAgentEventBodies,
  ...usageEventBodies,
]);
export type EventBody = z.infer<typeof EventBody>;
export type EventType = EventBody['type'];
export type PayloadOf<T extends EventType> = Extract<EventBody, { type: T }>['payload'];

/** What a producer hands to `append`: a typed body plus the agent process generation. */
export const AppendInput = z.intersection(EventBody, z.object({ generation: z.number().int().nonnegative().optional() }));
export type AppendInput = EventBody & { generation?: number };

/** The stored record, as one NDJSON line and one SQLite row. */
export const LedgerEvent = z.object({
  schema_version: z.number().int().min(1).max(LEDGER_SCHEMA_VERSION),
  run_id: RunId,
  seq: z.number().int().positive(),
  ts: z.string(),
  type: z.string().min(1),
  generation: z.number().int().nonnegative().optional(),
  payload: z.unknown(),
  prev: Sha256Hex,
  hash: Sha256Hex,
});
export type LedgerEvent = Omit<z.infer<typeof LedgerEvent>, 'payload'> & { payload: unknown };

export const Durability = z.enum(['critical', 'stream']);
export type Durability = z.infer<typeof Durability>;

export const RunSummary = z.object({
  id: z.string(),
  state: z.string(),
  created: z.string(),
  updated: z.string(),
  lastSeq: z.number().int().nonnegative(),
  quarantined: z.boolean(),
  quarantineReason: z.string().nullable(),
  readOnly: z.boolean(),
  origin: z.enum(['local', 'imported']),
  workspace: z.string().nullable(),
  agent: AgentSpec.nullable(),
  title: z.string().nullable(),
  /** The stop reason of the latest state change, if any (a code of STOP_REASONS). */
  stopReason: z.string().nullable(),
  /** The person archived it (run list management, <data>/run-list.json); set by the host's run list. */
  archived: z.boolean().optional(),
  /** The run's usage from the runs projection (the same steps as the run view's fold); absent from a keel.db before schema 9. */
  usage: RunUsage.optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export { ColumnMismatch, LedgerCheck, LedgerHealth, RunVerification, SqliteCheck, StoreSummary, VerifyReport } from './ledger-checks.js';
