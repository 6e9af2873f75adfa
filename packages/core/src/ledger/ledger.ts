import fs from 'node:fs';
import { monotonicFactory } from 'ulid';
import {
  RunId,
  type AppendInput,
  type LedgerEvent,
  type LedgerCheck,
  type LedgerHealth,
  type RunSummary,
  type VerifyReport,
} from '../contract/schemas/ledger.js';
import { ensurePrivateDir, fsyncDir } from '../fsutil/index.js';
import { parseAppendInput, sealRecord } from './append-record.js';
import { backfillRun, type RunBackfill } from './backfill.js';
import { BackgroundCheck, laterCalls, NO_CALLS, type CallsInFlight } from './background-check.js';
import { FoldSnapshots } from './fold-snapshots.js';
import { CommitFanOut, type Listener } from './commit-fan-out.js';
import { LedgerError } from './errors.js';
import { DEFAULT_STREAM_WINDOW_MS, GroupCommit } from './group-commit.js';
import { acquireWriterLock } from './lock.js';
import { recoverOnOpen, type RecoveryReport } from './open-recovery.js';
import { ledgerPaths, runIdOfLogFile } from './paths.js';
import { runEntry, type RunEntry } from './run-entry.js';
import { RunLog } from './run-log.js';
import { openDatabaseReadOnly } from './read-only-database.js';
import { openDatabase } from './database.js';
import { SqliteStore } from './sqlite-store.js';
import { exportChunks, exportToFile, type ExportResult } from './export-log.js';
import { importRunLog, type ImportOptions, type ImportResult } from './import-log.js';
import { repairFromSqlite } from './repair-from-sqlite.js';
import { verifyLedger } from './verify.js';
import type { AppendOptions, OpenLedgerOptions, SkimmedEvent } from './ledger-options.js';

const nextUlid = monotonicFactory();

/**
 * The authoritative event log (I1, I2): every event goes to the run's NDJSON file (written,
 * fdatasync'd), then to SQLite (one transaction per batch), and only then is its append
 * resolved. Appends that arrive together share one write, one sync and one transaction.
 */
export class Ledger {
  readonly dataDir: string;
  readonly readOnly: boolean;
  recovery: RecoveryReport = { runs: [], repaired: [], quarantined: [] };
  /** Persisted fold snapshots: start a fold of a run from the nearest one at or before a seq. */
  readonly snapshots: FoldSnapshots;

  private readonly paths: ReturnType<typeof ledgerPaths>;
  private readonly store: SqliteStore;
  private readonly releaseLock: () => void;
  private readonly now: () => Date;
  private readonly entries = new Map<string, RunEntry>();
  private readonly fanOut: CommitFanOut;
  private readonly groupCommit: GroupCommit;
  private readonly backgroundCheckEnabled: boolean;
  private calls: CallsInFlight = NO_CALLS;
  private check: BackgroundCheck | null = null;
  private closed = false;

  /** Use `openLedger`. */
  constructor(options: OpenLedgerOptions) {
    this.dataDir = options.dataDir;
    this.readOnly = options.readOnly ?? false;
    this.now = options.now ?? (() => new Date());
    this.backgroundCheckEnabled = options.backgroundCheck ?? true;
    this.fanOut = new CommitFanOut({
      read: (runId, fromSeq, limit) => this.read(runId, { fromSeq, limit }),
      onListenerError: options.onListenerError,
    });
    this.paths = ledgerPaths(options.dataDir);
    if (!this.readOnly) {
      ensurePrivateDir(options.dataDir);
      ensurePrivateDir(this.paths.logDir);
    }
    this.releaseLock = this.readOnly ? () => {} : acquireWriterLock(this.paths.lock);
    try {
      this.store = new SqliteStore(this.readOnly ? openDatabaseReadOnly(this.paths.database) : openDatabase(this.paths.database));
    } catch (error) {
      this.releaseLock();
      throw error;
    }
    this.snapshots = new FoldSnapshots(this.store.db);
    this.groupCommit = new GroupCommit({
      store: this.store,
      logDir: this.paths.logDir,
      streamWindowMs: options.streamWindowMs ?? DEFAULT_STREAM_WINDOW_MS,
      publish: (event) => this.fanOut.publish(event),
      current: (runId) => this.entries.get(runId),
    });
  }

  /** Validates every log, cuts torn tails, quarantines damage, backfills SQLite (I3). */
  async recover(): Promise<RecoveryReport> {
    this.recovery = await recoverOnOpen({
      store: this.store,
      paths: this.paths,
      now: () => this.now(),
      entries: this.entries,
      recordRepair: (runId, cut) => this.enqueue(runId, { type: 'ledger.repaired', payload: cut }, {}, true),
    });
    if (this.backgroundCheckEnabled) {
      this.check?.stop();
      this.check = new BackgroundCheck({
        prefixes: this.recovery.runs
          .filter((run) => run.resumedFrom && run.outcome !== 'emptied' && !run.quarantineReason)
          .map((run) => ({ runId: run.runId, file: this.paths.logOf(run.runId), through: run.resumedFrom! })),
        onDamage: (runId, reason) => this.quarantineTrusted(runId, reason),
        now: () => this.now(),
        calls: laterCalls(() => this.calls),
        forgotten: (runId) => !this.entries.has(runId),
      });
    }
    return this.recovery;
  }

  /** The background check steps aside while these are busy (the host has a client's call in flight). */
  yieldBackgroundCheckTo(calls: CallsInFlight): void {
    this.calls = calls;
  }

  /**
   * Settles when the background check of what open trusted has finished (at once when there
   * was none): every damaged run is quarantined by then.
   */
  async backgroundCheck(): Promise<LedgerCheck | null> {
    return this.check ? this.check.done : null;
  }

  /** Damage the background check found behind a verified marker: acknowledged records, so quarantine, as open would. */
  private quarantineTrusted(runId: string, reason: string): void {
    if (this.closed) return;
    this.store.db.transaction(() => {
      this.store.setQuarantine(runId, reason);
      this.store.forgetMarker(runId);
    })();
    const entry = this.entries.get(runId);
    if (entry) entry.quarantine = reason;
    if (!this.recovery.quarantined.includes(runId)) this.recovery.quarantined.push(runId);
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
      const { event, text, bytes } = sealRecord(runId, body, entry, () => this.now());
      // Registered only now: a refused run.created leaves no half-created run behind.
      if (!this.entries.has(runId)) this.entries.set(runId, entry);
      entry.lastSeq = event.seq;
      entry.lastHash = event.hash;
      return this.groupCommit.add(entry, event, text, bytes, options.durability ?? 'critical');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private assertWritable(): void {
    if (this.closed) throw new LedgerError('ledger_closed', 'The ledger is closed.');
    if (this.readOnly) throw new LedgerError('read_only_ledger', 'This ledger was opened read-only.');
    const failure = this.groupCommit.failure;
    if (failure) {
      throw new LedgerError('ledger_failed', `The ledger stopped accepting writes after a storage failure (${failure.message}); reopen it to recover.`);
    }
  }

  /** The run an event goes to; a new run's entry is returned unregistered (see enqueue). */
  private entryFor(runId: string, type: string, recoveryRecord: boolean): RunEntry {
    const existing = this.entries.get(runId);
    if (!existing) {
      if (type !== 'run.created') throw new LedgerError('unknown_run', `Run ${runId} does not exist; its first event must be run.created.`);
      return runEntry(runId, this.paths.logOf(runId));
    }
    if (existing.quarantine) throw new LedgerError('run_quarantined', `Run ${runId} is quarantined: ${existing.quarantine}`);
    if (existing.readOnly && !recoveryRecord) throw new LedgerError('run_read_only', `Run ${runId} was imported and is read-only.`);
    if (type === 'run.created') throw new LedgerError('run_exists', `Run ${runId} already exists.`);
    return existing;
  }

  /** Committed events of a run from `fromSeq`, at most `limit`. */
  read(runId: string, options: { fromSeq?: number; limit?: number } = {}): LedgerEvent[] {
    return this.store.read(runId, options.fromSeq ?? 1, options.limit ?? 1000).map((record) => JSON.parse(record) as LedgerEvent);
  }

  /**
   * Every committed event of a run after `afterSeq` (default: all) whose type is one of `types`,
   * in order, read a page at a time: a fold of a long run that needs a few kinds of events (its
   * checkpoints, its run state) never holds the others, nor all of its own, in memory.
   */
  *eventsOfTypes(runId: string, types: readonly string[], options: { afterSeq?: number; pageSize?: number } = {}): Generator<LedgerEvent> {
    const pageSize = options.pageSize ?? 5_000;
    for (let after = options.afterSeq ?? 0; ; ) {
      const page = this.store.readTypes(runId, types, after, pageSize);
      for (const row of page) yield JSON.parse(row.record) as LedgerEvent;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.seq;
    }
  }

  /**
   * Committed events of a run from `fromSeq`, at most `limit`, each as its seq, type and
   * generation, and the whole event only when its type is one of `recordsOf` (else null): what a
   * pass over a long run reads when it needs the payloads of a few types only.
   */
  skim(runId: string, options: { fromSeq: number; limit: number; recordsOf: readonly string[] }): SkimmedEvent[] {
    return this.store.skim(runId, options.fromSeq, options.limit, options.recordsOf).map((row) => ({
      seq: row.seq,
      type: row.type,
      generation: row.generation,
      event: row.record === null ? null : (JSON.parse(row.record) as LedgerEvent),
    }));
  }

  /**
   * A run's process events only (runtime.started/exited, terminal.started/exited), in order:
   * what host-crash reconciliation needs, read without loading the run's other events.
   */
  processFacts(runId: string): LedgerEvent[] {
    return this.store.processFacts(runId).map((record) => JSON.parse(record) as LedgerEvent);
  }

  /** Whether the run's newest agent generation has a recorded exit (true when none started): its runs row's `agent_exited` (projected from its process events), no events read. */
  lastGenerationExited(runId: string): boolean {
    return this.store.lastGenerationExited(runId);
  }

  /**
   * History from `fromSeq`, then live events, in order, without gaps or repeats. History is
   * delivered in chunks across event-loop turns so a long run never blocks the host.
   */
  subscribe(runId: string, fromSeq: number, onEvent: Listener): () => void {
    return this.fanOut.subscribe(runId, fromSeq, onEvent);
  }

  /** Every committed event of every run, live only (for run lists and the host). */
  onCommit(listener: Listener): () => void {
    return this.fanOut.onCommit(listener);
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
    const failure = this.groupCommit.failure;
    return {
      status: failure ? 'failed' : 'ok',
      error: failure ? failure.message : null,
      quarantinedRuns: this.store.runs().filter((run) => run.quarantined).map((run) => run.id),
      ...(this.check ? { check: this.check.state } : {}),
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

  /** Compares both stores per run and checks keel.db; `ok` only if all is sound, every run agrees and none is quarantined. */
  verify(runId?: string): VerifyReport {
    const ids = runId ? [runId] : this.allRunIds();
    // Read-only beside a live writer, NDJSON may run ahead of SQLite by the batch in flight.
    const runs = ids.map((id) => ({ runId: id, file: this.paths.logOf(id), quarantineReason: this.quarantineOf(id) }));
    return verifyLedger(this.store, runs, this.readOnly);
  }

  /**
   * Writes a run's export to `outFile` atomically: the log's complete, chained records byte for
   * byte, then with `trailer` (what `keel ledger export` writes) the trailer line that lets an
   * import tell a whole export from a truncated one. A log damaged in the middle is written
   * whole, as it is, without a trailer (`damage` says where).
   */
  export(runId: string, outFile: string, options: { trailer?: boolean } = {}): ExportResult {
    return exportToFile(this.paths.logOf(runId), runId, outFile, { trailer: options.trailer ?? false });
  }

  /** The same export as chunks, for a stream; the generator returns what `export` would. */
  exportChunks(runId: string, options: { trailer?: boolean } = {}): Generator<Buffer, ExportResult> {
    return exportChunks(this.paths.logOf(runId), runId, { trailer: options.trailer ?? false });
  }

  /**
   * Stores a run exported elsewhere, chain verified, read-only; extends an earlier import of a
   * shorter export of the same chain. See `importRunLog` for the checks and bounds.
   */
  import(file: string, options: ImportOptions = {}): ImportResult {
    this.assertWritable();
    const { lastHash, ...result } = importRunLog(this.store, this.paths, file, options);
    if (!result.alreadyPresent) {
      this.entries.get(result.runId)?.log.close();
      this.entries.set(
        result.runId,
        runEntry(result.runId, this.paths.logOf(result.runId), {
          lastSeq: result.count,
          lastHash,
          quarantine: this.store.run(result.runId)?.quarantineReason ?? null,
          readOnly: true,
          dirSynced: true,
        }),
      );
    }
    return result;
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

  /**
   * Deletes a run from the ledger, files and all: the person asked for it (run list management,
   * `keel runs delete --files`). SQLite's rows go first, then the NDJSON log and the `.broken-*`
   * copies beside it: a crash in between leaves the log, which the next open backfills (the run
   * comes back rather than half-gone). The caller makes sure no controller writes to the run.
   */
  forgetRun(runId: string): { removedFiles: string[] } {
    this.assertWritable();
    if (!RunId.safeParse(runId).success || (!this.store.run(runId) && !fs.existsSync(this.paths.logOf(runId)))) {
      throw new LedgerError('unknown_run', `Run ${runId} does not exist.`);
    }
    this.groupCommit.flushQueued();
    this.entries.get(runId)?.log.close();
    this.entries.delete(runId);
    this.store.forgetRun(runId);
    const removedFiles: string[] = [];
    const log = this.paths.logOf(runId);
    for (const name of fs.existsSync(this.paths.logDir) ? fs.readdirSync(this.paths.logDir) : []) {
      const file = `${this.paths.logDir}/${name}`;
      if (file !== log && !name.startsWith(`${runId}.ndjson.broken-`)) continue;
      fs.rmSync(file, { force: true });
      removedFiles.push(file);
    }
    if (removedFiles.length > 0) fsyncDir(this.paths.logDir);
    return { removedFiles };
  }

  /** Writes what is queued (unless failed), then releases files, database and lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.groupCommit.flushQueued();
    this.check?.stop();
    this.closed = true;
    for (const entry of this.entries.values()) entry.log.close();
    this.fanOut.close();
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
