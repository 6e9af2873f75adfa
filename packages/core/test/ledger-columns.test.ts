// keel.db damaged below the records (issue 10 point 3; I2, I3): a copy of keel.db has one
// column of one row changed, or its free space corrupted. `verify` must fail and name the
// column (and the row's seq); recovery must not act on the damaged column; and nothing
// acknowledged is lost: every log keeps every acknowledged byte, and a keel.db rebuilt from the
// logs holds every acknowledged event again. Point 4: a rebuilt runs table gets `created` right.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnMismatch, LedgerEvent, RunSummary } from '../src/contract/schemas/ledger.js';
import { openLedger, type Ledger } from '../src/ledger/index.js';
import { openDatabase } from '../src/ledger/database.js';
import { SqliteStore } from '../src/ledger/sqlite-store.js';
import { brokenFiles, chunk, created, deleteDatabase, logOf, readAll } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-columns-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** A clock one second further on at every call, so every event has its own time. */
function ticking(start = Date.parse('2030-01-01T00:00:00.000Z')) {
  let at = start;
  return () => new Date((at += 1000));
}

interface Base {
  dir: string;
  /** Created, a generation-1 chunk, state changes, a cut tail (ledger.repaired), a note: 8 events. */
  runA: string;
  /** Created and seven chunks: 8 events. */
  runB: string;
  repairSeq: number;
  /** What every run acknowledged: its log, and its events. */
  logs: Map<string, Buffer>;
  events: Map<string, LedgerEvent[]>;
  summaries: Map<string, RunSummary>;
  broken: string[];
}

async function buildBase(): Promise<Base> {
  const dir = path.join(root, 'base');
  const now = ticking();
  const first = await openLedger({ dataDir: dir, now });
  const runA = first.newRunId();
  const runB = first.newRunId();
  await first.append(runA, created('A'));
  await first.append(runA, { ...chunk('from generation 1'), generation: 1 });
  await first.append(runA, { type: 'run.state', payload: { state: 'running' } });
  await first.append(runA, chunk('plain'));
  await first.append(runA, { type: 'run.state', payload: { state: 'idle', stopReason: 'end_turn' } });
  await first.append(runB, created('B'));
  for (let i = 1; i < 8; i++) await first.append(runB, chunk(`b${i}`));
  await first.close();
  // A torn tail, cut on the next open and recorded as ledger.repaired.
  fs.appendFileSync(logOf(dir, runA), '{"torn":');
  const second = await openLedger({ dataDir: dir, now });
  expect(second.recovery.repaired).toEqual([runA]);
  const repairSeq = readAll(second, runA).at(-1)!.seq;
  await second.append(runA, { type: 'note', payload: { text: 'after the repair' } });
  const logs = new Map<string, Buffer>();
  const events = new Map<string, LedgerEvent[]>();
  const summaries = new Map<string, RunSummary>();
  for (const runId of [runA, runB]) {
    logs.set(runId, fs.readFileSync(logOf(dir, runId)));
    events.set(runId, readAll(second, runId));
    summaries.set(runId, second.run(runId)!);
  }
  expect(second.verify().ok).toBe(true);
  await second.close();
  expect(events.get(runA)).toHaveLength(7);
  expect(events.get(runB)).toHaveLength(8);
  // Closed cleanly: the WAL is checkpointed into keel.db, so a copy of the file is the database.
  expect(fs.existsSync(path.join(dir, 'keel.db-wal'))).toBe(false);
  return { dir, runA, runB, repairSeq, logs, events, summaries, broken: brokenFiles(dir, runA).map((file) => path.basename(file)) };
}

/** A copy of the base data directory whose keel.db `mutate` has changed through SQL. */
function corruptCopy(base: Base, mutate: (db: Database.Database) => void): string {
  const dir = path.join(root, `case-${++counter}`);
  fs.cpSync(base.dir, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'ledger.lock.owner'), { force: true });
  const db = new Database(path.join(dir, 'keel.db'));
  try {
    mutate(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return dir;
}

/** `text` with one bit of its character at `at` flipped (ASCII stays ASCII). */
const flipChar = (text: string, at: number, bit = 0) =>
  `${text.slice(0, at)}${String.fromCharCode(text.charCodeAt(at) ^ (1 << bit))}${text.slice(at + 1)}`;

const column = (db: Database.Database, sql: string, ...params: unknown[]) => db.prepare(sql).pluck().get(...params);

/** Sets one events column of one row to `value`. */
const setEvent = (db: Database.Database, runId: string, seq: number, name: string, value: unknown) =>
  expect(db.prepare(`UPDATE events SET ${name} = ? WHERE run_id = ? AND seq = ?`).run(value, runId, seq).changes).toBe(1);
/** Flips one bit of one character of one events text column. */
const flipEvent = (db: Database.Database, runId: string, seq: number, name: string, at = 3, bit = 0) =>
  setEvent(db, runId, seq, name, flipChar(column(db, `SELECT ${name} FROM events WHERE run_id = ? AND seq = ?`, runId, seq) as string, at, bit));
const setRun = (db: Database.Database, runId: string, name: string, value: unknown) =>
  expect(db.prepare(`UPDATE runs SET ${name} = ? WHERE id = ?`).run(value, runId).changes).toBe(1);
const flipRun = (db: Database.Database, runId: string, name: string, at = 3, bit = 0) =>
  setRun(db, runId, name, flipChar(column(db, `SELECT ${name} FROM runs WHERE id = ?`, runId) as string, at, bit));

/** Asserts that no acknowledged byte or event is gone: logs intact, and a keel.db rebuilt from them holds every event. */
async function expectNothingLost(base: Base, dir: string, where: string): Promise<void> {
  for (const [runId, log] of base.logs) {
    expect(fs.readFileSync(logOf(dir, runId)).equals(log), `${where}: the log of ${runId} is unchanged byte for byte`).toBe(true);
  }
  expect(brokenFiles(dir, base.runA).map((file) => path.basename(file)), `${where}: nothing cut`).toEqual(base.broken);
  deleteDatabase(dir);
  const rebuilt = await openLedger({ dataDir: dir });
  try {
    const report = rebuilt.verify();
    expect(report.ok, `${where}: rebuilt from the logs: ${JSON.stringify(report.runs.flatMap((run) => run.problems))}`).toBe(true);
    for (const [runId, events] of base.events) {
      expect(readAll(rebuilt, runId), `${where}: every acknowledged event of ${runId}`).toEqual(events);
      expect(rebuilt.run(runId), `${where}: the rebuilt projection of ${runId}`).toEqual(base.summaries.get(runId));
    }
  } finally {
    await rebuilt.close();
  }
}

/**
 * An undamaged copy of the base, for damage below the rows: its keel.db file and bytes, the page
 * size, and where the header of the events table's root page starts in those bytes.
 */
function eventsRootPage(base: Base): { dir: string; file: string; bytes: Buffer; pageSize: number; header: number } {
  const dir = corruptCopy(base, () => {});
  const file = path.join(dir, 'keel.db');
  const probe = new Database(file, { readonly: true });
  const pageSize = probe.pragma('page_size', { simple: true }) as number;
  const rootPage = probe.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'events'").pluck().get() as number;
  probe.close();
  const bytes = fs.readFileSync(file);
  const header = (rootPage - 1) * pageSize + (rootPage === 1 ? 100 : 0);
  return { dir, file, bytes, pageSize, header };
}

interface ColumnCase {
  name: string;
  mutate(db: Database.Database, base: Base): void;
  /** The run verify blames, and the mismatch it must list. */
  expected(base: Base): { runId: string; mismatch: Partial<ColumnMismatch> };
  /** What a recovering open leaves: the damage still reported (the default), or put right (a flag recovery rewrites). */
  afterRecovery?: 'still reported' | 'healed';
}

const cases: ColumnCase[] = [
  {
    name: 'events.type of a message.chunk row (one bit)',
    mutate: (db, base) => flipEvent(db, base.runA, 4, 'type', 12),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'events', column: 'type', seq: 4, stored: 'message.chunj', expected: 'message.chunk' } }),
  },
  {
    name: 'events.type of the ledger.repaired row (recovery must not record the cut again)',
    mutate: (db, base) => flipEvent(db, base.runA, base.repairSeq, 'type', 0),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'events', column: 'type', seq: base.repairSeq, expected: 'ledger.repaired' } }),
  },
  {
    name: 'events.type of a chunk row turned into ledger.repaired',
    mutate: (db, base) => setEvent(db, base.runB, 3, 'type', 'ledger.repaired'),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'events', column: 'type', seq: 3, stored: 'ledger.repaired', expected: 'message.chunk' } }),
  },
  {
    name: 'events.ts',
    mutate: (db, base) => flipEvent(db, base.runB, 5, 'ts', 18),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'events', column: 'ts', seq: 5 } }),
  },
  {
    name: 'events.hash',
    mutate: (db, base) => flipEvent(db, base.runB, 8, 'hash', 10),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'events', column: 'hash', seq: 8, expected: base.events.get(base.runB)![7]!.hash } }),
  },
  {
    name: 'events.generation of a generation-1 row',
    mutate: (db, base) => setEvent(db, base.runA, 2, 'generation', 3),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'events', column: 'generation', seq: 2, stored: '3', expected: '1' } }),
  },
  {
    name: 'events.generation of a row without one',
    mutate: (db, base) => setEvent(db, base.runA, 4, 'generation', 0),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'events', column: 'generation', seq: 4, stored: '0', expected: null } }),
  },
  {
    name: 'events.seq (the key) of a middle row',
    mutate: (db, base) => setEvent(db, base.runB, 3, 'seq', 3 ^ 8),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'events', column: 'seq', seq: 11, stored: '11', expected: '3' } }),
  },
  {
    name: 'events.run_id of a row (it moves to a run nobody has)',
    mutate: (db, base) => flipEvent(db, base.runB, 6, 'run_id', 20),
    expected: (base) => ({ runId: flipChar(base.runB, 20), mismatch: { table: 'events', column: 'run_id', seq: 6, expected: base.runB } }),
  },
  {
    name: 'runs.state (one bit)',
    mutate: (db, base) => flipRun(db, base.runA, 'state', 0),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'runs', column: 'state', seq: null, stored: 'hdle', expected: 'idle' } }),
  },
  {
    name: 'runs.created',
    mutate: (db, base) => flipRun(db, base.runB, 'created', 3),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'runs', column: 'created', expected: base.events.get(base.runB)![0]!.ts } }),
  },
  {
    name: 'runs.updated',
    mutate: (db, base) => flipRun(db, base.runB, 'updated', 16),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'runs', column: 'updated', expected: base.events.get(base.runB)![7]!.ts } }),
  },
  {
    name: 'runs.last_seq',
    mutate: (db, base) => setRun(db, base.runB, 'last_seq', 8 ^ 2),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'runs', column: 'last_seq', stored: '10', expected: '8' } }),
  },
  {
    name: 'runs.last_hash',
    mutate: (db, base) => flipRun(db, base.runA, 'last_hash', 30),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'runs', column: 'last_hash', expected: base.events.get(base.runA)!.at(-1)!.hash } }),
  },
  {
    name: 'runs.workspace',
    mutate: (db, base) => flipRun(db, base.runA, 'workspace', 5),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'runs', column: 'workspace', expected: '/tmp/keel-test-workspace' } }),
  },
  {
    name: 'runs.agent',
    mutate: (db, base) => flipRun(db, base.runA, 'agent', 10),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'runs', column: 'agent', expected: '{"kind":"builtin"}' } }),
  },
  {
    name: 'runs.title',
    mutate: (db, base) => setRun(db, base.runB, 'title', 'C'),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'runs', column: 'title', stored: 'C', expected: 'B' } }),
  },
  {
    name: 'runs.stop_reason',
    mutate: (db, base) => flipRun(db, base.runA, 'stop_reason', 0),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'runs', column: 'stop_reason', stored: 'dnd_turn', expected: 'end_turn' } }),
  },
  {
    name: 'runs.agent_exited (a clean run made to look left live)',
    mutate: (db, base) => setRun(db, base.runB, 'agent_exited', 0),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'runs', column: 'agent_exited', stored: '0', expected: '1' } }),
  },
  {
    name: 'runs.read_only of a local run',
    mutate: (db, base) => setRun(db, base.runB, 'read_only', 1),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'runs', column: 'read_only', stored: '1', expected: '0' } }),
  },
  {
    name: 'runs.origin',
    mutate: (db, base) => flipRun(db, base.runB, 'origin', 4),
    expected: (base) => ({ runId: base.runB, mismatch: { table: 'runs', column: 'origin', stored: 'locam' } }),
  },
  {
    name: 'runs.quarantined without a reason (recovery rewrites the flag of a sound run)',
    mutate: (db, base) => setRun(db, base.runA, 'quarantined', 1),
    expected: (base) => ({ runId: base.runA, mismatch: { table: 'runs', column: 'quarantined', stored: '1', expected: '0' } }),
    afterRecovery: 'healed',
  },
];

describe('verify checks every SQLite column against what it is derived from', () => {
  let base: Base;
  beforeAll(async () => {
    base = await buildBase();
  });

  it('the undamaged base verifies, with quick_check and no mismatches', async () => {
    const ledger = await openLedger({ dataDir: base.dir, readOnly: true });
    try {
      const report = ledger.verify();
      expect(report.ok).toBe(true);
      expect(report.sqliteCheck).toEqual({ ok: true, messages: ['ok'] });
      expect(report.runs.map((run) => run.mismatches)).toEqual([[], []]);
    } finally {
      await ledger.close();
    }
  });

  for (const testCase of cases) {
    it(`${testCase.name}: verify fails naming the column, recovery acts on nothing it says, nothing acknowledged is lost`, async () => {
      const dir = corruptCopy(base, (db) => testCase.mutate(db, base));
      const { runId, mismatch } = testCase.expected(base);
      const where = testCase.name;
      // Read-only, as `keel ledger verify` beside a running app: no recovery first.
      const readOnly = await openLedger({ dataDir: dir, readOnly: true });
      try {
        const report = readOnly.verify();
        expect(report.ok, where).toBe(false);
        expect(report.sqliteCheck, where).toEqual({ ok: true, messages: ['ok'] });
        const run = report.runs.find((candidate) => candidate.runId === runId);
        expect(run?.agree, where).toBe(false);
        expect(run?.mismatches, where).toContainEqual(expect.objectContaining(mismatch));
        expect(run?.problems.join('\n'), where).toContain(`column ${mismatch.column} is`);
        if (mismatch.table === 'events') expect(run?.problems.join('\n'), where).toContain(`events row ${mismatch.seq}:`);
        // The other run is not blamed (a row moved to an unknown run id shows under that id and as a gap in B).
        for (const other of report.runs.filter((candidate) => candidate.runId !== runId && candidate.runId !== base.runB)) {
          expect(other.mismatches, `${where}: ${other.runId}`).toEqual([]);
        }
      } finally {
        await readOnly.close();
      }
      // A recovering open, then verify again: the damage is reported, not papered over.
      const recovering = await openLedger({ dataDir: dir });
      try {
        expect(recovering.recovery.repaired, `${where}: no repair invented`).toEqual([]);
        const report = recovering.verify();
        if (testCase.afterRecovery === 'healed') {
          expect(report.ok, `${where}: ${JSON.stringify(report.runs.flatMap((run) => run.problems))}`).toBe(true);
        } else {
          expect(report.ok, where).toBe(false);
          const run = report.runs.find((candidate) => candidate.runId === runId);
          expect(run?.mismatches, where).toContainEqual(expect.objectContaining(mismatch));
        }
        expect(recovering.read(base.runA).filter((event) => event.type === 'ledger.repaired'), `${where}: the cut is recorded once`).toHaveLength(1);
      } finally {
        await recovering.close();
      }
      await expectNothingLost(base, dir, where);
    });
  }

  it('free-space corruption inside a b-tree page: every run agrees, PRAGMA quick_check does not, verify fails', async () => {
    const { file, bytes, pageSize, header, dir } = eventsRootPage(base);
    // The page header's first-freeblock field, pointed past the end of the page.
    expect([0x02, 0x0a]).toContain(bytes[header]);
    bytes.writeUInt16BE(pageSize - 1, header + 1);
    fs.writeFileSync(file, bytes);

    const readOnly = await openLedger({ dataDir: dir, readOnly: true });
    try {
      // Reads still work, so every per-run comparison passes: only SQLite's own check sees it.
      for (const [runId, events] of base.events) expect(readAll(readOnly, runId)).toEqual(events);
      const report = readOnly.verify();
      expect(report.runs.every((run) => run.agree && run.mismatches?.length === 0)).toBe(true);
      expect(report.sqliteCheck?.ok).toBe(false);
      expect(report.sqliteCheck?.messages.join('\n')).toMatch(/free space corruption/);
      expect(report.ok).toBe(false);
    } finally {
      await readOnly.close();
    }
    await expectNothingLost(base, dir, 'free-space corruption');
  });

  it('a b-tree page SQLite cannot read: verify reports it per run instead of throwing', async () => {
    const { file, bytes, header, dir } = eventsRootPage(base);
    bytes[header] = 0x00; // not a page type
    fs.writeFileSync(file, bytes);
    const readOnly = await openLedger({ dataDir: dir, readOnly: true });
    try {
      const report = readOnly.verify();
      expect(report.ok).toBe(false);
      expect(report.sqliteCheck?.ok).toBe(false);
      for (const run of report.runs) {
        expect(run.agree).toBe(false);
        expect(run.problems.join('\n')).toMatch(/SQLite could not be read: .*malformed/);
      }
    } finally {
      await readOnly.close();
    }
    await expectNothingLost(base, dir, 'unreadable page');
  });

  it('a keel.db not yet migrated to schema 5 is not blamed for the old created rule, and the migration puts it right', async () => {
    // As an older build left it: created = the newest event of the first batch, schema 4.
    const dir = corruptCopy(base, (db) => {
      setRun(db, base.runB, 'created', base.events.get(base.runB)![7]!.ts);
      db.pragma('user_version = 4');
    });
    const readOnly = await openLedger({ dataDir: dir, readOnly: true });
    try {
      expect(readOnly.run(base.runB)?.created).toBe(base.events.get(base.runB)![7]!.ts);
      const report = readOnly.verify();
      expect(report.ok, JSON.stringify(report.runs.flatMap((run) => run.problems))).toBe(true);
    } finally {
      await readOnly.close();
    }
    const migrated = await openLedger({ dataDir: dir });
    try {
      expect(migrated.run(base.runB)).toEqual(base.summaries.get(base.runB));
      expect(migrated.verify().ok).toBe(true);
    } finally {
      await migrated.close();
    }
    await expectNothingLost(base, dir, 'schema 4');
  });

  it('a damaged seq key never moves the acknowledged boundary earlier: with record 8 damaged in the log too, the run quarantines, nothing is cut', async () => {
    // B's row 8 keyed 0 instead (one bit): SQLite's max(seq) says 7, its row count 8.
    const dir = corruptCopy(base, (db) => setEvent(db, base.runB, 8, 'seq', 0));
    const file = logOf(dir, base.runB);
    const log = fs.readFileSync(file);
    const damaged = Buffer.from(log);
    damaged[damaged.length - 20]! ^= 0x01; // inside record 8, the last line
    fs.writeFileSync(file, damaged);
    const ledger = await openLedger({ dataDir: dir });
    try {
      expect(ledger.recovery.quarantined).toEqual([base.runB]);
      expect(brokenFiles(dir, base.runB)).toEqual([]);
      expect(fs.readFileSync(file).equals(damaged)).toBe(true);
      expect(ledger.verify().ok).toBe(false);
    } finally {
      await ledger.close();
    }
    // Nothing acknowledged is lost: SQLite still holds record 8 (under key 0), byte for byte.
    const db = new Database(path.join(dir, 'keel.db'), { readonly: true });
    const record = db.prepare('SELECT record FROM events WHERE run_id = ? AND seq = 0').pluck().get(base.runB) as string;
    db.close();
    expect(`${record}\n`).toBe(log.subarray(log.lastIndexOf(10, log.length - 2) + 1).toString('utf8'));
  });

  it("the store's last hash (used by import) comes from the newest record, not the hash column, and is null for a record that does not hold up", () => {
    const dir = corruptCopy(base, (db) => flipEvent(db, base.runB, 8, 'hash', 10));
    const store = new SqliteStore(openDatabase(path.join(dir, 'keel.db')));
    try {
      const last = base.events.get(base.runB)![7]!;
      expect(store.lastHashOf(base.runB)).toBe(last.hash);
      const record = store.db.prepare('SELECT record FROM events WHERE run_id = ? AND seq = 8').pluck().get(base.runB) as string;
      store.db.prepare('UPDATE events SET record = ? WHERE run_id = ? AND seq = 8').run(record.replace('"b7"', '"b8"'), base.runB);
      expect(store.lastHashOf(base.runB)).toBeNull();
      store.db.prepare('UPDATE events SET record = ? WHERE run_id = ? AND seq = 8').run('{"not":', base.runB);
      expect(store.lastHashOf(base.runB)).toBeNull();
      expect(store.lastHashOf('no-such-run')).toBeNull();
    } finally {
      store.close();
    }
  });
});

describe('the runs projection is the fold of the events (issue 10 point 4)', () => {
  const summaryOf = (ledger: Ledger, runId: string) => ledger.run(runId);

  it('a runs table rebuilt from the logs takes created from run.created, not from the newest event of a backfill batch', async () => {
    const dataDir = path.join(root, 'rebuilt');
    const now = ticking(Date.parse('2031-06-01T12:00:00.000Z'));
    const ledger = await openLedger({ dataDir, now });
    const runId = ledger.newRunId();
    const first = await ledger.append(runId, created('rebuilt'));
    for (let i = 0; i < 40; i++) await ledger.append(runId, chunk(`c${i}`), { durability: 'stream' });
    const last = await ledger.append(runId, { type: 'run.state', payload: { state: 'stopped', stopReason: 'user_stopped' } });
    const before = summaryOf(ledger, runId)!;
    expect(before.created).toBe(first.ts);
    await ledger.close();

    deleteDatabase(dataDir);
    const reopened = await openLedger({ dataDir, now });
    try {
      expect(reopened.recovery.runs[0]?.backfilled).toBe(42);
      const after = summaryOf(reopened, runId)!;
      expect(after.created).toBe(first.ts);
      expect(after.updated).toBe(last.ts);
      expect(after).toEqual(before);
      expect(reopened.verify().ok).toBe(true);
    } finally {
      await reopened.close();
    }
  });

  it('run.created batched with later events (group commit) still projects its own time', async () => {
    const dataDir = path.join(root, 'batched');
    const now = ticking(Date.parse('2032-01-01T00:00:00.000Z'));
    const ledger = await openLedger({ dataDir, now });
    try {
      const runId = ledger.newRunId();
      const [first] = await Promise.all([
        ledger.append(runId, created('batched'), { durability: 'stream' }),
        ledger.append(runId, chunk('same batch'), { durability: 'stream' }),
        ledger.append(runId, { type: 'run.state', payload: { state: 'idle' } }),
      ]);
      const summary = summaryOf(ledger, runId)!;
      expect(summary.created).toBe(first.ts);
      expect(summary.state).toBe('idle');
      expect(summary.lastSeq).toBe(3);
      expect(ledger.verify().ok).toBe(true);
    } finally {
      await ledger.close();
    }
  });
});
