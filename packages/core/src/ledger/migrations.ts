import type { Database } from 'better-sqlite3';
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { AGENT_EXIT_TYPES, foldAgentExit } from './projection.js';
import { foldUsageColumn, USAGE_EVENT_TYPES, type ToolCallSeen } from './usage-projection.js';

/** A numbered, forward-only schema change. `PRAGMA user_version` holds the last applied number. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

/** The event types that say which processes a run started and saw end (host-crash reconciliation). */
export const PROCESS_FACT_TYPES = ['runtime.started', 'runtime.exited', 'terminal.started', 'terminal.exited'] as const;
/** The partial index's condition; a query must state it the same way for SQLite to use the index. */
export const PROCESS_FACTS_WHERE = `type IN (${PROCESS_FACT_TYPES.map((type) => `'${type}'`).join(', ')})`;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events and runs projection',
    up(db) {
      db.exec(`
        CREATE TABLE events (
          run_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          ts TEXT NOT NULL,
          type TEXT NOT NULL,
          generation INTEGER,
          hash TEXT NOT NULL,
          record TEXT NOT NULL,
          PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID;
        CREATE TABLE runs (
          id TEXT PRIMARY KEY,
          state TEXT NOT NULL,
          created TEXT NOT NULL,
          updated TEXT NOT NULL,
          last_seq INTEGER NOT NULL,
          last_hash TEXT NOT NULL,
          quarantined INTEGER NOT NULL DEFAULT 0,
          quarantine_reason TEXT
        );
      `);
    },
  },
  {
    version: 2,
    name: 'imported read-only runs',
    up(db) {
      db.exec(`
        ALTER TABLE runs ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN origin TEXT NOT NULL DEFAULT 'local';
      `);
    },
  },
  {
    version: 3,
    name: 'backfill markers',
    up(db) {
      db.exec(`
        CREATE TABLE backfill_markers (
          run_id TEXT PRIMARY KEY,
          through_seq INTEGER NOT NULL,
          log_bytes INTEGER NOT NULL,
          at TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 4,
    name: 'runs projection: workspace, agent, title, stop reason',
    up(db) {
      db.exec(`
        ALTER TABLE runs ADD COLUMN workspace TEXT;
        ALTER TABLE runs ADD COLUMN agent TEXT;
        ALTER TABLE runs ADD COLUMN title TEXT;
        ALTER TABLE runs ADD COLUMN stop_reason TEXT;
        UPDATE runs SET
          workspace = (SELECT json_extract(record, '$.payload.workspace') FROM events WHERE events.run_id = runs.id AND type = 'run.created'),
          agent = (SELECT json_extract(record, '$.payload.agent') FROM events WHERE events.run_id = runs.id AND type = 'run.created'),
          title = (SELECT json_extract(record, '$.payload.title') FROM events WHERE events.run_id = runs.id AND type = 'run.created'),
          stop_reason = (SELECT json_extract(record, '$.payload.stopReason') FROM events
                         WHERE events.run_id = runs.id AND type = 'run.state' ORDER BY seq DESC LIMIT 1);
      `);
    },
  },
  {
    version: 5,
    name: 'runs.created is the time of the run\'s first event',
    up(db) {
      // Earlier builds took the newest event of the run's first batch (a whole backfill batch
      // after keel.db was rebuilt). Runs whose seq-1 record is not readable JSON keep theirs.
      db.exec(`
        UPDATE runs SET created = (
          SELECT json_extract(record, '$.ts') FROM events WHERE events.run_id = runs.id AND events.seq = 1
        )
        WHERE EXISTS (
          SELECT 1 FROM events WHERE events.run_id = runs.id AND events.seq = 1
            AND json_valid(record) AND json_type(record, '$.ts') = 'text'
        );
      `);
    },
  },
  {
    version: 6,
    name: 'verified markers record the chain head',
    up(db) {
      // Existing markers keep a NULL head: open validates those logs whole once, then records it.
      // Idempotent, like 7 and 8: a database whose user_version was set back replays them.
      const columns = db.prepare('PRAGMA table_info(backfill_markers)').all() as Array<{ name: string }>;
      if (!columns.some((column) => column.name === 'head_hash')) db.exec('ALTER TABLE backfill_markers ADD COLUMN head_hash TEXT;');
    },
  },
  {
    version: 7,
    name: 'fold snapshots',
    up(db) {
      // A fold's state after `seq` events of a run, written by the fold's own code at `fold_version`;
      // rows of another version are ignored and replaced (see fold-snapshots.ts).
      db.exec(`
        CREATE TABLE IF NOT EXISTS fold_snapshots (
          run_id TEXT NOT NULL,
          fold TEXT NOT NULL,
          fold_version INTEGER NOT NULL,
          seq INTEGER NOT NULL,
          at TEXT NOT NULL,
          data BLOB NOT NULL,
          PRIMARY KEY (run_id, fold, seq)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 8,
    name: 'process facts index',
    up(db) {
      // Host-crash reconciliation reads a run's process events (see PROCESS_FACT_TYPES) without
      // scanning the rest of the run; the partial index holds only those rows.
      db.exec(`CREATE INDEX IF NOT EXISTS events_process_facts ON events (run_id, seq) WHERE ${PROCESS_FACTS_WHERE};`);
    },
  },
  {
    version: 9,
    name: 'runs projection: usage',
    up(db) {
      // Issue 15 point 25: the run list shows each run's usage from its row. `run_tool_calls`
      // holds the tool call ids each run has seen (usage counts distinct ones). Idempotent.
      const columns = db.prepare('PRAGMA table_info(runs)').all() as Array<{ name: string }>;
      if (!columns.some((column) => column.name === 'usage')) db.exec('ALTER TABLE runs ADD COLUMN usage TEXT;');
      db.exec(`
        CREATE TABLE IF NOT EXISTS run_tool_calls (
          run_id TEXT NOT NULL,
          tool_call_id TEXT NOT NULL,
          PRIMARY KEY (run_id, tool_call_id)
        ) WITHOUT ROWID;
      `);
      backfillUsage(db);
    },
  },
  {
    version: 10,
    name: 'repairs index',
    up(db) {
      // Open looks up which `.broken-*` files a run's ledger.repaired events name (issue 16: a run
      // cut once must not cost a read of all its events on every open); the partial index holds only those rows.
      db.exec(`CREATE INDEX IF NOT EXISTS events_repairs ON events (run_id, seq) WHERE type = 'ledger.repaired';`);
    },
  },
  {
    version: 11,
    name: 'runs projection: agent exit',
    up(db) {
      // Host-crash reconciliation and `keel runs` ask of every idle run whether its newest agent's
      // exit is recorded (issue 16): one column of the row they read anyway, not a query over the
      // run's process events per run. Backfilled from those events (their partial index), once.
      const columns = new Set((db.prepare('PRAGMA table_info(runs)').all() as Array<{ name: string }>).map((column) => column.name));
      if (!columns.has('agent_generation')) db.exec('ALTER TABLE runs ADD COLUMN agent_generation INTEGER NOT NULL DEFAULT 0;');
      if (!columns.has('agent_exited')) db.exec('ALTER TABLE runs ADD COLUMN agent_exited INTEGER NOT NULL DEFAULT 1;');
      backfillAgentExit(db);
    },
  },
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;

/** Applies every migration above the database's version, each in its own transaction. */
export function migrate(db: Database, upTo = LATEST_SCHEMA_VERSION): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > LATEST_SCHEMA_VERSION) {
    throw new Error(`keel.db has schema version ${current}, newer than this Keel (${LATEST_SCHEMA_VERSION}); refusing to open it.`);
  }
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current || migration.version > upTo) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    })();
    applied.push(migration.version);
  }
  return applied;
}

/**
 * Folds every run's usage from its stored events, in seq order (the events that move usage
 * only), with the store's own fold; a record that is not JSON is passed over (verify reports it).
 */
function backfillUsage(db: Database): void {
  db.exec('DELETE FROM run_tool_calls;');
  const insertToolCall = db.prepare('INSERT OR IGNORE INTO run_tool_calls (run_id, tool_call_id) VALUES (?, ?)');
  const isNewToolCall: ToolCallSeen = (runId, toolCallId) => insertToolCall.run(runId, toolCallId).changes === 1;
  const setUsage = db.prepare('UPDATE runs SET usage = ? WHERE id = ?');
  const types = USAGE_EVENT_TYPES.map((type) => `'${type}'`).join(', ');
  const records = db.prepare(`SELECT record FROM events WHERE run_id = ? AND type IN (${types}) ORDER BY seq`).pluck();
  for (const runId of db.prepare('SELECT id FROM runs').pluck().all() as string[]) {
    let usage: string | null = null;
    for (const record of records.all(runId) as unknown[]) {
      let event: LedgerEvent | null;
      try {
        event = JSON.parse(String(record)) as LedgerEvent | null;
      } catch {
        continue;
      }
      if (event === null || typeof event !== 'object' || event.run_id !== runId) continue;
      usage = foldUsageColumn(usage, event, isNewToolCall);
    }
    setUsage.run(usage, runId);
  }
}

/** Folds every run's runtime.started/exited records into its agent exit columns (migration 11). */
function backfillAgentExit(db: Database): void {
  const agentExitOf = agentExitReader(db);
  const write = db.prepare('UPDATE runs SET agent_generation = @agent_generation, agent_exited = @agent_exited WHERE id = @id');
  for (const id of db.prepare('SELECT id FROM runs').pluck().all() as string[]) write.run({ id, ...agentExitOf(id) });
}

/**
 * A run's agent exit columns folded (foldAgentExit) from all its runtime.started/exited records
 * in seq order, read through the process facts' index (the statement prepared once per reader);
 * a record that is not JSON is passed over (verify reports it).
 */
export function agentExitReader(db: Database): (runId: string) => { agent_generation: number; agent_exited: number } {
  const types = [...AGENT_EXIT_TYPES].map((type) => `'${type}'`).join(', ');
  const facts = db
    .prepare(`SELECT type, record FROM events INDEXED BY events_process_facts WHERE run_id = ? AND ${PROCESS_FACTS_WHERE} AND type IN (${types}) ORDER BY seq`)
    .raw();
  return (runId) => {
    const state = { agent_generation: 0, agent_exited: 1 };
    for (const [type, record] of facts.all(runId) as Array<[string, unknown]>) {
      let payload: unknown;
      try {
        payload = (JSON.parse(String(record)) as { payload?: unknown } | null)?.payload;
      } catch {
        continue;
      }
      foldAgentExit(state, { type, payload } as Pick<LedgerEvent, 'type' | 'payload'>);
    }
    return state;
  };
}
