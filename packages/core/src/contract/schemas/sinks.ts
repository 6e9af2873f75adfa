import { z } from 'zod';

/**
 * Sinks: what Keel ships off the machine for teams (issue 17) — OTLP traces to a collector and a
 * PostgreSQL mirror of the ledger. The local ledger stays the truth; sinks only read it.
 */

/** Version of the files under `<data>/sinks/` (I10): readers accept every version up to it. */
export const SINKS_SCHEMA_VERSION = 1;

/** Where an OTLP export has got to, per run: the last seq whose spans the collector acknowledged. */
export const ExportPosition = z.object({
  schema_version: z.number().int().min(1).max(SINKS_SCHEMA_VERSION),
  /** The traces endpoint this position belongs to (a position is per collector). */
  endpoint: z.string().url(),
  runs: z.record(z.string(), z.number().int().nonnegative()),
});
export type ExportPosition = z.infer<typeof ExportPosition>;

/** `<data>/sinks/settings.json`: optional defaults for `keel export otlp` and `keel sink postgres`. */
export const SinkSettings = z.object({
  schema_version: z.number().int().min(1).max(SINKS_SCHEMA_VERSION),
  otlp: z
    .object({
      /** The OTLP/HTTP traces URL (…/v1/traces). */
      endpoint: z.string().url().optional(),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  postgres: z.object({ url: z.string().min(1).optional() }).optional(),
});
export type SinkSettings = z.infer<typeof SinkSettings>;

/** What one pass of the PostgreSQL mirror did. */
export const MirrorReport = z.object({
  runs: z.array(
    z.object({
      runId: z.string(),
      /** Seq the mirror held before this pass (0: none). */
      fromSeq: z.number().int().nonnegative(),
      /** Seq the mirror holds after it. */
      toSeq: z.number().int().nonnegative(),
      copied: z.number().int().nonnegative(),
    }),
  ),
  copied: z.number().int().nonnegative(),
});
export type MirrorReport = z.infer<typeof MirrorReport>;

/** `keel sink verify`: the mirror compared with the local ledger, per run. */
export const MirrorVerifyRun = z.object({
  runId: z.string(),
  localSeq: z.number().int().nonnegative(),
  mirrorSeq: z.number().int().nonnegative(),
  agree: z.boolean(),
  problems: z.array(z.string()),
});
export const MirrorVerifyReport = z.object({
  ok: z.boolean(),
  runs: z.array(MirrorVerifyRun),
  /** Runs the mirror holds that this ledger does not (another workstation's): listed, not judged. */
  foreignRuns: z.array(z.string()),
});
export type MirrorVerifyReport = z.infer<typeof MirrorVerifyReport>;

/** What one pass of `keel export otlp` sent. */
export const OtlpExportReport = z.object({
  endpoint: z.string(),
  runs: z.array(z.object({ runId: z.string(), fromSeq: z.number().int().nonnegative(), toSeq: z.number().int().nonnegative(), spans: z.number().int().nonnegative() })),
  spans: z.number().int().nonnegative(),
});
export type OtlpExportReport = z.infer<typeof OtlpExportReport>;

/**
 * The live OTLP exporter (the `liveOtlpExport` setting): a child process following the ledger
 * read-only and sending new events' spans as they close. `off` when the setting is off.
 */
export const LiveExportState = z.enum(['off', 'starting', 'running', 'retrying', 'failed']);
export type LiveExportState = z.infer<typeof LiveExportState>;

/** A line the live exporter child prints on stdout (JSON), read by the host that supervises it. */
export const LiveExportLine = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('started'), endpoint: z.string() }),
  z.object({ kind: z.literal('batch'), runId: z.string(), spans: z.number().int().nonnegative(), toSeq: z.number().int().nonnegative() }),
  z.object({ kind: z.literal('retrying'), message: z.string() }),
  z.object({ kind: z.literal('failed'), message: z.string() }),
]);
export type LiveExportLine = z.infer<typeof LiveExportLine>;

export const LiveExportStatus = z.object({
  state: LiveExportState,
  /** The traces URL in use (null before the child has resolved it, or when it could not). */
  endpoint: z.string().nullable(),
  /** Spans the collector acknowledged since the app started. */
  spansSent: z.number().int().nonnegative(),
  lastSentAt: z.string().nullable(),
  /** The last problem in plain words (no endpoint configured, collector unreachable…), null when none. */
  problem: z.string().nullable(),
  /** Times the child was started again after it died. */
  restarts: z.number().int().nonnegative(),
});
export type LiveExportStatus = z.infer<typeof LiveExportStatus>;
