// Open in O(runs) (issue 16): a log is validated only past its verified marker, as long as the
// marker's head record is still where the marker says; a log changed behind the marker is
// damage exactly as before (caught at open when the bytes at the marker moved, by the
// background check after open when they did not), and SQLite losing its last commits is
// repaired from the NDJSON log.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openLedger, type Ledger } from '../src/ledger/index.js';
import { BackgroundCheck, MAX_YIELD_MS } from '../src/ledger/background-check.js';
import { MARKER_STRIDE_BYTES } from '../src/ledger/group-commit.js';
import { chunk, created, logOf, readAll, rejection } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-marker-');
let dirs = 0;
const freshDataDir = () => path.join(root, `data-${++dirs}`);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A closed data directory with one run of `count` events (texts e2..e<count>) and its id. */
async function seeded(count: number): Promise<{ dataDir: string; runId: string }> {
  const dataDir = freshDataDir();
  const ledger = await openLedger({ dataDir });
  const runId = ledger.newRunId();
  await ledger.append(runId, created());
  for (let i = 2; i <= count; i++) await ledger.append(runId, chunk(`e${i}`), { durability: i % 2 ? 'critical' : 'stream' });
  await ledger.close();
  return { dataDir, runId };
}

function marker(dataDir: string, runId: string): { through_seq: number; log_bytes: number; head_hash: string | null } {
  // Read beside a live writer too (WAL): what a crash would leave.
  const db = new Database(path.join(dataDir, 'keel.db'), { readonly: true });
  try {
    return db.prepare('SELECT through_seq, log_bytes, head_hash FROM backfill_markers WHERE run_id = ?').get(runId) as never;
  } finally {
    db.close();
  }
}

async function withLedger<T>(dataDir: string, use: (ledger: Ledger) => Promise<T> | T): Promise<T> {
  const ledger = await openLedger({ dataDir });
  try {
    return await use(ledger);
  } finally {
    await ledger.close();
  }
}

describe('verified markers', () => {
  it('close leaves the marker at the log’s length and chain head, and open resumes there', async () => {
    const { dataDir, runId } = await seeded(12);
    const file = logOf(dataDir, runId);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const head = JSON.parse(lines[11]!) as { hash: string };
    expect(marker(dataDir, runId)).toEqual({ through_seq: 12, log_bytes: fs.statSync(file).size, head_hash: head.hash });
    await withLedger(dataDir, async (ledger) => {
      const recovery = ledger.recovery.runs.find((run) => run.runId === runId)!;
      expect(recovery.outcome).toBe('ok');
      expect(recovery.resumedFrom).toEqual({ offset: fs.statSync(file).size, seq: 12, hash: head.hash });
      expect(await ledger.backgroundCheck()).toMatchObject({ state: 'ok', runsToCheck: 1, runsChecked: 1, damagedRuns: [] });
      expect(ledger.health().check?.state).toBe('ok');
      await ledger.append(runId, chunk('after reopen'));
      expect(ledger.verify().ok).toBe(true);
    });
  });

  it('while appending, a marker moves once a stride of bytes lies past it; a crash then loses nothing and open validates only what lies past the marker', async () => {
    const dataDir = freshDataDir();
    const ledger = await openLedger({ dataDir });
    const runId = ledger.newRunId();
    await ledger.append(runId, created());
    const file = logOf(dataDir, runId);
    const text = 'y'.repeat(900);
    let i = 0;
    // Critical appends (one batch each) until a batch has moved the marker past one stride.
    while ((marker(dataDir, runId)?.log_bytes ?? 0) < MARKER_STRIDE_BYTES) {
      await ledger.append(runId, chunk(`e${++i} ${text}`));
      expect(i).toBeLessThan(200);
    }
    // The batch that moved it moved it to the log's end.
    const moved = marker(dataDir, runId);
    expect(moved.log_bytes).toBe(fs.statSync(file).size);
    // One more append: the marker stays where it was, one record behind the log's end, at a record boundary.
    const last = await ledger.append(runId, chunk(`e${++i} ${text}`));
    const size = fs.statSync(file).size;
    expect(marker(dataDir, runId)).toEqual(moved);
    expect(size - moved.log_bytes).toBe(Buffer.byteLength(`${JSON.stringify(last)}\n`));
    const behind = fs.readFileSync(file, 'utf8').slice(0, moved.log_bytes);
    expect(behind.endsWith('\n')).toBe(true);
    const atMarker = JSON.parse(behind.trimEnd().split('\n').pop()!) as { seq: number; hash: string };
    expect(moved).toMatchObject({ through_seq: atMarker.seq, head_hash: atMarker.hash });
    expect(atMarker.seq).toBe(last.seq - 1);
    // The data directory as kill -9 leaves it: the log and keel.db with its WAL, the writer never closed.
    const crashed = freshDataDir();
    fs.cpSync(dataDir, crashed, { recursive: true, filter: (source) => !source.endsWith('.lock') });
    await ledger.close();
    await withLedger(crashed, async (reopened) => {
      const recovery = reopened.recovery.runs.find((run) => run.runId === runId)!;
      expect(recovery.outcome).toBe('ok');
      expect(recovery.resumedFrom).toEqual({ offset: moved.log_bytes, seq: atMarker.seq, hash: atMarker.hash });
      const events = readAll(reopened, runId);
      expect(events).toHaveLength(i + 1);
      expect(events.at(-1)).toEqual(last);
    });
    // Closing moved the marker to the end.
    expect(marker(dataDir, runId)).toEqual({ through_seq: last.seq, log_bytes: size, head_hash: last.hash });
  });

  it('a marker left behind moves to the head on its own once appends pause', async () => {
    const dataDir = freshDataDir();
    await withLedger(dataDir, async (ledger) => {
      const runId = ledger.newRunId();
      await ledger.append(runId, created());
      const last = await ledger.append(runId, chunk('only a little'));
      expect(marker(dataDir, runId)).toBeUndefined();
      await vi.waitFor(() => expect(marker(dataDir, runId)).toEqual({ through_seq: last.seq, log_bytes: fs.statSync(logOf(dataDir, runId)).size, head_hash: last.hash }), {
        timeout: 10_000,
        interval: 50,
      });
    });
  });

  it('a forgotten run’s lagging marker is not written back when the ledger closes', async () => {
    const dataDir = freshDataDir();
    let runId = '';
    await withLedger(dataDir, async (ledger) => {
      runId = ledger.newRunId();
      await ledger.append(runId, created());
      await ledger.append(runId, chunk('soon forgotten'));
      ledger.forgetRun(runId);
    });
    expect(marker(dataDir, runId)).toBeUndefined();
  });

  it('a record behind the marker edited to another length is caught at open: quarantined, nothing deleted', async () => {
    const { dataDir, runId } = await seeded(10);
    const file = logOf(dataDir, runId);
    const text = fs.readFileSync(file, 'utf8');
    const edited = text.replace('"text":"e4"', '"text":"e4 and more"');
    expect(edited.length).toBeGreaterThan(text.length);
    fs.writeFileSync(file, edited);
    await withLedger(dataDir, async (ledger) => {
      // Not waiting for the background check: the bytes at the marker no longer hold its head.
      expect(ledger.recovery.quarantined).toEqual([runId]);
      expect(ledger.run(runId)?.quarantineReason).toContain('record 4 ');
      expect(ledger.recovery.runs[0]!.resumedFrom).toBeUndefined();
      expect(fs.readFileSync(file, 'utf8')).toBe(edited);
      expect((await rejection(ledger.append(runId, chunk('refused')))).code).toBe('run_quarantined');
    });
  });

  it('a log shorter than its marker is caught at open: SQLite holds records the log lacks, the run is quarantined', async () => {
    const { dataDir, runId } = await seeded(10);
    const file = logOf(dataDir, runId);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    fs.writeFileSync(file, `${lines.slice(0, 7).join('\n')}\n`);
    await withLedger(dataDir, (ledger) => {
      expect(ledger.recovery.quarantined).toEqual([runId]);
      expect(ledger.run(runId)?.quarantineReason).toContain('SQLite holds events 8..10');
    });
  });

  it('a same-length edit behind the marker is found by the background check: the run is quarantined, health says so, and the next open catches it at once', async () => {
    const { dataDir, runId } = await seeded(10);
    const file = logOf(dataDir, runId);
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf('"text":"e3"') + 9;
    bytes[at] = 'f'.charCodeAt(0);
    fs.writeFileSync(file, bytes);
    await withLedger(dataDir, async (ledger) => {
      expect(ledger.recovery.runs[0]!.resumedFrom?.seq).toBe(10);
      const check = await ledger.backgroundCheck();
      expect(check).toMatchObject({ state: 'damaged', damagedRuns: [runId], runsChecked: 1 });
      expect(ledger.run(runId)?.quarantineReason).toContain('record 3 ');
      expect(ledger.health().quarantinedRuns).toEqual([runId]);
      expect(ledger.health().check?.damagedRuns).toEqual([runId]);
      expect((await rejection(ledger.append(runId, chunk('refused')))).code).toBe('run_quarantined');
    });
    expect(marker(dataDir, runId)).toBeUndefined();
    await withLedger(dataDir, (ledger) => {
      expect(ledger.recovery.quarantined).toEqual([runId]);
      expect(ledger.recovery.runs[0]!.resumedFrom).toBeUndefined();
    });
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });

  it('the background check waits while the host answers a young call, and still finishes when the host never stops being busy', async () => {
    const { dataDir, runId } = await seeded(10);
    const through = await withLedger(dataDir, (ledger) => ledger.recovery.runs[0]!.resumedFrom!);
    const prefixes = [{ runId, file: logOf(dataDir, runId), through }];
    let busy = true;
    let settle!: () => void;
    let asked!: () => void;
    const waiting = new Promise<void>((resolve) => (asked = resolve));
    const check = new BackgroundCheck({
      prefixes,
      onDamage: () => {},
      calls: {
        busy: () => busy,
        settled: () => {
          asked();
          return new Promise<void>((resolve) => (settle = resolve));
        },
      },
      // Waiting may run a minute ahead of working.
      maxYieldMs: 60_000,
    });
    await waiting;
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(check.state).toMatchObject({ state: 'running', runsChecked: 0 });
    busy = false;
    settle();
    expect(await check.done).toMatchObject({ state: 'ok', runsChecked: 1 });
    // Busy forever, each wait ending at its deadline: once waiting is MAX_YIELD_MS ahead of working, slices run again, so the check ends.
    const deadlines: number[] = [];
    const never = new BackgroundCheck({
      prefixes,
      onDamage: () => {},
      calls: {
        busy: () => true,
        settled: (maxWaitMs) => {
          deadlines.push(maxWaitMs);
          return new Promise<void>((resolve) => setTimeout(resolve, maxWaitMs));
        },
      },
    });
    expect(await never.done).toMatchObject({ state: 'ok', runsChecked: 1 });
    expect(deadlines[0]).toBe(MAX_YIELD_MS);
  });

  it('a run deleted before the background check reaches it is dropped from the check, not a failure of it', async () => {
    const dataDir = freshDataDir();
    const runIds = await withLedger(dataDir, async (ledger) => {
      const ids = [ledger.newRunId(), ledger.newRunId()];
      for (const id of ids) {
        await ledger.append(id, created());
        for (let i = 2; i <= 5; i++) await ledger.append(id, chunk(`e${i}`));
      }
      return ids;
    });
    await withLedger(dataDir, async (ledger) => {
      // The check's first slice runs in a later turn: the deletion lands before it.
      ledger.forgetRun(runIds[0]!);
      expect(fs.existsSync(logOf(dataDir, runIds[0]!))).toBe(false);
      expect(await ledger.backgroundCheck()).toMatchObject({ state: 'ok', runsToCheck: 1, runsChecked: 1, damagedRuns: [], error: null });
      expect(ledger.health().quarantinedRuns).toEqual([]);
    });
  });

  it('a log that vanishes as the check opens it is dropped when its run was deleted in that moment, and fails the check when it was not', async () => {
    const { dataDir, runId } = await seeded(6);
    const through = await withLedger(dataDir, (ledger) => ledger.recovery.runs[0]!.resumedFrom!);
    const file = logOf(dataDir, runId);
    const kept = `${file}.kept`;
    fs.renameSync(file, kept);
    // Deleted between the check's look at the run and its open of the log: not yet forgotten when asked first, forgotten after.
    let asked = 0;
    const deletedMeanwhile = new BackgroundCheck({ prefixes: [{ runId, file, through }], onDamage: () => {}, forgotten: () => ++asked > 1 });
    expect(await deletedMeanwhile.done).toMatchObject({ state: 'ok', runsToCheck: 0, runsChecked: 0, damagedRuns: [], error: null });
    expect(asked).toBe(2);
    // Gone though its run was not deleted: the check fails and says why; nothing is quarantined on a guess.
    const damaged: string[] = [];
    const missing = new BackgroundCheck({ prefixes: [{ runId, file, through }], onDamage: (id) => damaged.push(id), forgotten: () => false });
    const state = await missing.done;
    expect(state).toMatchObject({ state: 'failed', runsChecked: 0, damagedRuns: [] });
    expect(state.error).toContain('ENOENT');
    expect(damaged).toEqual([]);
    // The log back in place: the same check holds.
    fs.renameSync(kept, file);
    expect(await new BackgroundCheck({ prefixes: [{ runId, file, through }], onDamage: () => {} }).done).toMatchObject({ state: 'ok', runsChecked: 1 });
  });

  it('a run cut once is not read whole on every open: SQLite names its broken file, so open still validates only past the marker', async () => {
    const { dataDir, runId } = await seeded(10);
    const file = logOf(dataDir, runId);
    // Torn bytes a crash left: the next open cuts them and records ledger.repaired (seq 11).
    fs.appendFileSync(file, '{"torn');
    await withLedger(dataDir, async (ledger) => {
      expect(ledger.recovery.repaired).toEqual([runId]);
      await ledger.append(runId, chunk('e12'));
    });
    // A same-length edit behind the marker, before the repair event: an open that read the log
    // from its start to find the repair event would stop at it and record the cut a second time.
    const bytes = fs.readFileSync(file);
    bytes[bytes.indexOf('"text":"e3"') + 9] = 'f'.charCodeAt(0);
    fs.writeFileSync(file, bytes);
    await withLedger(dataDir, async (ledger) => {
      expect(ledger.recovery.runs[0]!.resumedFrom?.seq).toBe(12);
      expect(ledger.recovery.repaired).toEqual([]);
      expect(ledger.recovery.quarantined).toEqual([]);
      expect(readAll(ledger, runId).filter((event) => event.type === 'ledger.repaired')).toHaveLength(1);
      // The edit is still found, by the background check.
      expect(await ledger.backgroundCheck()).toMatchObject({ state: 'damaged', damagedRuns: [runId] });
    });
  });

  it('SQLite losing its last commits (markers with them) is repaired from the NDJSON log on open', async () => {
    const { dataDir, runId } = await seeded(6);
    const db = path.join(dataDir, 'keel.db');
    const before = Buffer.concat([fs.readFileSync(db), fs.existsSync(`${db}-wal`) ? fs.readFileSync(`${db}-wal`) : Buffer.alloc(0)]);
    expect(before.length).toBeGreaterThan(0);
    // Keep a copy of keel.db (and its WAL) as it was after 6 events: what a power loss could leave
    // under synchronous=NORMAL, where the last WAL commits may not have reached the disk.
    const snapshot = path.join(root, `snapshot-${dirs}`);
    fs.mkdirSync(snapshot);
    for (const name of fs.readdirSync(dataDir)) if (name.startsWith('keel.db')) fs.copyFileSync(path.join(dataDir, name), path.join(snapshot, name));
    await withLedger(dataDir, async (ledger) => {
      for (let i = 7; i <= 15; i++) await ledger.append(runId, chunk(`e${i}`));
    });
    for (const name of fs.readdirSync(dataDir)) if (name.startsWith('keel.db')) fs.rmSync(path.join(dataDir, name));
    for (const name of fs.readdirSync(snapshot)) fs.copyFileSync(path.join(snapshot, name), path.join(dataDir, name));
    expect(marker(dataDir, runId).through_seq).toBe(6);
    await withLedger(dataDir, async (ledger) => {
      const recovery = ledger.recovery.runs[0]!;
      expect(recovery).toMatchObject({ outcome: 'ok', backfilled: 9 });
      expect(recovery.resumedFrom?.seq).toBe(6);
      expect(ledger.recovery.quarantined).toEqual([]);
      expect(readAll(ledger, runId).map((event) => event.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(ledger.run(runId)?.lastSeq).toBe(15);
      expect(ledger.verify().ok).toBe(true);
      await ledger.append(runId, chunk('e16'));
    });
    expect(marker(dataDir, runId).through_seq).toBe(16);
  });

  it('an old marker without a chain head is not trusted: the log is validated whole once, then the head is recorded', async () => {
    const { dataDir, runId } = await seeded(5);
    const raw = new Database(path.join(dataDir, 'keel.db'));
    raw.prepare('UPDATE backfill_markers SET head_hash = NULL').run();
    raw.close();
    await withLedger(dataDir, (ledger) => {
      expect(ledger.recovery.runs[0]!.resumedFrom).toBeUndefined();
      expect(ledger.recovery.runs[0]!.outcome).toBe('ok');
    });
    expect(marker(dataDir, runId).head_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
