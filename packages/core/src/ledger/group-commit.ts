import type { Durability, LedgerEvent } from '../contract/schemas/ledger.js';
import { fsyncDir } from '../fsutil/index.js';
import { LedgerError } from './errors.js';
import type { RunEntry } from './run-entry.js';
import type { MarkerUpdate, SqliteStore } from './sqlite-store.js';

/** How long a `stream` append may wait for company before its batch is written. */
export const DEFAULT_STREAM_WINDOW_MS = 20;
/** A batch this large is written at once, whatever its class. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

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

  /** Writes what is queued now (used on close). */
  flushQueued(): void {
    if (this.queue.length > 0) this.flush();
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
      // Each log's verified marker moves with the rows: this ledger wrote and synced those bytes itself.
      const markers = new Map<RunEntry, MarkerUpdate>();
      for (const pending of batch) {
        const bytes = (markers.get(pending.entry)?.logBytes ?? before.get(pending.entry)!) + pending.bytes;
        markers.set(pending.entry, { runId: pending.event.run_id, throughSeq: pending.event.seq, logBytes: bytes, headHash: pending.event.hash });
      }
      this.options.store.insertBatch(
        batch.map((pending) => ({ event: pending.event, line: pending.text })),
        [...markers.values()],
      );
    } catch (error) {
      for (const [entry, size] of before) entry.log.rollbackTo(size);
      this.fail(error instanceof Error ? error : new Error(String(error)), batch);
      return;
    }
    for (const [entry, data] of lines) entry.log.size += data.length;
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
