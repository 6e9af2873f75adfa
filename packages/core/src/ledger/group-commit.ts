import type { Durability, LedgerEvent } from '../contract/schemas/ledger.js';
import { fsyncDir } from '../fsutil/index.js';
import { LedgerError } from './errors.js';
import type { RunEntry } from './run-entry.js';
import type { MarkerUpdate, SqliteStore } from './sqlite-store.js';

/** How long a `stream` append may wait for company before its batch is written. */
export const DEFAULT_STREAM_WINDOW_MS = 20;
/** A batch this large is written at once, whatever its class. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/**
 * A run's verified marker moves with a batch once this many log bytes lie past it; every other
 * marker left behind moves within MARKER_IDLE_MS, in one transaction of its own, and on close.
 * An append does not pay for a marker row each time, and an open after a crash validates at most
 * about this much of a run past its marker (ADR 0024).
 */
export const MARKER_STRIDE_BYTES = 64 * 1024;
const MARKER_IDLE_MS = 500;

interface Pending {
  entry: RunEntry;
  event: LedgerEvent;
  /** The NDJSON line without its newline, as the log and SQLite get it. */
  text: string;
  /** Its size in the log, newline included. */
  bytes: number;
  resolve(event: LedgerEvent): void;
  reject(error: Error): void;
}

export interface GroupCommitOptions {
  store: SqliteStore;
  logDir: string;
  streamWindowMs: number;
  /** Called for each event of a committed batch, in order, after the whole batch has resolved. */
  publish(event: LedgerEvent): void;
  /** The writer's entry of a run now: a lagging marker moves only for it (not for one replaced or forgotten since). */
  current(runId: string): RunEntry | undefined;
}

/**
 * The write path (I1, I2): queued records are written to their run's NDJSON log and
 * fdatasync'd, then inserted into SQLite in one transaction, and only then resolved. Records
 * that arrive together share one write and sync per run and one transaction. After a storage
 * failure every queued record is rejected (fail-stop).
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private failed: Error | null = null;
  /** Runs whose stored marker is behind their committed head. */
  private readonly lagging = new Set<RunEntry>();
  private markerTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: GroupCommitOptions) {}

  /** The storage failure that stopped this ledger, if any. */
  get failure(): Error | null {
    return this.failed;
  }

  /** Queues a sealed record; resolves once it is durable in both stores. */
  add(entry: RunEntry, event: LedgerEvent, text: string, bytes: number, durability: Durability): Promise<LedgerEvent> {
    return new Promise<LedgerEvent>((resolve, reject) => {
      this.queue.push({ entry, event, text, bytes, resolve, reject });
      this.queuedBytes += bytes;
      this.schedule(durability);
    });
  }

  /** Writes what is queued now and moves every lagging marker (used on close). */
  flushQueued(): void {
    if (this.queue.length > 0) this.flush();
    this.moveLaggingMarkers();
  }

  /**
   * Moves each lagging marker to its run's committed head, all in one transaction. Best effort:
   * a marker left behind only makes the next open validate a little more of that log.
   */
  moveLaggingMarkers(): void {
    if (this.markerTimer) clearTimeout(this.markerTimer);
    this.markerTimer = null;
    const entries = [...this.lagging].filter((entry) => this.options.current(entry.runId) === entry && entry.quarantine === null);
    this.lagging.clear();
    if (this.failed || entries.length === 0) return;
    try {
      this.options.store.moveMarkers(
        entries.map((entry) => ({ runId: entry.runId, throughSeq: entry.committedSeq, logBytes: entry.log.size, headHash: entry.committedHash })),
      );
    } catch {
      return;
    }
    for (const entry of entries) entry.markedBytes = entry.log.size;
  }

  private schedule(durability: Durability): void {
    if (this.immediate) return;
    if (durability === 'critical' || this.queuedBytes >= MAX_BATCH_BYTES) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.immediate = setImmediate(() => this.flush());
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.options.streamWindowMs);
  }

  /** Writes the queued batch: NDJSON write + fdatasync per run, then one SQLite transaction. */
  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (batch.length === 0) return;
    if (this.failed) {
      this.rejectAll(batch, this.failed);
      return;
    }
    // Each run's lines of the batch, encoded once (one buffer, one write).
    const texts = new Map<RunEntry, string[]>();
    for (const pending of batch) {
      const list = texts.get(pending.entry);
      if (list) list.push(pending.text);
      else texts.set(pending.entry, [pending.text]);
    }
    const lines = new Map<RunEntry, Buffer>();
    for (const [entry, list] of texts) lines.set(entry, Buffer.from(`${list.join('\n')}\n`));
    const before = new Map<RunEntry, number>();
    // Each run's newest record in the batch.
    const heads = new Map<RunEntry, LedgerEvent>();
    for (const pending of batch) heads.set(pending.entry, pending.event);
    try {
      for (const [entry, data] of lines) {
        before.set(entry, entry.log.size);
        entry.log.write(data);
      }
      for (const entry of lines.keys()) {
        entry.log.sync();
        if (!entry.dirSynced) {
          fsyncDir(this.options.logDir);
          entry.dirSynced = true;
        }
      }
      // A marker moves with the rows once a stride of bytes lies past it: this ledger wrote and
      // synced those bytes itself, and the marker commits with the rows it describes.
      const markers: MarkerUpdate[] = [];
      for (const [entry, head] of heads) {
        const bytes = before.get(entry)! + lines.get(entry)!.length;
        if (bytes - entry.markedBytes >= MARKER_STRIDE_BYTES) markers.push({ runId: entry.runId, throughSeq: head.seq, logBytes: bytes, headHash: head.hash });
      }
      this.options.store.insertBatch(
        batch.map((pending) => ({ event: pending.event, line: pending.text })),
        markers,
      );
    } catch (error) {
      for (const [entry, size] of before) entry.log.rollbackTo(size);
      this.fail(error instanceof Error ? error : new Error(String(error)), batch);
      return;
    }
    for (const [entry, data] of lines) entry.log.size += data.length;
    for (const [entry, head] of heads) {
      entry.committedSeq = head.seq;
      entry.committedHash = head.hash;
      if (entry.log.size - entry.markedBytes >= MARKER_STRIDE_BYTES) {
        entry.markedBytes = entry.log.size;
        this.lagging.delete(entry);
      } else {
        this.lagging.add(entry);
      }
    }
    if (this.lagging.size > 0 && !this.markerTimer) this.markerTimer = setTimeout(() => this.moveLaggingMarkers(), MARKER_IDLE_MS).unref();
    for (const pending of batch) pending.resolve(pending.event);
    for (const pending of batch) this.options.publish(pending.event);
  }

  private fail(error: Error, batch: Pending[]): void {
    this.failed = error;
    const wrapped = new LedgerError('ledger_failed', `Storage failure; nothing in this batch was acknowledged: ${error.message}`, { cause: error });
    this.rejectAll(batch, wrapped);
    this.rejectAll(this.queue.splice(0), wrapped);
  }

  private rejectAll(batch: Pending[], error: Error): void {
    for (const pending of batch) pending.reject(error);
  }
}
