import type Database from 'better-sqlite3';
import type { LedgerEvent, RunSummary } from '../contract/schemas/ledger.js';
import { hashAndLine } from './hash-chain.js';
import { agentExitReader, PROCESS_FACTS_WHERE } from './migrations.js';
import { AGENT_EXIT_TYPES, foldProjection, PROJECTED_COLUMNS, type RunProjection } from './projection.js';
import { byCreated, summaryOf, type RunRow } from './run-summary.js';
import type { ToolCallSeen } from './usage-projection.js';
import type { VerifiedMarker } from './verified-marker.js';

/** One `events` row, every column as SQLite holds it (values are whatever is stored, unchecked). */
export interface StoredEventRow {
  run_id: unknown;
  seq: number;
  ts: unknown;
  type: unknown;
  generation: unknown;
  hash: unknown;
  record: unknown;
}

/** One events row as `skim` reads it. */
export interface SkimmedRow {
  seq: number;
  type: string;
  generation: number | null;
  record: string | null;
}

export interface BatchRecord {
  event: LedgerEvent;
  line: string;
}

/** A run's verified marker as a batch moves it (see VerifiedMarker). */
export interface MarkerUpdate extends VerifiedMarker {
  runId: string;
}

const SELECT_PROJECTION = `SELECT ${PROJECTED_COLUMNS.join(', ')} FROM runs WHERE id = ?`;
const WRITE_PROJECTION = `
  INSERT INTO runs (id, ${PROJECTED_COLUMNS.join(', ')})
  VALUES (@id, ${PROJECTED_COLUMNS.map((column) => `@${column}`).join(', ')})
  ON CONFLICT(id) DO UPDATE SET ${PROJECTED_COLUMNS.map((column) => `${column} = excluded.${column}`).join(', ')}
`;
const INSERT_TOOL_CALL = 'INSERT OR IGNORE INTO run_tool_calls (run_id, tool_call_id) VALUES (?, ?)';

/** The SQLite half of the ledger: events plus the runs projection, written one transaction per batch. */
export class SqliteStore {
  readonly db: Database.Database;
  /**
   * The runs projection in memory: a copy of the `runs` table, read whole on first use. Every
   * write through this store marks the runs it touched, and a marked row is read again (by
   * primary key) before it is next handed out, so a rolled-back transaction leaves nothing
   * behind. Only a writable store keeps it: a read-only one may sit beside a live writer.
   * Summaries handed out are frozen snapshots.
   */
  private summaries: Map<string, RunSummary> | null = null;
  private readonly touched = new Set<string>();
  private readonly selectRun: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private upsertMarkerStatement: Database.Statement | null = null;
  private readonly insertBatchTx: (records: readonly BatchRecord[], markers: readonly MarkerUpdate[]) => void;

  constructor(db: Database.Database) {
    this.db = db;
    this.selectRun = db.prepare('SELECT * FROM runs WHERE id = ?');
    this.insertEvent = db.prepare(
      'INSERT OR IGNORE INTO events (run_id, seq, ts, type, generation, hash, record) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    // Prepared on first use (a read-only store may sit on a keel.db of an older schema).
    const selectProjection = () => this.statement(SELECT_PROJECTION);
    const writeProjection = () => this.statement(WRITE_PROJECTION);
    // A tool call id new to its run (usage counts distinct ones): one primary-key insert, in the batch's transaction.
    const isNewToolCall: ToolCallSeen = (runId, toolCallId) => this.statement(INSERT_TOOL_CALL).run(runId, toolCallId).changes === 1;
    this.insertBatchTx = db.transaction((records: readonly BatchRecord[], markers: readonly MarkerUpdate[]) => {
      // Each touched run's projection: its stored row with this batch's new events folded in
      // (the same fold verify checks the table against).
      const projections = new Map<string, RunProjection>();
      // Runs where an agent's start or exit filled a gap: their agent columns are folded again from all their facts below.
      const refoldAgent = new Set<string>();
      for (const { event, line } of records) {
        const inserted = this.insertEvent.run(event.run_id, event.seq, event.ts, event.type, event.generation ?? null, event.hash, line);
        if (inserted.changes === 0) continue;
        const base = projections.get(event.run_id) ?? (selectProjection().get(event.run_id) as RunProjection | undefined) ?? null;
        if (base && event.seq <= base.last_seq && AGENT_EXIT_TYPES.has(event.type)) refoldAgent.add(event.run_id);
        projections.set(event.run_id, foldProjection(base, event, isNewToolCall));
      }
      if (refoldAgent.size > 0) {
        const agentExitOf = agentExitReader(db);
        for (const runId of refoldAgent) Object.assign(projections.get(runId)!, agentExitOf(runId));
      }
      for (const [id, projection] of projections) writeProjection().run({ id, ...projection });
      this.writeMarkers(markers);
    });
  }

  /** Prepared on first use: a read-only store may sit on a keel.db of an older schema. */
  private get upsertMarker(): Database.Statement {
    this.upsertMarkerStatement ??= this.db.prepare(
      'INSERT INTO backfill_markers (run_id, through_seq, log_bytes, head_hash, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(run_id) DO UPDATE SET through_seq = excluded.through_seq, log_bytes = excluded.log_bytes, head_hash = excluded.head_hash, at = excluded.at',
    );
    return this.upsertMarkerStatement;
  }

  /**
   * Inserts events (idempotently: existing seqs are left alone) and projects them, in one
   * transaction; `markers` (the writer's: logs it has just written and synced) move in the same
   * transaction, so a marker never claims records SQLite lost.
   */
  insertBatch(records: readonly BatchRecord[], markers: readonly MarkerUpdate[] = []): void {
    try {
      this.insertBatchTx(records, markers);
    } finally {
      for (const { event } of records) this.touched.add(event.run_id);
    }
  }

  /** How many events SQLite holds for a run and the highest seq among them. */
  extent(runId: string): { count: number; maxSeq: number } {
    const row = this.statement('SELECT count(*) AS count, coalesce(max(seq), 0) AS maxSeq FROM events WHERE run_id = ?').get(runId) as {
      count: number;
      maxSeq: number;
    };
    return row;
  }

  /**
   * What open needs to find a run's acknowledged boundary without counting all its rows: the
   * highest seq (an index seek) and how many rows lie above `seq` (the part past a marker).
   */
  extentAbove(runId: string, seq: number): { countAbove: number; maxSeq: number } {
    const maxSeq = (this.statement('SELECT coalesce(max(seq), 0) FROM events WHERE run_id = ?').pluck().get(runId) as number) ?? 0;
    const countAbove = this.statement('SELECT count(*) FROM events WHERE run_id = ? AND seq > ?').pluck().get(runId, seq) as number;
    return { countAbove, maxSeq };
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** A prepared statement, prepared once per store (open runs a few per run). */
  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  /** Makes sure a run has a projection row even when none of its events could be stored. */
  ensureRun(runId: string, ts: string): void {
    this.db
      .prepare("INSERT OR IGNORE INTO runs (id, state, created, updated, last_seq, last_hash) VALUES (?, 'created', ?, ?, 0, '')")
      .run(runId, ts, ts);
    this.touched.add(runId);
  }

  /**
   * The hash of the run's newest stored event, read from its record, not from the derived `hash`
   * column; null when there is none or the record does not hold up (not JSON, another run or
   * seq, not the canonical encoding of its content and hash).
   */
  lastHashOf(runId: string): string | null {
    const row = this.db.prepare('SELECT seq, record FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1').get(runId) as
      | { seq: number; record: unknown }
      | undefined;
    if (!row || typeof row.record !== 'string') return null;
    try {
      const event = JSON.parse(row.record) as LedgerEvent;
      if (event === null || typeof event !== 'object' || event.run_id !== runId || event.seq !== row.seq || typeof event.hash !== 'string') return null;
      const { hash, ...unhashed } = event;
      return hashAndLine(unhashed).line === row.record ? hash : null;
    } catch {
      return null;
    }
  }

  read(runId: string, fromSeq: number, limit: number): string[] {
    return (
      this.statement('SELECT record FROM events WHERE run_id = ? AND seq >= ? ORDER BY seq LIMIT ?').pluck().all(runId, fromSeq, limit) as string[]
    );
  }

  /** Records of a run after `afterSeq` whose type is one of `types`, at most `limit`, in seq order (SQLite filters). */
  readTypes(runId: string, types: readonly string[], afterSeq: number, limit: number): Array<{ seq: number; record: string }> {
    if (types.length === 0) return [];
    return this.statement(`SELECT seq, record FROM events WHERE run_id = ? AND seq > ? AND type IN (${types.map(() => '?').join(', ')}) ORDER BY seq LIMIT ?`).all(
      runId,
      afterSeq,
      ...types,
      limit,
    ) as Array<{ seq: number; record: string }>;
  }

  /**
   * Committed events of a run from `fromSeq`, at most `limit`, as their seq, type and generation
   * columns, with the record only when the type is one of `recordsOf` (else null): a pass over a
   * long run that parses only the records it needs.
   */
  skim(runId: string, fromSeq: number, limit: number, recordsOf: readonly string[]): SkimmedRow[] {
    const types = recordsOf.length > 0 ? recordsOf.map(() => '?').join(', ') : 'NULL';
    return this.statement(
      `SELECT seq, type, generation, CASE WHEN type IN (${types}) THEN record END AS record FROM events WHERE run_id = ? AND seq >= ? ORDER BY seq LIMIT ?`,
    ).all(...recordsOf, runId, fromSeq, limit) as SkimmedRow[];
  }

  /**
   * A run's process events (PROCESS_FACT_TYPES: which agents and commands it started and saw
   * end), in seq order, read through their partial index without touching the run's other rows.
   */
  processFacts(runId: string): string[] {
    return this.db
      .prepare(`SELECT record FROM events INDEXED BY events_process_facts WHERE run_id = ? AND ${PROCESS_FACTS_WHERE} ORDER BY seq`)
      .pluck()
      .all(runId) as string[];
  }

  /**
   * Whether a run's newest agent generation has a recorded exit (true when none ever started, or
   * for a run with no row): the runs projection's `agent_exited` (foldAgentExit), one row read.
   */
  lastGenerationExited(runId: string): boolean {
    return (this.statement('SELECT agent_exited FROM runs WHERE id = ?').pluck().get(runId) ?? 1) === 1;
  }

  /**
   * The broken-file names a run's `ledger.repaired` events in SQLite give, through their partial
   * index (migration 10; without INDEXED BY SQLite walks every row of the run). A record that does
   * not parse names nothing: the caller then reads the log for it.
   */
  repairedBrokenFiles(runId: string): Set<string> {
    const records = this.statement("SELECT record FROM events INDEXED BY events_repairs WHERE run_id = ? AND type = 'ledger.repaired'")
      .pluck()
      .all(runId) as string[];
    const names = new Set<string>();
    for (const record of records) {
      try {
        const name = (JSON.parse(record) as { payload?: { brokenFile?: unknown } } | null)?.payload?.brokenFile;
        if (typeof name === 'string') names.add(name);
      } catch {
        // not JSON: verify reports the row
      }
    }
    return names;
  }

  /** Every run's summary, ordered by creation, with its projected head hash (last_hash): one read of the table. */
  runsWithHeads(): { runs: RunSummary[]; heads: Map<string, string>; agentExited: Map<string, boolean> } {
    const rows = this.statement('SELECT * FROM runs ORDER BY created, id').all() as RunRow[];
    return {
      runs: rows.map(summaryOf),
      heads: new Map(rows.map((row) => [row.id, row.last_hash])),
      agentExited: new Map(rows.map((row) => [row.id, row.agent_exited !== 0])),
    };
  }

  /** Every events row of a run, every column, in seq order (one statement, one snapshot). */
  *rows(runId: string): Generator<StoredEventRow> {
    yield* this.db
      .prepare('SELECT run_id, seq, ts, type, generation, hash, record FROM events WHERE run_id = ? ORDER BY seq')
      .iterate(runId) as Iterable<StoredEventRow>;
  }

  /** A run's `runs` row as stored, unchecked. */
  runRow(runId: string): RunRow | undefined {
    return this.selectRun.get(runId) as RunRow | undefined;
  }

  /** Runs `read` in one read transaction, so every statement in it sees the same snapshot. */
  snapshot<T>(read: () => T): T {
    return this.db.transaction(read)();
  }

  /** `PRAGMA quick_check`: SQLite's own structural check of every page (b-trees, free space, freelist). */
  quickCheck(): { ok: boolean; messages: string[] } {
    try {
      const messages = (this.db.pragma('quick_check') as Array<{ quick_check: string }>).map((row) => row.quick_check);
      return { ok: messages.length === 1 && messages[0] === 'ok', messages };
    } catch (error) {
      return { ok: false, messages: [`quick_check failed: ${(error as Error).message}`] };
    }
  }

  /** The schema version (`PRAGMA user_version`) of the open database. */
  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * Every run id SQLite knows. A table SQLite cannot read gives what the other holds (and then
   * nothing): the ids still reach `verify`, which reports the damage run by run.
   */
  runIds(): string[] {
    for (const sql of ['SELECT DISTINCT run_id FROM events UNION SELECT id FROM runs', 'SELECT id FROM runs', 'SELECT DISTINCT run_id FROM events']) {
      try {
        return this.db.prepare(sql).pluck().all() as string[];
      } catch {
        // try the next
      }
    }
    return [];
  }

  /** Every run's summary, ordered by creation. */
  runs(): RunSummary[] {
    if (this.db.readonly) return (this.db.prepare('SELECT * FROM runs ORDER BY created, id').all() as RunRow[]).map(summaryOf);
    return [...this.projection().values()].sort(byCreated);
  }

  /** One run's summary: a map lookup in a writable store, a primary-key read in a read-only one. */
  run(runId: string): RunSummary | undefined {
    if (this.db.readonly) return this.readRun(runId);
    return this.projection().get(runId);
  }

  private readRun(runId: string): RunSummary | undefined {
    const row = this.selectRun.get(runId) as RunRow | undefined;
    return row ? summaryOf(row) : undefined;
  }

  private projection(): Map<string, RunSummary> {
    if (!this.summaries) {
      this.touched.clear();
      const rows = this.db.prepare('SELECT * FROM runs').all() as RunRow[];
      this.summaries = new Map(rows.map((row) => [row.id, summaryOf(row)]));
      return this.summaries;
    }
    for (const runId of this.touched) {
      const summary = this.readRun(runId);
      if (summary) this.summaries.set(runId, summary);
      else this.summaries.delete(runId);
    }
    this.touched.clear();
    return this.summaries;
  }

  setQuarantine(runId: string, reason: string | null): void {
    // Most opens find every run as it was: skip the write (and, outside a transaction, its sync).
    if (!this.db.readonly && this.summaries && !this.touched.has(runId)) {
      const current = this.summaries.get(runId);
      if (current && current.quarantineReason === reason && current.quarantined === (reason !== null)) return;
    }
    this.statement('UPDATE runs SET quarantined = ?, quarantine_reason = ? WHERE id = ?').run(reason === null ? 0 : 1, reason, runId);
    this.touched.add(runId);
  }

  /** Removes every row of a run (events, projection, marker, fold snapshots) in one transaction: `Ledger.forgetRun`. */
  forgetRun(runId: string): void {
    this.db.transaction(() => {
      for (const table of ['events', 'backfill_markers', 'fold_snapshots', 'run_tool_calls']) this.db.prepare(`DELETE FROM ${table} WHERE run_id = ?`).run(runId);
      this.db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
    })();
    this.touched.add(runId);
  }

  markImported(runId: string): void {
    this.db.prepare("UPDATE runs SET read_only = 1, origin = 'imported' WHERE id = ?").run(runId);
    this.touched.add(runId);
  }

  marker(runId: string): VerifiedMarker | null {
    const row = this.statement('SELECT through_seq, log_bytes, head_hash FROM backfill_markers WHERE run_id = ?').get(runId) as
      | { through_seq: number; log_bytes: number; head_hash: string | null }
      | undefined;
    return row ? { throughSeq: row.through_seq, logBytes: row.log_bytes, headHash: row.head_hash } : null;
  }

  /** Every run's verified marker, in one read. */
  markers(): Map<string, VerifiedMarker> {
    const rows = this.db.prepare('SELECT run_id, through_seq, log_bytes, head_hash FROM backfill_markers').all() as Array<{
      run_id: string;
      through_seq: number;
      log_bytes: number;
      head_hash: string | null;
    }>;
    return new Map(rows.map((row) => [row.run_id, { throughSeq: row.through_seq, logBytes: row.log_bytes, headHash: row.head_hash }]));
  }

  /** Forgets a run's marker: the next open validates its log whole. */
  forgetMarker(runId: string): void {
    this.db.prepare('DELETE FROM backfill_markers WHERE run_id = ?').run(runId);
  }

  /** Moves the writer's markers (logs it wrote and synced, rows already committed) in one transaction. */
  moveMarkers(markers: readonly MarkerUpdate[]): void {
    this.db.transaction(() => this.writeMarkers(markers))();
  }

  private writeMarkers(markers: readonly MarkerUpdate[]): void {
    if (markers.length === 0) return;
    const at = new Date().toISOString();
    for (const marker of markers) this.upsertMarker.run(marker.runId, marker.throughSeq, marker.logBytes, marker.headHash, at);
  }

  /** Records a marker; without `headHash` (imports, repairs) open will not resume from it. */
  setMarker(runId: string, throughSeq: number, logBytes: number, headHash: string | null = null): void {
    this.upsertMarker.run(runId, throughSeq, logBytes, headHash, new Date().toISOString());
  }

  close(): void {
    this.db.close();
  }
}
