import { z } from 'zod';
import { stream } from './define.js';
import { Heartbeat } from './schemas/app.js';
import { LedgerEvent, RunId, RunSummary } from './schemas/ledger.js';
import { HarnessProgress } from './schemas/reliability.js';
import { AppMenuCommand, BundleExportProgress } from './schemas/diagnostics.js';
import { ReplayIndexProgress, ReplaySource } from './schemas/replay-viewer.js';
import { LiveExportStatus } from './schemas/sinks.js';

/**
 * What `runs.changed` sends: first (and again after every re-subscribe) the whole list, then
 * the summaries that changed since the previous message, at most one message per ~100 ms.
 * A run deleted from the list sends the whole list again (a snapshot), so a list plus changes
 * keyed by id is the whole state.
 */
export const RunListUpdate = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('snapshot'), runs: z.array(RunSummary) }).strict(),
  z.object({ kind: z.literal('changed'), runs: z.array(RunSummary).min(1) }).strict(),
]);
export type RunListUpdate = z.infer<typeof RunListUpdate>;

/** Every stream Keel exposes, as data. */
export const streams = {
  'app.health': stream({
    description: 'A periodic heartbeat carrying engine status; its absence means the host is gone.',
    params: z.object({ intervalMs: z.number().int().min(100).max(60_000).optional() }).strict(),
    event: Heartbeat,
  }),
  'runs.changed': stream({
    description:
      'The run list, live: every run summary first (as runs.list answers), then the summaries that changed, coalesced to at most one message per ~100 ms. A re-subscribe starts with the whole list again.',
    params: z.object({}).strict(),
    event: RunListUpdate,
  }),
  'run.events': stream({
    description: "A run's events from a seq (history first), then live; resume after a reconnect with the last seq + 1.",
    params: z.object({ runId: RunId, fromSeq: z.number().int().positive().optional() }).strict(),
    event: LedgerEvent,
  }),
  'reliability.progress': stream({
    description: "The host's reliability harness: its current status first (idle, running with the scenario and counts, finished, failed), then every change.",
    params: z.object({}).strict(),
    event: HarnessProgress,
  }),
  'diagnostics.progress': stream({
    description: "The host's diagnostics bundle export: its state first (idle, running with bytes done of total, finished, failed), then every change.",
    params: z.object({}).strict(),
    event: BundleExportProgress,
  }),
  'replay.progress': stream({
    description:
      "How far the host's replay index of a run (or an imported one) has got: its state first (idle, indexing with events read of total, ready), then changes, indexing figures coalesced to at most one message per ~100 ms. Watching does not start indexing (replay.open does).",
    params: ReplaySource,
    event: ReplayIndexProgress,
  }),
  'sinks.liveExportStatus': stream({
    description:
      'How the live OpenTelemetry exporter is doing (as sinks.liveExport answers), first as it stands, then every change, at most one message per ~250 ms (the latest).',
    params: z.object({}).strict(),
    event: LiveExportStatus,
  }),
  'app.menu': stream({
    description: 'Commands chosen in the native application menu (the Electron door), for the renderer to carry out on the run it shows.',
    params: z.object({}).strict(),
    event: AppMenuCommand,
  }),
} as const;

export type Streams = typeof streams;
export type StreamName = keyof Streams;
export type StreamParams<S extends StreamName> = z.input<Streams[S]['params']>;
export type StreamEvent<S extends StreamName> = z.output<Streams[S]['event']>;
