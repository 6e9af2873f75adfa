import fs from 'node:fs';
import path from 'node:path';
import { monotonicFactory } from 'ulid';
import {
  EventBody,
  LEDGER_SCHEMA_VERSION,
  type AppendInput,
  type PayloadOf,
  RunId,
  type Durability,
  type LedgerEvent,
  type LedgerHealth,
  type RunSummary,
  type VerifyReport,
} from '../contract/schemas/ledger.js';
import { copyRangeAtomic, ensurePrivateDir, fsyncDir } from '../fsutil/index.js';
import { backfillRun, type RunBackfill } from './backfill.js';
import { LedgerError } from './errors.js';
import { genesisHash, seal } from './hash-chain.js';
import { acquireWriterLock } from './lock.js';
import { ledgerPaths, runIdOfLogFile } from './paths.js';
import { recoverRun, type RunRecovery } from './recovery.js';
import { RunLog } from './run-log.js';
import { openDatabase, SqliteStore } from './sqlite-store.js';
import { importRunLog, repairFromSqlite } from './transfer.js';
import { verifyRun } from './verify.js';

/** A record larger than this is refused at append (the agent framing limit is 16 MiB too). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** How long a `stream` append may wait for company before its batch is written. */
export const DEFAULT_STREAM_WINDOW_MS = 20;
/** A batch this large is written at once, whatever its class. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

export interface OpenLedgerOptions {
  dataDir: string;
  /** Inspect without recovering, locking or writing (e.g. `keel ledger verify` beside a running app). */
  readOnly?: boolean;
  streamWindowMs?: number;
  now?: () => Date;
  /** Where a throwing subscriber is reported (default: stderr). */
  onListenerError?: (error: unknown, event: LedgerEvent) => void;
}

export interface AppendOptions {
  /** `critical` (default) resolves after its own sync; `stream` may wait ~20 ms to share one. */
  durability?: Durability;
}

export interface RecoveryReport {
  runs: RunRecovery[];
  /** Runs whose torn tails were cut (each got a `ledger.repaired` event). */
  repaired: string[];
  quarantined: string[];
}

interface RunEntry {
  runId: string;
  log: RunLog;
  lastSeq: number;
  lastHash: string;
  quarantine: string | null;
  readOnly: boolean;
  /** The log's directory entry is durable (fsync'd after the file was created). */
  dirSynced: boolean;
}

interface Pending {
  entry: RunEntry;
  event: LedgerEvent;
  line: Buffer;
  /** The same line as text, for SQLite. */
  text: string;
  resolve(event: LedgerEvent): void;
  reject(error: Error): void;
}

type Listener = (event: LedgerEvent) => void;

interface Subscriber {
  next: number;
  live: boolean;
  onEvent: Listener;
}

const nextUlid = monotonicFactory();

type RepairPayload = PayloadOf<'ledger.repaired'>;

/**
 * The `ledger.repaired` payloads a run still owes: the tail cut just now, and any `.broken-*`
 * file of this run that no event names (a crash between the cut and its event).
 */
function unrecordedCuts(logDir: string, recovery: RunRecovery, recorded: ReadonlySet<string>): RepairPayload[] {
  const cuts: RepairPayload[] = [];
  if (recovery.truncated) {
    const { reason, truncatedBytes, brokenFile, keptThroughSeq } = recovery.truncated;
    cuts.push({ reason, truncatedBytes, brokenFile, keptThroughSeq });
  }
  const prefix = `${recovery.runId}.ndjson.broken-`;
  for (const name of fs.readdirSync(logDir).sort()) {
    if (!name.startsWith(prefix) || recorded.has(name) || cuts.some((cut) => cut.brokenFile === name)) continue;
    cuts.push({
      reason: 'bytes cut by an earlier recovery that was interrupted before recording it',
      truncatedBytes: fs.statSync(path.join(logDir, name)).size,
      brokenFile: name,
      keptThroughSeq: recovery.scan.lastSeq,
    });
  }
  return cuts;
}

/** Validates what a producer hands to `append`; the error names every offending field. */
function parseAppendInput(input: unknown): AppendInput {
  const parsed = EventBody.safeParse(input);
  const generation = (input as { generation?: unknown } | null)?.generation;
  const generationOk = generation === undefined || (Number.isSafeInteger(generation) && (generation as number) >= 0);
  if (parsed.success && generationOk) {
    return generation === undefined ? parsed.data : { ...parsed.data, generation: generation as number };
  }
  const issues = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  if (!generationOk) issues.push('generation: expected a non-negative integer');
  throw new LedgerError('invalid_event', `Refused an invalid "${String((input as { type?: unknown } | null)?.type)}" event: ${issues.join('; ')}`);
}

/**
 * The authoritative event log (I1, I2): every event goes to the run's NDJSON file (written,
 * fdatasync'd), then to SQLite (one transaction per batch), and only then is its append
 * resolved. Appends that arrive together share one write, one sync and one transaction.
 */
export class Ledger {
  readonly dataDir: string;
  readonly readOnly: boolean;
  recovery: RecoveryReport = { runs: [], repaired: [], quarantined: [] };

  private readonly paths: ReturnType<typeof ledgerPaths>;
  private readonly store: SqliteStore;
  private readonly releaseLock: () => void;
  private readonly now: () => Date;
  private readonly streamWindowMs: number;
  private readonly entries = new Map<string, RunEntry>();
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private failure: Error | null = null;
  private closed = false;
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly commitListeners = new Set<Listener>();
  private readonly onListenerError: (error: unknown, event: LedgerEvent) => void;

  /** Use `openLedger`. */
  constructor(options: OpenLedgerOptions) {
    this.dataDir = options.dataDir;
    this.readOnly = options.readOnly ?? false;
    this.now = options.now ?? (() => new Date());
    this.streamWindowMs = options.streamWindowMs ?? DEFAULT_STREAM_WINDOW_MS;
    this.onListenerError =
      options.onListenerError ??
      ((error, event) => process.stderr.write(`keel ledger: a subscriber failed on ${event.run_id}#${event.seq}: ${String(error)}\n`));
    this.paths = ledgerPaths(options.dataDir);
    if (!this.readOnly) {
      ensurePrivateDir(options.dataDir);
      ensurePrivateDir(this.paths.logDir);
    }
    this.releaseLock = this.readOnly ? () => {} : acquireWriterLock(this.paths.lock);
    try {
      this.store = new SqliteStore(openDatabase(this.paths.database, { readOnly: this.readOnly }));
    } catch (error) {
      this.releaseLock();
      throw error;
    }
  }

  /** Validates every log, cuts torn tails, quarantines damage, backfills SQLite (I3). */
  async recover(): Promise<RecoveryReport> {
    const report: RecoveryReport = { runs: [], repaired: [], quarantined: [] };
    const onDisk = new Set<string>();
    for (const name of fs.readdirSync(this.paths.logDir).sort()) {
      const runId = runIdOfLogFile(name);
      if (!runId) continue;
      onDisk.add(runId);
      const recovery = recoverRun(this.store, runId, this.paths.logOf(runId), this.now());
      report.runs.push(recovery);
      if (recovery.outcome !== 'emptied') this.entries.set(runId, this.entryFromRecovery(recovery));
      if (recovery.quarantineReason) report.quarantined.push(runId);
    }
    // Runs SQLite knows but whose log is gone: every event there is unexpected.
    for (const summary of this.store.runs()) {
      if (onDisk.has(summary.id)) continue;
      const extent = this.store.extent(summary.id);
      if (extent.count === 0 && summary.quarantined) continue;
      const reason = `the NDJSON log is missing; SQLite holds events 1..${extent.maxSeq}; run \`keel ledger repair --from-sqlite ${summary.id}\` after checking them`;
      this.store.setQuarantine(summary.id, reason);
      report.quarantined.push(summary.id);
      this.entries.set(summary.id, {
        runId: summary.id,
        log: new RunLog(this.paths.logOf(summary.id)),
        lastSeq: 0,
        lastHash: genesisHash(summary.id),
        quarantine: reason,
        readOnly: summary.readOnly,
        dirSynced: false,
      });
    }
    for (const recovery of report.runs) {
      if (recovery.outcome === 'emptied' || recovery.quarantineReason) continue;
      // Every cut tail gets its event: this one's, and any an earlier crash left unrecorded.
      const recorded = this.store.recordedBrokenFiles(recovery.runId);
      for (const cut of unrecordedCuts(this.paths.logDir, recovery, recorded)) {
        await this.enqueue(recovery.runId, { type: 'ledger.repaired', payload: cut }, {}, true);
        if (!report.repaired.includes(recovery.runId)) report.repaired.push(recovery.runId);
      }
    }
    this.recovery = report;
    return report;
  }

  private entryFromRecovery(recovery: RunRecovery): RunEntry {
    const readOnly = this.store.run(recovery.runId)?.readOnly ?? false;
    return {
      runId: recovery.runId,
      log: new RunLog(this.paths.logOf(recovery.runId)),
      lastSeq: recovery.scan.lastSeq,
      lastHash: recovery.scan.lastHash,
      quarantine: recovery.quarantineReason ?? null,
      readOnly,
      dirSynced: true,
    };
  }

  /** A fresh, time-ordered run id. */
  newRunId(): string {
    return nextUlid();
  }

  /**
   * Appends one event to a run. A new run starts with `run.created`. Resolves with the stored
   * record once it is durable in both stores; rejects, writing nothing, on invalid input.
   */
  append(runId: string, input: AppendInput, options: AppendOptions = {}): Promise<LedgerEvent> {
    return this.enqueue(runId, input, options, false);
  }

  /** `recoveryRecord`: recovery's own `ledger.repaired`, which must land even on a read-only (imported) run. */
  private enqueue(runId: string, input: AppendInput, options: AppendOptions, recoveryRecord: boolean): Promise<LedgerEvent> {
    try {
      this.assertWritable();
      if (!RunId.safeParse(runId).success) throw new LedgerError('invalid_event', `"${runId}" is not a valid run id.`);
      const body = parseAppendInput(input);
      const entry = this.entryFor(runId, body.type, recoveryRecord);
      let sealed: ReturnType<typeof seal>;
      try {
        sealed = seal({
          schema_version: LEDGER_SCHEMA_VERSION,
          run_id: runId,
          seq: entry.lastSeq + 1,
          ts: this.now().toISOString(),
          type: body.type,
          ...(body.generation === undefined ? {} : { generation: body.generation }),
          payload: body.payload,
          prev: entry.lastHash,
        });
      } catch (error) {
        throw new LedgerError('invalid_event', `Refused a "${body.type}" event that has no JSON encoding: ${(error as Error).message}`);
      }
      const { event, line } = sealed;
      const bytes = Buffer.from(`${line}\n`);
      const text = line;
      if (bytes.length > MAX_RECORD_BYTES) {
        throw new LedgerError('record_too_large', `A ${body.type} record of ${bytes.length} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit.`);
      }
      // Registered only now: a refused run.created leaves no half-created run behind.
      if (!this.entries.has(runId)) this.entries.set(runId, entry);
      entry.lastSeq = event.seq;
      entry.lastHash = event.hash;
      return new Promise<LedgerEvent>((resolve, reject) => {
        this.queue.push({ entry, event, line: bytes, text, resolve, reject });
        this.queuedBytes += bytes.length;
        this.schedule(options.durability ?? 'critical');
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private assertWritable(): void {
    if (this.closed) throw new LedgerError('ledger_closed', 'The ledger is closed.');
    if (this.readOnly) throw new LedgerError('read_only_ledger', 'This ledger was opened read-only.');
    if (this.failure) {
      throw new LedgerError('ledger_failed', `The ledger stopped accepting writes after a storage failure (${this.failure.message}); reopen it to recover.`);
    }
  }

  /** The run an event goes to; a new run's entry is returned unregistered (see enqueue). */
  private entryFor(runId: string, type: string, recoveryRecord: boolean): RunEntry {
    const existing = this.entries.get(runId);
    if (!existing) {
      if (type !== 'run.created') throw new LedgerError('unknown_run', `Run ${runId} does not exist; its first event must be run.created.`);
      return {
        runId,
        log: new RunLog(this.paths.logOf(runId)),
        lastSeq: 0,
        lastHash: genesisHash(runId),
        quarantine: null,
        readOnly: false,
        dirSynced: false,
      };
    }
    if (existing.quarantine) throw new LedgerError('run_quarantined', `Run ${runId} is quarantined: ${existing.quarantine}`);
    if (existing.readOnly && !recoveryRecord) throw new LedgerError('run_read_only', `Run ${runId} was imported and is read-only.`);
    if (type === 'run.created') throw new LedgerError('run_exists', `Run ${runId} already exists.`);
    return existing;
  }

  private schedule(durability: Durability): void {
    if (this.immediate) return;
    if (durability === 'critical' || this.queuedBytes >= MAX_BATCH_BYTES) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.immediate = setImmediate(() => this.flush());
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.streamWindowMs);
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
    if (this.failure) {
      this.rejectAll(batch, this.failure);
      return;
    }
    const lines = new Map<RunEntry, Buffer[]>();
    for (const pending of batch) {
      const list = lines.get(pending.entry);
      if (list) list.push(pending.line);
      else lines.set(pending.entry, [pending.line]);
    }
    const before = new Map<RunEntry, number>();
    try {
      for (const [entry, chunks] of lines) {
        before.set(entry, entry.log.size);
        entry.log.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      }
      for (const entry of lines.keys()) {
        entry.log.sync();
        if (!entry.dirSynced) {
          fsyncDir(this.paths.logDir);
          entry.dirSynced = true;
        }
      }
      this.store.insertBatch(batch.map((pending) => ({ event: pending.event, line: pending.text })));
    } catch (error) {
      for (const [entry, size] of before) entry.log.rollbackTo(size);
      this.fail(error instanceof Error ? error : new Error(String(error)), batch);
      return;
    }
    for (const [entry, chunks] of lines) entry.log.size += chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    for (const pending of batch) pending.resolve(pending.event);
    for (const pending of batch) this.publish(pending.event);
  }

  private fail(error: Error, batch: Pending[]): void {
    this.failure = error;
    const wrapped = new LedgerError('ledger_failed', `Storage failure; nothing in this batch was acknowledged: ${error.message}`, { cause: error });
    this.rejectAll(batch, wrapped);
    this.rejectAll(this.queue.splice(0), wrapped);
  }

  private rejectAll(batch: Pending[], error: Error): void {
    for (const pending of batch) pending.reject(error);
  }

  private publish(event: LedgerEvent): void {
    for (const listener of this.commitListeners) this.deliver(listener, event);
    const subscribers = this.subscribers.get(event.run_id);
    if (!subscribers) return;
    for (const subscriber of subscribers) {
      if (!subscriber.live || event.seq < subscriber.next) continue;
      subscriber.next = event.seq + 1;
      this.deliver(subscriber.onEvent, event);
    }
  }

  /** A listener that throws is reported, never allowed to starve the others or crash the host. */
  private deliver(listener: Listener, event: LedgerEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onListenerError(error, event);
    }
  }

  /** Committed events of a run from `fromSeq`, at most `limit`. */
  read(runId: string, options: { fromSeq?: number; limit?: number } = {}): LedgerEvent[] {
    return this.store.read(runId, options.fromSeq ?? 1, options.limit ?? 1000).map((record) => JSON.parse(record) as LedgerEvent);
  }

  /**
   * History from `fromSeq`, then live events, in order, without gaps or repeats. History is
   * delivered in chunks across event-loop turns so a long run never blocks the host.
   */
  subscribe(runId: string, fromSeq: number, onEvent: Listener): () => void {
    const subscriber: Subscriber = { next: Math.max(1, fromSeq), live: false, onEvent };
    let set = this.subscribers.get(runId);
    if (!set) this.subscribers.set(runId, (set = new Set()));
    set.add(subscriber);
    let active = true;
    const catchUp = () => {
      if (!active || this.closed) return;
      const page = this.read(runId, { fromSeq: subscriber.next, limit: 1000 });
      for (const event of page) {
        if (!active) return;
        subscriber.next = event.seq + 1;
        this.deliver(onEvent, event);
      }
      // Reads and commits share this thread: nothing can commit between the read and going live.
      if (page.length < 1000) subscriber.live = true;
      else setImmediate(catchUp);
    };
    setImmediate(catchUp);
    return () => {
      active = false;
      set.delete(subscriber);
    };
  }

  /** Every committed event of every run, live only (for run lists and the host). */
  onCommit(listener: Listener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Every run's summary (the runs projection), ordered by creation. */
  runs(): RunSummary[] {
    return this.store.runs();
  }

  /** One run's summary, or undefined for a run this ledger does not hold. A map lookup, not a scan. */
  run(runId: string): RunSummary | undefined {
    return this.store.run(runId);
  }

  health(): LedgerHealth {
    return {
      status: this.failure ? 'failed' : 'ok',
      error: this.failure ? this.failure.message : null,
      quarantinedRuns: this.store.runs().filter((run) => run.quarantined).map((run) => run.id),
    };
  }

  private quarantineOf(runId: string): string | null {
    const entry = this.entries.get(runId);
    if (entry) return entry.quarantine;
    return this.store.run(runId)?.quarantineReason ?? null;
  }

  private allRunIds(): string[] {
    const ids = new Set(this.store.runIds());
    if (fs.existsSync(this.paths.logDir)) {
      for (const name of fs.readdirSync(this.paths.logDir)) {
        const runId = runIdOfLogFile(name);
        if (runId) ids.add(runId);
      }
    }
    return [...ids].sort();
  }

  /** Compares both stores per run; `ok` only if every run agrees and none is quarantined. */
  verify(runId?: string): VerifyReport {
    const ids = runId ? [runId] : this.allRunIds();
    // Read-only beside a live writer, NDJSON may run ahead of SQLite by the batch in flight.
    const runs = ids.map((id) => verifyRun(this.store, id, this.paths.logOf(id), this.quarantineOf(id), this.readOnly));
    return { ok: runs.every((run) => run.agree && !run.quarantined), runs };
  }

  /** Copies a run's log byte for byte to `outFile` (atomically). */
  export(runId: string, outFile: string): { bytes: number } {
    const file = this.paths.logOf(runId);
    if (!fs.existsSync(file)) throw new LedgerError('unknown_run', `Run ${runId} has no log to export.`);
    const bytes = fs.statSync(file).size;
    copyRangeAtomic(file, outFile, 0, bytes);
    return { bytes };
  }

  /** Stores a run exported elsewhere, chain verified, read-only. */
  import(file: string): { runId: string; count: number; alreadyPresent: boolean } {
    this.assertWritable();
    const result = importRunLog(this.store, this.paths, file);
    if (!result.alreadyPresent) {
      this.entries.set(result.runId, {
        runId: result.runId,
        log: new RunLog(this.paths.logOf(result.runId)),
        lastSeq: result.count,
        lastHash: result.lastHash,
        quarantine: null,
        readOnly: true,
        dirSynced: true,
      });
    }
    return { runId: result.runId, count: result.count, alreadyPresent: result.alreadyPresent };
  }

  /** Copies NDJSON records SQLite lacks into SQLite; skips logs unchanged since their marker. */
  backfill(): RunBackfill[] {
    this.assertWritable();
    return this.allRunIds()
      .filter((id) => fs.existsSync(this.paths.logOf(id)))
      .map((id) => backfillRun(this.store, id, this.paths.logOf(id)));
  }

  /** The explicit, human-approved way to write SQLite-only events back into the NDJSON log. */
  repairFromSqlite(runId: string): { appended: number } {
    this.assertWritable();
    const result = repairFromSqlite(this.store, this.paths, runId);
    const entry = this.entries.get(runId);
    if (entry) {
      entry.quarantine = null;
      entry.lastSeq = result.lastSeq;
      entry.lastHash = result.lastHash;
      entry.log = new RunLog(this.paths.logOf(runId));
    }
    return { appended: result.appended };
  }

  /** Writes what is queued (unless failed), then releases files, database and lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.queue.length > 0) this.flush();
    this.closed = true;
    for (const entry of this.entries.values()) entry.log.close();
    this.subscribers.clear();
    this.commitListeners.clear();
    this.store.close();
    this.releaseLock();
  }
}

/** Opens (and, unless read-only, recovers) the ledger in a data directory. */
export async function openLedger(options: OpenLedgerOptions): Promise<Ledger> {
  const ledger = new Ledger(options);
  if (!ledger.readOnly) {
    try {
      await ledger.recover();
    } catch (error) {
      await ledger.close();
      throw error;
    }
  }
  return ledger;
}
