import { z } from 'zod';

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
      agent: z.object({ kind: AgentKind, command: z.array(z.string()).optional(), script: z.string().optional() }),
      title: z.string().max(500).optional(),
    }),
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
    payload: z.object({ turn: z.number().int().positive().optional(), text }),
  }),
  z.object({
    type: z.literal('thought.chunk'),
    payload: z.object({ turn: z.number().int().positive().optional(), text }),
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
    payload: z.object({ toolCallId: z.string().min(1), title: z.string(), kind: z.string().optional(), input: z.unknown().optional() }),
  }),
  z.object({
    type: z.literal('tool.updated'),
    payload: z.object({
      toolCallId: z.string().min(1),
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

export const StoreSummary = z.object({
  count: z.number().int().nonnegative(),
  maxSeq: z.number().int().nonnegative(),
  contiguous: z.boolean(),
  chainValid: z.boolean(),
  lastHash: z.string().nullable(),
});
export type StoreSummary = z.infer<typeof StoreSummary>;

export const RunVerification = z.object({
  runId: z.string(),
  ndjson: StoreSummary.nullable(),
  sqlite: StoreSummary.nullable(),
  agree: z.boolean(),
  quarantined: z.boolean(),
  problems: z.array(z.string()),
});
export type RunVerification = z.infer<typeof RunVerification>;

export const VerifyReport = z.object({
  ok: z.boolean(),
  runs: z.array(RunVerification),
});
export type VerifyReport = z.infer<typeof VerifyReport>;

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
});
export type RunSummary = z.infer<typeof RunSummary>;

export const LedgerHealth = z.object({
  status: z.enum(['ok', 'failed']),
  error: z.string().nullable(),
  quarantinedRuns: z.array(z.string()),
});
export type LedgerHealth = z.infer<typeof LedgerHealth>;
