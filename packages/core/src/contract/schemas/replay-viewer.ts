import { z } from 'zod';
import { procedure } from '../define.js';
import { BundleId, BundleImportResult, BundleWriteResult } from './diagnostics.js';
import { LedgerEvent, RunId } from './ledger.js';
import { RunView } from './replay.js';

const seq = z.number().int().nonnegative();

/** What a replay opens: one of the user's runs, or a run of an imported bundle (read-only). */
export const ReplaySource = z.object({ runId: RunId, bundleId: BundleId.optional() }).strict();
export type ReplaySource = z.infer<typeof ReplaySource>;

/**
 * What `replay.progress` sends about one run's replay index: its state first, then changes (an
 * `indexing` figure at most every ~100 ms, every change of state at once). Watching never starts
 * an index; a run Keel does not know is `idle` with nothing to read.
 */
export const ReplayIndexProgress = z
  .object({
    /** idle: no catch-up under way and no index ready; indexing: reading and checking events; ready: the index holds every event it was asked for. */
    state: z.enum(['idle', 'indexing', 'ready']),
    /** Events read and hash-checked into the index so far (all of them once ready). */
    eventsRead: seq,
    /** Events to read: a ledger run's lastSeq when its catch-up began, an imported run's events; never below eventsRead. */
    eventsTotal: seq,
  })
  .strict();
export type ReplayIndexProgress = z.infer<typeof ReplayIndexProgress>;

/** Points the scrubber can jump to. */
export const ReplayMarkerKind = z.enum(['turn', 'approval', 'restart', 'error', 'checkpoint']);
export type ReplayMarkerKind = z.infer<typeof ReplayMarkerKind>;

export const ReplayMarker = z.object({ seq: z.number().int().positive(), kind: ReplayMarkerKind, label: z.string() });
export type ReplayMarker = z.infer<typeof ReplayMarker>;

/** At most this many markers are sent; `markersTruncated` says when there were more. */
export const MAX_REPLAY_MARKERS = 20_000;

/** A run opened for replay: its extent, its markers, and how far its hash chain verifies. */
export const ReplayTimeline = z.object({
  runId: RunId,
  bundleId: BundleId.nullable(),
  events: seq,
  lastSeq: seq,
  markers: z.array(ReplayMarker),
  markersTruncated: z.boolean(),
  chain: z.object({
    /** The first record whose hash or link does not verify, or null when all do. */
    firstBadSeq: z.number().int().positive().nullable(),
    /** Records of an imported bundle whose text was redacted: their links verify, their content cannot. */
    redactedSeqs: z.array(z.number().int().positive()),
  }),
  readOnly: z.boolean(),
});
export type ReplayTimeline = z.infer<typeof ReplayTimeline>;

export const ReplayChainStatus = z.enum(['verified', 'redacted', 'broken']);
export type ReplayChainStatus = z.infer<typeof ReplayChainStatus>;

export const ReplayEventRow = z.object({
  record: LedgerEvent,
  /** Whether the chain verifies from seq 1 up to and including this record. */
  chain: ReplayChainStatus,
});
export type ReplayEventRow = z.infer<typeof ReplayEventRow>;

/** Transcript items sent per replay.stateAt by default, and at most: a long run's transcript is never sent whole. */
export const REPLAY_WINDOW_ITEMS = 200;
export const MAX_REPLAY_WINDOW_ITEMS = 2_000;

/** The largest bundle a browser may upload (headless mode); bigger ones: `keel bundle import FILE`. */
export const MAX_BUNDLE_UPLOAD_BYTES = 256 * 1024 * 1024;
/** Bytes per upload chunk (sent as base64). */
export const BUNDLE_UPLOAD_CHUNK_BYTES = 1024 * 1024;

/** A run from an imported bundle, as listed under "Imported". */
export const ImportedRunSummary = z.object({
  bundleId: BundleId,
  runId: RunId,
  created: z.string(),
  keelVersion: z.string(),
  events: seq,
  lastSeq: seq,
  redactedSeqs: z.array(z.number().int().positive()),
  problems: z.array(z.string()),
});
export type ImportedRunSummary = z.infer<typeof ImportedRunSummary>;

/** The replay viewer's and the diagnostics bundle's procedures (spread into `procedures`). */
export const replayViewerProcedures = {
  'replay.open': procedure({
    description: 'Open a run (or an imported one) for replay: its extent, timeline markers and chain status. Refreshes a live run.',
    input: ReplaySource,
    output: ReplayTimeline,
  }),
  'replay.stateAt': procedure({
    description:
      "The run's state exactly as it stood after `seq` (core's replay index; 0 is the start), with a window of its transcript: `view.items` are items `itemsFrom`.. of `itemCount` (by default the last REPLAY_WINDOW_ITEMS).",
    input: ReplaySource.extend({
      seq,
      itemsFrom: z.number().int().nonnegative().optional(),
      itemsLimit: z.number().int().min(1).max(MAX_REPLAY_WINDOW_ITEMS).optional(),
    }).strict(),
    output: z.object({ seq, view: RunView, itemCount: seq, itemsFrom: seq }),
  }),
  'replay.events': procedure({
    description: 'A page of raw ledger records from `fromSeq`, each with whether the chain verifies up to it.',
    input: ReplaySource.extend({ fromSeq: z.number().int().positive(), limit: z.number().int().min(1).max(500).optional() }).strict(),
    output: z.object({ rows: z.array(ReplayEventRow), lastSeq: seq }),
  }),
  'diagnostics.export': procedure({
    description:
      'Write a diagnostics bundle (zip, secrets redacted, fail closed) of runs; the host picks the place (a save dialog in the app, else <data>/bundles/) and reports it. `file` null: the user cancelled the dialog.',
    input: z.object({ runIds: z.array(RunId).min(1).max(1000) }).strict(),
    output: BundleWriteResult.extend({ file: z.string().nullable() }),
  }),
  'diagnostics.import': procedure({
    description:
      'Import a diagnostics bundle read-only under "Imported" (checksums, paths, size limits and format checked first). Without `file` the app shows an open dialog; null: the user cancelled.',
    input: z.object({ file: z.string().min(1).max(4096).optional() }).strict(),
    output: BundleImportResult.nullable(),
  }),
  'diagnostics.uploadStart': procedure({
    description:
      'Start uploading a bundle from the page (a dropped or picked file: headless mode has no dialog). A size over MAX_BUNDLE_UPLOAD_BYTES or a name that is not a .zip is refused before any byte is sent.',
    input: z.object({ name: z.string().min(1).max(1024), size: z.number().int().nonnegative() }).strict(),
    output: z.object({ uploadId: z.string() }),
  }),
  'diagnostics.uploadChunk': procedure({
    description: 'The next chunk of an upload, in order from byte 0 (base64). The first must start like a zip, or the upload is refused.',
    input: z
      .object({
        uploadId: z.string().min(1).max(64),
        offset: z.number().int().nonnegative(),
        data: z.string().max(Math.ceil(BUNDLE_UPLOAD_CHUNK_BYTES / 3) * 4),
      })
      .strict(),
    output: z.object({ received: z.number().int().nonnegative() }),
  }),
  'diagnostics.uploadFinish': procedure({
    description: 'Import a completely uploaded bundle, read-only under "Imported" (the same checks as diagnostics.import); the uploaded file is deleted either way.',
    input: z.object({ uploadId: z.string().min(1).max(64) }).strict(),
    output: BundleImportResult,
  }),
  'diagnostics.imported': procedure({
    description: 'Runs of every imported bundle, never mixed with the user\'s own.',
    input: z.object({}).strict(),
    output: z.array(ImportedRunSummary),
  }),
} as const;
