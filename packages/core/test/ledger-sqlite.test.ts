// keel.db (I2, I10, DESIGN §5): durability pragmas on every open, one test per numbered
// migration (rows written before it survive it), and refusal of a newer schema.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, migrate, migrations, openDatabase, openLedger } from '../src/ledger/index.js';
import { PROCESS_FACTS_WHERE } from '../src/ledger/migrations.js';
import { SqliteStore } from '../src/ledger/sqlite-store.js';
import type { LedgerEvent } from '../src/contract/index.js';
import { chunk, created, readAll } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-sqlite-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshFile = () => path.join(root, `db-${++counter}.db`);

const columns = (db: Database.Database, table: string) =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string; dflt_value: string | null; notnull: number }>).map((c) => c.name);
const tables = (db: Database.Database) =>
  db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
const userVersion = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;

/** A v1 events row and runs row, as Keel 0.1 wrote them. */
function insertV1Rows(db: Database.Database): void {
  db.prepare('INSERT INTO events (run_id, seq, ts, type, generation, hash, record) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    'run-old',
    1,
    '2025-01-01T00:00:00.000Z',
    'run.created',
    null,
    'a'.repeat(64),
    '{"old":"record"}',
  );
  db.prepare('INSERT INTO runs (id, state, created, updated, last_seq, last_hash, quarantined, quarantine_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    'run-old',
    'running',
    '2025-01-01T00:00:00.000Z',
    '2025-01-01T00:00:01.000Z',
    1,
    'a'.repeat(64),
    1,
    'kept reason',
  );
}

function expectV1RowsSurvive(db: Database.Database): void {
  expect(db.prepare('SELECT run_id, seq, type, hash, record FROM events').all()).toEqual([
    { run_id: 'run-old', seq: 1, type: 'run.created', hash: 'a'.repeat(64), record: '{"old":"record"}' },
  ]);
  expect(db.prepare('SELECT id, state, last_seq, quarantined, quarantine_reason FROM runs').get()).toEqual({
    id: 'run-old',
    state: 'running',
    last_seq: 1,
    quarantined: 1,
    quarantine_reason: 'kept reason',
  });
}

/** Per migration: rows to write at version N-1, and what must hold after N. */
const migrationTests: Record<number, { seed(db: Database.Database): void; check(db: Database.Database): void }> = {
  1: {
    seed(db) {
      expect(tables(db)).toEqual([]);
    },
    check(db) {
      expect(tables(db)).toEqual(['events', 'runs']);
      expect(columns(db, 'events')).toEqual(['run_id', 'seq', 'ts', 'type', 'generation', 'hash', 'record']);
      expect(columns(db, 'runs')).toEqual(['id', 'state', 'created', 'updated', 'last_seq', 'last_hash', 'quarantined', 'quarantine_reason']);
      // (run_id, seq) is the key: a second copy of an event is refused.
      insertV1Rows(db);
      expect(() =>
        db.prepare("INSERT INTO events (run_id, seq, ts, type, hash, record) VALUES ('run-old', 1, 't', 'x', 'h', 'r')").run(),
      ).toThrow(/UNIQUE|PRIMARY KEY/);
    },
  },
  2: {
    seed: insertV1Rows,
    check(db) {
      expect(columns(db, 'runs')).toEqual(expect.arrayContaining(['read_only', 'origin']));
      expectV1RowsSurvive(db);
      // Existing runs are local and writable.
      expect(db.prepare('SELECT read_only, origin FROM runs WHERE id = ?').get('run-old')).toEqual({ read_only: 0, origin: 'local' });
    },
  },
  3: {
    seed(db) {
      insertV1Rows(db);
      db.prepare("UPDATE runs SET read_only = 1, origin = 'imported' WHERE id = 'run-old'").run();
    },
    check(db) {
      expect(tables(db)).toContain('backfill_markers');
      expect(columns(db, 'backfill_markers')).toEqual(['run_id', 'through_seq', 'log_bytes', 'at']);
      expectV1RowsSurvive(db);
      expect(db.prepare('SELECT read_only, origin FROM runs').get()).toEqual({ read_only: 1, origin: 'imported' });
      expect(db.prepare('SELECT count(*) FROM backfill_markers').pluck().get()).toBe(0);
    },
  },
  4: {
    seed(db) {
      // A run written before the projection knew workspaces: its facts live only in its events.
      const record = (seq: number, type: string, payload: unknown) => JSON.stringify({ run_id: 'run-v3', seq, type, payload });
      db.prepare("INSERT INTO runs (id, state, created, updated, last_seq, last_hash) VALUES ('run-v3', 'stopped', 't', 't', 3, 'h')").run();
      const insert = db.prepare("INSERT INTO events (run_id, seq, ts, type, hash, record) VALUES ('run-v3', ?, 't', ?, 'h', ?)");
      insert.run(1, 'run.created', record(1, 'run.created', { workspace: '/w', agent: { kind: 'builtin', script: 'hello' }, title: 'old run' }));
      insert.run(2, 'run.state', record(2, 'run.state', { state: 'idle', stopReason: 'end_turn' }));
      insert.run(3, 'run.state', record(3, 'run.state', { state: 'stopped', stopReason: 'runtime_stopped' }));
    },
    check(db) {
      expect(columns(db, 'runs')).toEqual(expect.arrayContaining(['workspace', 'agent', 'title', 'stop_reason']));
      // Existing runs are back-filled from their own events, latest state change winning.
      expect(db.prepare("SELECT workspace, agent, title, stop_reason FROM runs WHERE id = 'run-v3'").get()).toEqual({
        workspace: '/w',
        agent: JSON.stringify({ kind: 'builtin', script: 'hello' }),
        title: 'old run',
        stop_reason: 'runtime_stopped',
      });
    },
  },
  5: {
    seed(db) {
      // As older builds projected them: `created` from the newest event of the run's first batch.
      const record = (runId: string, seq: number, ts: string) => JSON.stringify({ run_id: runId, seq, ts, type: seq === 1 ? 'run.created' : 'note' });
      const insert = db.prepare("INSERT INTO events (run_id, seq, ts, type, hash, record) VALUES (?, ?, ?, 'note', 'h', ?)");
      const run = db.prepare("INSERT INTO runs (id, state, created, updated, last_seq, last_hash, stop_reason) VALUES (?, 'idle', ?, ?, ?, 'h', 'end_turn')");
      insert.run('run-rebuilt', 1, '2025-01-01T00:00:00.000Z', record('run-rebuilt', 1, '2025-01-01T00:00:00.000Z'));
      insert.run('run-rebuilt', 2, '2025-01-01T00:00:09.000Z', record('run-rebuilt', 2, '2025-01-01T00:00:09.000Z'));
      run.run('run-rebuilt', '2025-01-01T00:00:09.000Z', '2025-01-01T00:00:09.000Z', 2);
      // A seq-1 record SQLite cannot read keeps its created; so does a run without events.
      insert.run('run-damaged', 1, '2025-02-01T00:00:00.000Z', '{"run_id":"run-damaged","ts":');
      run.run('run-damaged', '2025-02-01T00:00:05.000Z', '2025-02-01T00:00:05.000Z', 1);
      run.run('run-empty', '2025-03-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z', 0);
    },
    check(db) {
      expect(db.prepare('SELECT id, state, created, updated, last_seq, stop_reason FROM runs ORDER BY id').all()).toEqual([
        { id: 'run-damaged', state: 'idle', created: '2025-02-01T00:00:05.000Z', updated: '2025-02-01T00:00:05.000Z', last_seq: 1, stop_reason: 'end_turn' },
        { id: 'run-empty', state: 'idle', created: '2025-03-01T00:00:00.000Z', updated: '2025-03-01T00:00:00.000Z', last_seq: 0, stop_reason: 'end_turn' },
        { id: 'run-rebuilt', state: 'idle', created: '2025-01-01T00:00:00.000Z', updated: '2025-01-01T00:00:09.000Z', last_seq: 2, stop_reason: 'end_turn' },
      ]);
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(3);
    },
  },
  6: {
    seed(db) {
      db.prepare("INSERT INTO backfill_markers (run_id, through_seq, log_bytes, at) VALUES ('run-old', 7, 900, '2025-01-01T00:00:00.000Z')").run();
    },
    check(db) {
      // An older marker has no head: open will not trust it, and validates that log whole once.
      expect(db.prepare('SELECT run_id, through_seq, log_bytes, head_hash FROM backfill_markers').all()).toEqual([
        { run_id: 'run-old', through_seq: 7, log_bytes: 900, head_hash: null },
      ]);
    },
  },
  7: {
    seed(db) {
      db.prepare("INSERT INTO runs (id, state, created, updated, last_seq, last_hash) VALUES ('run-kept', 'idle', 't', 't', 0, '')").run();
    },
    check(db) {
      expect(db.prepare('SELECT id FROM runs').pluck().all()).toEqual(['run-kept']);
      db.prepare("INSERT INTO fold_snapshots (run_id, fold, fold_version, seq, at, data) VALUES ('run-kept', 'run-view', 1, 10, 't', x'00')").run();
      expect(() =>
        db.prepare("INSERT INTO fold_snapshots (run_id, fold, fold_version, seq, at, data) VALUES ('run-kept', 'run-view', 2, 10, 't', x'00')").run(),
      ).toThrow(/UNIQUE/);
    },
  },
  8: {
    seed(db) {
      const insert = db.prepare("INSERT INTO events (run_id, seq, ts, type, hash, record) VALUES ('run-p', ?, 't', ?, 'h', '{}')");
      ['run.created', 'runtime.started', 'message.chunk', 'terminal.started', 'terminal.exited', 'runtime.exited'].forEach((type, i) => insert.run(i + 1, type));
    },
    check(db) {
      // INDEXED BY fails to prepare unless the partial index can answer the query.
      const sql = `SELECT seq FROM events INDEXED BY events_process_facts WHERE run_id = 'run-p' AND ${PROCESS_FACTS_WHERE} ORDER BY seq`;
      expect(db.prepare(sql).pluck().all()).toEqual([2, 4, 5, 6]);
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(6);
    },
  },
  9: {
    seed(db) {
      // A run with a turn, a tool call restated and updated, and a usage report; and a run with none.
      db.prepare("INSERT INTO runs (id, state, created, updated, last_seq, last_hash) VALUES ('run-u', 'idle', 't', 't', 6, 'h'), ('run-none', 'idle', 't', 't', 0, '')").run();
      const insert = db.prepare("INSERT INTO events (run_id, seq, ts, type, hash, record) VALUES ('run-u', ?, ?, ?, 'h', ?)");
      const bodies: Array<[string, object]> = [
        ['prompt.sent', { turn: 1, text: 'hi', ik: 'ik:1' }],
        ['tool.started', { toolCallId: 'c1', title: 'Read' }],
        ['tool.started', { toolCallId: 'c1', title: 'Read a.txt' }],
        ['tool.updated', { toolCallId: 'c1', status: 'completed' }],
        ['usage.reported', { tokens: { input: 100, output: 20, total: 120 }, cost: { session: 's1', amount: 0.5, currency: 'USD' }, source: 'acp:usage_update' }],
        ['turn.ended', { turn: 1, stopReason: 'end_turn' }],
      ];
      bodies.forEach(([type, payload], i) => {
        const ts = new Date(Date.parse('2030-01-01T00:00:00.000Z') + i * 1000).toISOString();
        insert.run(i + 1, ts, type, JSON.stringify({ run_id: 'run-u', seq: i + 1, ts, type, payload }));
      });
    },
    check(db) {
      const usage = JSON.parse(db.prepare("SELECT usage FROM runs WHERE id = 'run-u'").pluck().get() as string) as Record<string, unknown>;
      expect(usage).toMatchObject({ tokens: { input: 100, output: 20, total: 120 }, cost: [{ amount: 0.5, currency: 'USD' }], toolCalls: 1, durationMs: 5000, turnSince: null });
      expect(db.prepare("SELECT usage FROM runs WHERE id = 'run-none'").pluck().get()).toBeNull();
      expect(db.prepare('SELECT run_id, tool_call_id FROM run_tool_calls').all()).toEqual([{ run_id: 'run-u', tool_call_id: 'c1' }]);
    },
  },
  10: {
    seed(db) {
      const insert = db.prepare("INSERT INTO events (run_id, seq, ts, type, hash, record) VALUES (?, ?, 't', ?, 'h', '{}')");
      ['run.created', 'message.chunk', 'ledger.repaired', 'message.chunk', 'ledger.repaired'].forEach((type, i) => insert.run('run-r', i + 1, type));
      insert.run('run-other', 1, 'ledger.repaired');
    },
    check(db) {
      // INDEXED BY fails to prepare unless the partial index can answer the store's query.
      const sql = "SELECT seq FROM events INDEXED BY events_repairs WHERE run_id = 'run-r' AND type = 'ledger.repaired' ORDER BY seq";
      expect(db.prepare(sql).pluck().all()).toEqual([3, 5]);
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(6);
    },
  },
  11: {
    seed(db) {
      // An agent that exited, one left running, an exit of a generation never started after a clean one, and a run with none.
      const run = db.prepare("INSERT INTO runs (id, state, created, updated, last_seq, last_hash) VALUES (?, 'idle', 't', 't', 0, 'h')");
      for (const id of ['run-exited', 'run-live', 'run-odd', 'run-none']) run.run(id);
      const insert = db.prepare("INSERT INTO events (run_id, seq, ts, type, hash, record) VALUES (?, ?, 't', ?, 'h', ?)");
      const facts: Array<[string, string, number]> = [
        ['run-exited', 'runtime.started', 1],
        ['run-exited', 'runtime.exited', 1],
        ['run-exited', 'runtime.started', 2],
        ['run-exited', 'runtime.exited', 2],
        ['run-live', 'runtime.started', 1],
        ['run-live', 'runtime.exited', 1],
        ['run-live', 'runtime.started', 2],
        ['run-odd', 'runtime.started', 1],
        ['run-odd', 'runtime.exited', 1],
        ['run-odd', 'runtime.exited', 2],
      ];
      const seqs = new Map<string, number>();
      for (const [runId, type, generation] of facts) {
        const seq = (seqs.get(runId) ?? 0) + 1;
        seqs.set(runId, seq);
        insert.run(runId, seq, type, JSON.stringify({ run_id: runId, seq, type, payload: { generation } }));
      }
      insert.run('run-live', 4, 'terminal.started', '{"payload":{"generation":9}}');
    },
    check(db) {
      expect(columns(db, 'runs')).toEqual(expect.arrayContaining(['agent_generation', 'agent_exited']));
      expect(db.prepare('SELECT id, agent_generation, agent_exited FROM runs ORDER BY id').all()).toEqual([
        { id: 'run-exited', agent_generation: 2, agent_exited: 1 },
        { id: 'run-live', agent_generation: 2, agent_exited: 0 },
        { id: 'run-none', agent_generation: 0, agent_exited: 1 },
        { id: 'run-odd', agent_generation: 1, agent_exited: 1 },
      ]);
    },
  },
};

describe('keel.db durability pragmas', () => {
  // ADR 0008: the ledger runs synchronous=NORMAL in WAL; NDJSON's fdatasync is the durable write.
  it('the ledger’s database runs synchronous=NORMAL in WAL mode, checked after setting; FULL stays available and is checked too', () => {
    const file = freshFile();
    const first = openDatabase(file);
    expect(first.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(first.pragma('synchronous', { simple: true })).toBe(1);
    first.close();
    const full = openDatabase(file, { synchronous: 'full' });
    expect(full.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(full.pragma('synchronous', { simple: true })).toBe(2);
    full.close();
    const second = openDatabase(file);
    expect(second.pragma('synchronous', { simple: true })).toBe(1);
    second.close();
    const readOnly = openDatabase(file, { readOnly: true });
    expect(readOnly.pragma('synchronous', { simple: true })).toBe(1);
    readOnly.close();
  });

  it('the ledger’s own connection runs synchronous=NORMAL in WAL mode after a reopen', async () => {
    const dataDir = path.join(root, 'ledger-pragmas');
    for (let open = 0; open < 2; open++) {
      const ledger = await openLedger({ dataDir });
      const runId = ledger.newRunId();
      await ledger.append(runId, created());
      await ledger.close();
    }
    const db = openDatabase(path.join(dataDir, 'keel.db'));
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(userVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    db.close();
  });
});

describe('keel.db migrations', () => {
  it('are numbered 1..N without gaps, and each has a dedicated test below', () => {
    expect(migrations.map((migration) => migration.version)).toEqual(migrations.map((_, index) => index + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(migrations.length);
    expect(Object.keys(migrationTests).map(Number).sort((a, b) => a - b)).toEqual(migrations.map((migration) => migration.version));
  });

  for (const migration of migrations) {
    it(`migration ${migration.version} (${migration.name}) applies on a version-${migration.version - 1} database and keeps its rows`, () => {
      const test = migrationTests[migration.version];
      expect(test, `migration ${migration.version} needs an entry in migrationTests`).toBeDefined();
      const db = new Database(freshFile());
      try {
        expect(migrate(db, migration.version - 1)).toEqual(migrations.slice(0, migration.version - 1).map((m) => m.version));
        expect(userVersion(db)).toBe(migration.version - 1);
        test!.seed(db);
        expect(migrate(db, migration.version)).toEqual([migration.version]);
        expect(userVersion(db)).toBe(migration.version);
        test!.check(db);
        // Applying again is a no-op.
        expect(migrate(db, migration.version)).toEqual([]);
      } finally {
        db.close();
      }
    });
  }

  it('a database migrated step by step equals one migrated at once', () => {
    const stepwise = new Database(freshFile());
    const atOnce = new Database(freshFile());
    for (const migration of migrations) migrate(stepwise, migration.version);
    migrate(atOnce);
    const schema = (db: Database.Database) => db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all();
    expect(schema(stepwise)).toEqual(schema(atOnce));
    stepwise.close();
    atOnce.close();
  });

  it('a ledger written by the current schema reopens and reads (migrations are not re-applied)', async () => {
    const dataDir = path.join(root, 'reopen');
    const ledger = await openLedger({ dataDir });
    const runId = ledger.newRunId();
    await ledger.append(runId, created());
    await ledger.append(runId, chunk('kept'));
    await ledger.close();
    const again = await openLedger({ dataDir });
    expect(readAll(again, runId).map((event) => event.type)).toEqual(['run.created', 'message.chunk']);
    expect(again.verify().ok).toBe(true);
    await again.close();
  });

  it('refuses a database with a newer user_version, with a clear error, and leaves it untouched', async () => {
    const file = freshFile();
    openDatabase(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    raw.close();
    const before = fs.readFileSync(file);
    expect(() => openDatabase(file)).toThrow(new RegExp(`schema version ${LATEST_SCHEMA_VERSION + 1}, newer than this Keel \\(${LATEST_SCHEMA_VERSION}\\)`));
    expect(fs.readFileSync(file).equals(before)).toBe(true);

    // Through the ledger: refused, and the writer lock is released again.
    const dataDir = path.join(root, 'newer');
    const ledger = await openLedger({ dataDir });
    await ledger.close();
    const db = new Database(path.join(dataDir, 'keel.db'));
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    db.close();
    await expect(openLedger({ dataDir })).rejects.toThrow(/newer than this Keel/);
    // The refused open released the writer lock: a read-only open and a new lock both work.
    expect(fs.existsSync(path.join(dataDir, 'ledger.lock.owner'))).toBe(false);
    const { acquireWriterLock } = await import('../src/ledger/lock.js');
    acquireWriterLock(path.join(dataDir, 'ledger.lock'))();
  });
});

describe('the runs projection of an agent’s exit', () => {
  const record = (seq: number, type: string, payload: object) => {
    const event = { schema_version: 1, run_id: 'run-g', seq, ts: `2030-01-01T00:00:0${seq}.000Z`, type, payload, prev: `p${seq}`, hash: `h${seq}` } as unknown as LedgerEvent;
    return { event, line: JSON.stringify(event) };
  };
  const agentColumns = (db: Database.Database) => db.prepare("SELECT agent_generation, agent_exited FROM runs WHERE id = 'run-g'").get();

  it('an agent start that fills a gap folds the columns again from all the run’s facts, as readRunState folds them in seq order', () => {
    const db = openDatabase(freshFile());
    try {
      const store = new SqliteStore(db);
      store.insertBatch([record(1, 'run.created', { workspace: '/w', agent: { kind: 'builtin' } }), record(3, 'runtime.exited', { generation: 1, code: 0, signal: null, expected: true })]);
      expect(agentColumns(db)).toEqual({ agent_generation: 0, agent_exited: 1 });
      // Seq 2 arrives after seq 3 (a backfilled gap): started then exited, in seq order, is an agent that exited.
      store.insertBatch([record(2, 'runtime.started', { generation: 1, pid: 1, command: ['agent'], hostPid: 2 })]);
      expect(agentColumns(db)).toEqual({ agent_generation: 1, agent_exited: 1 });
      expect(store.lastGenerationExited('run-g')).toBe(true);
      store.insertBatch([record(4, 'runtime.started', { generation: 2, pid: 3, command: ['agent'], hostPid: 2 })]);
      expect(store.lastGenerationExited('run-g')).toBe(false);
    } finally {
      db.close();
    }
  });
});

describe('the native addon Keel loads', () => {
  it('is the one KEEL_SQLITE_BINDING names (how npm start gives Electron its own build), and a wrong one fails loudly', async () => {
    const { createRequire } = await import('node:module');
    const nodeBuild = path.join(path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
    const previous = process.env.KEEL_SQLITE_BINDING;
    try {
      process.env.KEEL_SQLITE_BINDING = nodeBuild;
      const ledger = await openLedger({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'keel-binding-')) });
      await ledger.close();
      process.env.KEEL_SQLITE_BINDING = path.join(os.tmpdir(), 'no-such-addon.node');
      await expect(openLedger({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'keel-binding-')) })).rejects.toThrow();
    } finally {
      if (previous === undefined) delete process.env.KEEL_SQLITE_BINDING;
      else process.env.KEEL_SQLITE_BINDING = previous;
    }
  });
});
