// The ledger's core API on its failure and edge paths (I1, I2, I3): refusals write nothing,
// batching keeps order, subscriptions never gap or repeat, export/import/backfill/repair keep
// both stores in agreement, and one writer owns a data directory.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendInput, LedgerEvent } from '../src/contract/schemas/ledger.js';
import { LedgerError, openLedger, type Ledger } from '../src/ledger/index.js';
import {
  chunk,
  closed,
  created,
  deleteDatabase,
  logOf,
  onLines,
  readAll,
  rejection,
  requireDist,
  spawnFixture,
  stderrOf,
  waitForLine,
} from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-api-');
let dirs = 0;
const freshDataDir = () => path.join(root, `data-${++dirs}`);
const open: Ledger[] = [];

async function ledgerAt(dataDir = freshDataDir(), options: { readOnly?: boolean; streamWindowMs?: number } = {}): Promise<Ledger> {
  const ledger = await openLedger({ dataDir, ...options });
  open.push(ledger);
  return ledger;
}

/** A run with `count` events (run.created + chunks "e2".."e<count>"). */
async function runWith(ledger: Ledger, count: number): Promise<string> {
  const runId = ledger.newRunId();
  await ledger.append(runId, created());
  await Promise.all(Array.from({ length: count - 1 }, (_, i) => ledger.append(runId, chunk(`e${i + 2}`), { durability: i % 3 ? 'stream' : 'critical' })));
  return runId;
}

const size = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : -1);

afterAll(async () => {
  for (const ledger of open) await ledger.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('append refusals', () => {
  it('refuses invalid events with invalid_event and writes nothing to either store', async () => {
    const ledger = await ledgerAt();
    const runId = await runWith(ledger, 3);
    const file = logOf(ledger.dataDir, runId);
    const before = { bytes: size(file), events: readAll(ledger, runId).length };
    const invalid: Array<[string, unknown]> = [
      ['unknown type', { type: 'no.such.event', payload: {} }],
      ['missing payload field', { type: 'message.chunk', payload: {} }],
      ['wrong field type', { type: 'message.chunk', payload: { text: 42 } }],
      ['wrong enum value', { type: 'run.state', payload: { state: 'exploded' } }],
      ['negative generation', { type: 'message.chunk', payload: { text: 'x' }, generation: -1 }],
      ['fractional generation', { type: 'message.chunk', payload: { text: 'x' }, generation: 1.5 }],
      ['no type at all', { payload: { text: 'x' } }],
      ['not an object', 'message.chunk'],
      ['null', null],
    ];
    for (const [label, input] of invalid) {
      const error = await rejection(ledger.append(runId, input as AppendInput));
      expect(error, label).toBeInstanceOf(LedgerError);
      expect(error.code, label).toBe('invalid_event');
    }
    for (const badId of ['../escape', '', 'a/b', 'x'.repeat(65), '-leading-dash']) {
      expect((await rejection(ledger.append(badId, created()))).code, badId).toBe('invalid_event');
    }
    expect({ bytes: size(file), events: readAll(ledger, runId).length }).toEqual(before);
    expect(fs.readdirSync(path.join(ledger.dataDir, 'ledger'))).toEqual([`${runId}.ndjson`]);
    // Still writable, and the next event takes the next seq (no seq was burnt by a refusal).
    expect((await ledger.append(runId, chunk('ok'))).seq).toBe(before.events + 1);
    expect(ledger.verify().ok).toBe(true);
  });

  it('refuses a payload without a canonical JSON encoding (NaN, Infinity, bigint) as invalid_event, writing nothing', async () => {
    const ledger = await ledgerAt();
    const runId = await runWith(ledger, 2);
    const before = size(logOf(ledger.dataDir, runId));
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, 10n]) {
      const error = await rejection(ledger.append(runId, { type: 'tool.started', payload: { toolCallId: 't1', title: 'x', input: { n: value } } }));
      expect(error.code, `${String(value)}: ${error.message}`).toBe('invalid_event');
    }
    expect(size(logOf(ledger.dataDir, runId))).toBe(before);
    expect((await ledger.append(runId, chunk('ok'))).seq).toBe(3);
  });

  it('refuses an append to an unknown run with unknown_run and creates no log', async () => {
    const ledger = await ledgerAt();
    const runId = ledger.newRunId();
    expect((await rejection(ledger.append(runId, chunk('x')))).code).toBe('unknown_run');
    expect(fs.existsSync(logOf(ledger.dataDir, runId))).toBe(false);
    expect(ledger.runs()).toEqual([]);
    expect(ledger.verify().ok).toBe(true);
  });

  it('refuses a second run.created with run_exists', async () => {
    const ledger = await ledgerAt();
    const runId = await runWith(ledger, 2);
    expect((await rejection(ledger.append(runId, created('again')))).code).toBe('run_exists');
    expect(readAll(ledger, runId).map((event) => event.type)).toEqual(['run.created', 'message.chunk']);
  });

  it('a refused run.created (record_too_large) leaves no half-created run behind', async () => {
    const ledger = await ledgerAt();
    const runId = ledger.newRunId();
    const huge: AppendInput = { type: 'run.created', payload: { workspace: 'w'.repeat(17 * 1024 * 1024), agent: { kind: 'builtin' } } };
    expect((await rejection(ledger.append(runId, huge))).code).toBe('record_too_large');
    // Nothing exists under that id: a chunk is refused, and a proper run.created starts the run at seq 1.
    expect((await rejection(ledger.append(runId, chunk('orphan')))).code).toBe('unknown_run');
    const first = await ledger.append(runId, created());
    expect(first.seq).toBe(1);
    expect(ledger.verify().ok).toBe(true);
  });

  it('refuses appends after close with ledger_closed, and on a read-only ledger with read_only_ledger', async () => {
    const dataDir = freshDataDir();
    const ledger = await openLedger({ dataDir });
    const runId = await runWith(ledger, 1);
    await ledger.close();
    expect((await rejection(ledger.append(runId, chunk('late')))).code).toBe('ledger_closed');
    const readOnly = await ledgerAt(dataDir, { readOnly: true });
    expect((await rejection(readOnly.append(runId, chunk('ro')))).code).toBe('read_only_ledger');
  });
});

describe('group commit', () => {
  it('a lone stream append resolves without company', async () => {
    const ledger = await ledgerAt();
    const runId = await runWith(ledger, 1);
    const event = await ledger.append(runId, chunk('alone'), { durability: 'stream' });
    expect(event.seq).toBe(2);
    expect(readAll(ledger, runId)).toHaveLength(2);
  });

  it('a stream append waits for company, and a critical append takes it along in the same batch', async () => {
    const ledger = await ledgerAt(undefined, { streamWindowMs: 3_600_000 });
    const runId = await runWith(ledger, 1);
    let streamSettled = false;
    const stream = ledger.append(runId, chunk('stream'), { durability: 'stream' }).then((event) => {
      streamSettled = true;
      return event;
    });
    // Several event-loop turns: with a one-hour window nothing has been written yet.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(streamSettled).toBe(false);
    expect(readAll(ledger, runId)).toHaveLength(1);
    const critical = await ledger.append(runId, chunk('critical'), { durability: 'critical' });
    // Resolved in the same flush, before the critical one's continuation ran.
    expect(streamSettled).toBe(true);
    expect((await stream).seq).toBe(2);
    expect(critical.seq).toBe(3);
  });

  it('close() writes a pending stream append before releasing the files', async () => {
    const dataDir = freshDataDir();
    const ledger = await openLedger({ dataDir, streamWindowMs: 3_600_000 });
    const runId = await runWith(ledger, 1);
    const pending = ledger.append(runId, chunk('pending at close'), { durability: 'stream' });
    await ledger.close();
    expect((await pending).seq).toBe(2);
    const reopened = await ledgerAt(dataDir);
    expect(readAll(reopened, runId).map((event) => event.seq)).toEqual([1, 2]);
    expect(reopened.verify().ok).toBe(true);
  });

  it('500 concurrent appends over three runs all resolve, per run in seq order and contiguous', async () => {
    const ledger = await ledgerAt();
    const runs = [await runWith(ledger, 1), await runWith(ledger, 1), await runWith(ledger, 1)];
    const resolvedOrder = new Map<string, number[]>(runs.map((runId) => [runId, []]));
    const appends = Array.from({ length: 500 }, (_, i) => {
      const runId = runs[i % 3]!;
      return ledger
        .append(runId, chunk(`c${i}`), { durability: i % 4 === 0 ? 'critical' : 'stream' })
        .then((event) => {
          resolvedOrder.get(runId)!.push(event.seq);
          return event;
        });
    });
    const events = await Promise.all(appends);
    for (const runId of runs) {
      const order = resolvedOrder.get(runId)!;
      expect(order).toEqual(Array.from({ length: order.length }, (_, i) => i + 2));
      const stored = readAll(ledger, runId);
      expect(stored.map((event) => event.seq)).toEqual(Array.from({ length: order.length + 1 }, (_, i) => i + 1));
    }
    // Each append got the event it asked for, in the order it was called (per run).
    for (const [i, event] of events.entries()) expect((event.payload as { text: string }).text).toBe(`c${i}`);
    expect(ledger.verify().ok).toBe(true);
  });
});

describe('subscribe', () => {
  it('delivers >2000 events of history then live, without gap or repeat, while appends land during catch-up', async () => {
    const ledger = await ledgerAt();
    const runId = await runWith(ledger, 2_500);
    const history = 2_500;
    const extraPerTrigger = 60;
    const triggers = new Set([1, 999, 1_000, 1_001, 1_800, 2_500]);
    const total = history + triggers.size * extraPerTrigger;
    const received: number[] = [];
    const fromMiddle: number[] = [];
    const receivedAtCommit: number[] = [];
    ledger.onCommit((event) => {
      if (event.run_id === runId) receivedAtCommit.push(received.length);
    });
    const appended: Array<Promise<LedgerEvent>> = [];
    let stopMiddle = () => {};
    const middleDone = new Promise<void>((resolve) => {
      stopMiddle = ledger.subscribe(runId, 1_200, (event) => {
        fromMiddle.push(event.seq);
        if (event.seq === total) resolve();
      });
    });
    const done = new Promise<void>((resolve) => {
      ledger.subscribe(runId, 1, (event) => {
        received.push(event.seq);
        if (triggers.has(event.seq)) {
          for (let i = 0; i < extraPerTrigger; i++) appended.push(ledger.append(runId, chunk(`during ${event.seq}/${i}`), { durability: i % 2 ? 'stream' : 'critical' }));
        }
        if (received.length === total) resolve();
      });
    });
    await done;
    await middleDone;
    await Promise.all(appended);
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(fromMiddle).toEqual(Array.from({ length: total - 1_199 }, (_, i) => i + 1_200));
    // Appends really committed while the subscriber was still in its history.
    expect(receivedAtCommit.some((count) => count < history)).toBe(true);
    // Live from here: one more event arrives once; after unsubscribing, nothing arrives.
    const live = await ledger.append(runId, chunk('live'));
    expect(received.at(-1)).toBe(live.seq);
    expect(received).toHaveLength(total + 1);
    stopMiddle();
    await ledger.append(runId, chunk('after unsubscribe'));
    expect(fromMiddle.at(-1)).toBe(live.seq);
  });
});

describe('subscribe with a faulty subscriber', () => {
  beforeAll(() => requireDist());

  it('a subscriber that throws neither crashes the host nor makes another subscriber miss events', async () => {
    const child = spawnFixture('throwing-subscriber.mjs', []);
    const exited = closed(child);
    const stderr = stderrOf(child);
    const line = await waitForLine(child, (text) => text.startsWith('{'), stderr);
    await exited;
    const result = JSON.parse(line) as { delivered: number[]; uncaught: string[]; appended: number[] };
    expect(result.appended).toEqual([2, 3, 4, 5]);
    expect(result.delivered, 'the healthy subscriber sees every event').toEqual([1, 2, 3, 4, 5]);
    expect(result.uncaught, 'the faulty subscriber’s exception escaped the ledger').toEqual([]);
  });
});

describe('the runs projection', () => {
  it('ledger.run(id) answers one run from memory: current after every commit, undefined for an unknown id, the same as runs() and after a reopen', async () => {
    const dataDir = freshDataDir();
    const ledger = await ledgerAt(dataDir);
    expect(ledger.run(ledger.newRunId())).toBeUndefined();
    const runA = await runWith(ledger, 3);
    const runB = await runWith(ledger, 1);
    expect(ledger.run(runA)).toMatchObject({ id: runA, state: 'created', lastSeq: 3, quarantined: false, readOnly: false, origin: 'local' });
    await ledger.append(runA, { type: 'run.state', payload: { state: 'failed', stopReason: 'agent_unavailable' } });
    expect(ledger.run(runA)).toMatchObject({ state: 'failed', stopReason: 'agent_unavailable', lastSeq: 4 });
    expect(ledger.run(runB)).toMatchObject({ id: runB, lastSeq: 1 });
    expect(ledger.runs().map((run) => ledger.run(run.id))).toEqual(ledger.runs());
    // A summary handed out is a snapshot: later commits replace it, never change it under the holder.
    const held = ledger.run(runB)!;
    await ledger.append(runB, chunk('later'));
    expect(held.lastSeq).toBe(1);
    expect(ledger.run(runB)!.lastSeq).toBe(2);
    expect(Object.isFrozen(held)).toBe(true);
    const before = ledger.runs();
    await ledger.close();
    const reopened = await ledgerAt(dataDir);
    expect(reopened.runs()).toEqual(before);
    expect(reopened.run(runA)).toEqual(before.find((run) => run.id === runA));
    // Read-only (beside the writer): read from SQLite, so it sees the writer's newest commit.
    const readOnly = await ledgerAt(dataDir, { readOnly: true });
    await reopened.append(runA, chunk('seen by the reader'));
    expect(readOnly.run(runA)).toEqual(reopened.run(runA));
    expect(readOnly.run(runA)!.lastSeq).toBe(5);
  });
});

describe('export and import', () => {
  it('export is byte-identical to the run’s log', async () => {
    const ledger = await ledgerAt();
    const runId = await runWith(ledger, 50);
    const out = path.join(root, 'export-identical.ndjson');
    const { bytes } = ledger.export(runId, out);
    const log = fs.readFileSync(logOf(ledger.dataDir, runId));
    expect(bytes).toBe(log.length);
    expect(fs.readFileSync(out).equals(log)).toBe(true);
    expect((() => {
      try {
        ledger.export(ledger.newRunId(), path.join(root, 'nothing.ndjson'));
      } catch (error) {
        return (error as LedgerError).code;
      }
      return 'exported';
    })()).toBe('unknown_run');
  });

  it('an imported run is stored byte for byte, read-only (run_read_only), verifies, and stays read-only after reopen', async () => {
    const source = await ledgerAt();
    const runId = await runWith(source, 30);
    const exported = path.join(root, 'import-me.ndjson');
    source.export(runId, exported);
    const targetDir = freshDataDir();
    const target = await openLedger({ dataDir: targetDir });
    expect(target.import(exported)).toEqual({ runId, count: 30, alreadyPresent: false });
    expect(fs.readFileSync(logOf(targetDir, runId)).equals(fs.readFileSync(exported))).toBe(true);
    expect(target.runs()).toMatchObject([{ id: runId, readOnly: true, origin: 'imported', lastSeq: 30 }]);
    expect((await rejection(target.append(runId, chunk('no')))).code).toBe('run_read_only');
    expect(target.verify().ok).toBe(true);
    expect(readAll(target, runId).map((event) => event.hash)).toEqual(readAll(source, runId).map((event) => event.hash));
    expect(target.import(exported).alreadyPresent).toBe(true);
    await target.close();
    const reopened = await ledgerAt(targetDir);
    expect(reopened.runs()).toMatchObject([{ id: runId, readOnly: true, origin: 'imported' }]);
    expect((await rejection(reopened.append(runId, chunk('still no')))).code).toBe('run_read_only');
    expect(reopened.verify().ok).toBe(true);
  });

  it('a torn tail on an imported (read-only) run is cut and recorded on open like any other, and the ledger still opens', async () => {
    const source = await ledgerAt();
    const runId = await runWith(source, 5);
    const exported = path.join(root, 'import-torn.ndjson');
    source.export(runId, exported);
    const dataDir = freshDataDir();
    const target = await openLedger({ dataDir });
    target.import(exported);
    await target.close();
    fs.appendFileSync(logOf(dataDir, runId), '{"torn":');
    let reopened: Ledger | undefined;
    try {
      reopened = await ledgerAt(dataDir);
    } catch (error) {
      // Leave the directory as the failed open left it, for the assertion message.
      throw new Error(`the ledger refused to open (${(error as LedgerError).code}: ${(error as Error).message}); log now ${fs.statSync(logOf(dataDir, runId)).size} bytes, .broken files: ${fs.readdirSync(path.join(dataDir, 'ledger')).filter((name) => name.includes('.broken-')).length}`);
    }
    expect(reopened.recovery.repaired).toEqual([runId]);
    expect(readAll(reopened, runId).at(-1)?.type).toBe('ledger.repaired');
    expect(reopened.verify().ok).toBe(true);
    expect(reopened.runs()).toMatchObject([{ id: runId, readOnly: true }]);
  });

  it('an import interrupted between SQLite and the log copy is quarantined, and a retry completes it read-only', async () => {
    const source = await ledgerAt();
    const runId = await runWith(source, 4);
    const exported = path.join(root, 'import-interrupted.ndjson');
    source.export(runId, exported);
    const dataDir = freshDataDir();
    // Import writes SQLite (marked imported) before copying the log: a crash in between leaves
    // SQLite rows and no log. Reproduce that state, then reopen.
    const first = await ledgerAt(dataDir);
    first.import(exported);
    await first.close();
    fs.rmSync(logOf(dataDir, runId));
    const target = await ledgerAt(dataDir);
    expect(target.runs()).toMatchObject([{ id: runId, readOnly: true, origin: 'imported', quarantined: true }]);
    const retried = target.import(exported);
    expect(retried).toMatchObject({ runId, alreadyPresent: false });
    expect(target.runs()).toMatchObject([{ id: runId, readOnly: true, origin: 'imported', quarantined: false }]);
    expect(fs.readFileSync(logOf(dataDir, runId)).equals(fs.readFileSync(exported))).toBe(true);
    expect(target.verify().ok).toBe(true);
    expect((await rejection(target.append(runId, chunk('must be refused')))).code).toBe('run_read_only');
  });

  it('refuses a tampered, torn or reordered file with import_invalid and imports nothing', async () => {
    const source = await ledgerAt();
    const runId = await runWith(source, 10);
    const good = path.join(root, 'good.ndjson');
    source.export(runId, good);
    const text = fs.readFileSync(good, 'utf8');
    const lines = text.split('\n').filter(Boolean);
    const tampered: Record<string, string> = {
      'edited text (valid JSON)': text.replace('"text":"e5"', '"text":"e6"'),
      'dropped record': [...lines.slice(0, 4), ...lines.slice(5)].map((line) => `${line}\n`).join(''),
      'swapped records': [...lines.slice(0, 3), lines[4]!, lines[3]!, ...lines.slice(5)].map((line) => `${line}\n`).join(''),
      'torn last line': text.slice(0, text.length - 20),
      'garbage appended': `${text}{"not":"a record"}\n`,
      'first line not JSON': `not json\n${text}`,
      'empty file': '',
      'changed hash': text.replace(/"hash":"[0-9a-f]/, (match) => `${match.slice(0, -1)}${match.endsWith('0') ? '1' : '0'}`),
    };
    expect(tampered['edited text (valid JSON)']).not.toBe(text);
    const targetDir = freshDataDir();
    const target = await ledgerAt(targetDir);
    for (const [label, content] of Object.entries(tampered)) {
      const file = path.join(root, `tampered-${label.replace(/\W+/g, '-')}.ndjson`);
      fs.writeFileSync(file, content);
      let code: string | undefined;
      try {
        target.import(file);
      } catch (error) {
        code = (error as LedgerError).code;
      }
      expect(code, label).toBe('import_invalid');
      expect(fs.readdirSync(path.join(targetDir, 'ledger')), label).toEqual([]);
      expect(target.runs(), label).toEqual([]);
      expect(readAll(target, runId), label).toEqual([]);
    }
    expect(target.verify()).toEqual({ ok: true, runs: [], sqliteCheck: { ok: true, messages: ['ok'] } });
    // The untampered file still imports.
    expect(target.import(good).count).toBe(10);
  });
});

describe('backfill and repair', () => {
  it('backfill is idempotent, and recovery without keel.db backfills everything and verifies', async () => {
    const dataDir = freshDataDir();
    const ledger = await openLedger({ dataDir });
    const runs = [await runWith(ledger, 40), await runWith(ledger, 1), await runWith(ledger, 2_100)];
    const before = new Map(runs.map((runId) => [runId, readAll(ledger, runId)]));
    const first = ledger.backfill();
    expect(first.map((run) => run.inserted)).toEqual([0, 0, 0]);
    const second = ledger.backfill();
    expect(second.map((run) => [run.runId, run.upToDate, run.inserted])).toEqual([...runs].sort().map((runId) => [runId, true, 0]));
    await ledger.close();

    deleteDatabase(dataDir);
    const reopened = await ledgerAt(dataDir);
    const backfilled = new Map(reopened.recovery.runs.map((run) => [run.runId, run.backfilled]));
    for (const runId of runs) {
      expect(backfilled.get(runId)).toBe(before.get(runId)!.length);
      expect(readAll(reopened, runId)).toEqual(before.get(runId));
    }
    expect(reopened.verify().ok).toBe(true);
    expect(reopened.backfill().every((run) => run.upToDate && run.inserted === 0)).toBe(true);
    // Appends continue the recovered chains.
    expect((await reopened.append(runs[0]!, chunk('next'))).seq).toBe(41);
    expect(reopened.verify().ok).toBe(true);
  });

  it('a cut tail whose ledger.repaired event was lost to a crash is recorded on the next open, exactly once', async () => {
    const dataDir = freshDataDir();
    const first = await ledgerAt(dataDir);
    const runId = await runWith(first, 3);
    await first.close();
    // What a crash between the cut and its event leaves: a broken file nobody mentions.
    const broken = `${runId}.ndjson.broken-2026-01-01T00-00-00-000Z`;
    fs.writeFileSync(path.join(dataDir, 'ledger', broken), 'torn bytes');
    const second = await ledgerAt(dataDir);
    const repairs = second.read(runId).filter((event) => event.type === 'ledger.repaired');
    expect(repairs).toMatchObject([{ seq: 4, payload: { brokenFile: broken, truncatedBytes: 10, keptThroughSeq: 3 } }]);
    await second.close();
    const third = await ledgerAt(dataDir);
    expect(third.read(runId).filter((event) => event.type === 'ledger.repaired')).toHaveLength(1);
    expect(third.verify().ok).toBe(true);
  });

  it('a log shorter than SQLite quarantines the run (reason names repair --from-sqlite); repairFromSqlite restores it byte for byte', async () => {
    const dataDir = freshDataDir();
    const ledger = await openLedger({ dataDir });
    const runId = await runWith(ledger, 20);
    const other = await runWith(ledger, 3);
    await ledger.close();
    const file = logOf(dataDir, runId);
    const original = fs.readFileSync(file);
    const lines = original.toString('utf8').split('\n').filter(Boolean);
    fs.writeFileSync(file, lines.slice(0, 12).map((line) => `${line}\n`).join(''));

    const reopened = await ledgerAt(dataDir);
    expect(reopened.recovery.quarantined).toEqual([runId]);
    const summary = reopened.run(runId)!;
    expect(summary.quarantined).toBe(true);
    expect(summary.quarantineReason).toMatch(/repair --from-sqlite/);
    expect(summary.quarantineReason).toMatch(/13\.\.20/);
    expect(reopened.health().quarantinedRuns).toEqual([runId]);
    expect(reopened.verify().ok).toBe(false);
    expect(reopened.verify(other).ok).toBe(true);
    expect((await rejection(reopened.append(runId, chunk('refused')))).code).toBe('run_quarantined');
    // Nothing was deleted from SQLite while quarantined.
    expect(readAll(reopened, runId)).toHaveLength(20);

    expect(reopened.repairFromSqlite(runId)).toEqual({ appended: 8 });
    expect(fs.readFileSync(file).equals(original)).toBe(true);
    expect(reopened.verify().ok).toBe(true);
    expect(reopened.health().quarantinedRuns).toEqual([]);
    expect((await reopened.append(runId, chunk('after repair'))).seq).toBe(21);
    await reopened.close();
    const again = await ledgerAt(dataDir);
    expect(again.recovery.quarantined).toEqual([]);
    expect(again.verify().ok).toBe(true);
  });

  it('a missing log quarantines the run; repairFromSqlite rewrites it from SQLite', async () => {
    const dataDir = freshDataDir();
    const ledger = await openLedger({ dataDir });
    const runId = await runWith(ledger, 7);
    await ledger.close();
    const file = logOf(dataDir, runId);
    const original = fs.readFileSync(file);
    fs.rmSync(file);
    const reopened = await ledgerAt(dataDir);
    expect(reopened.recovery.quarantined).toEqual([runId]);
    expect(reopened.runs()[0]!.quarantineReason).toMatch(/missing.*repair --from-sqlite/);
    expect(reopened.verify().ok).toBe(false);
    expect(reopened.repairFromSqlite(runId)).toEqual({ appended: 7 });
    expect(fs.readFileSync(file).equals(original)).toBe(true);
    expect(reopened.verify().ok).toBe(true);
    expect((await reopened.append(runId, chunk('next'))).seq).toBe(8);
  });

  it('repairFromSqlite refuses to extend a damaged log (repair_refused)', async () => {
    const dataDir = freshDataDir();
    const ledger = await openLedger({ dataDir });
    const runId = await runWith(ledger, 5);
    await ledger.close();
    const file = logOf(dataDir, runId);
    const damaged = fs.readFileSync(file);
    damaged[damaged.indexOf('"text":"e3"') + 9]! ^= 0x01;
    fs.writeFileSync(file, damaged);
    const reopened = await ledgerAt(dataDir);
    // A same-length edit behind the verified marker: found by the check that follows open (issue 16).
    await reopened.backgroundCheck();
    expect(reopened.recovery.quarantined).toEqual([runId]);
    let code: string | undefined;
    try {
      reopened.repairFromSqlite(runId);
    } catch (error) {
      code = (error as LedgerError).code;
    }
    expect(code).toBe('repair_refused');
    expect(fs.readFileSync(file).equals(damaged)).toBe(true);
  });
});

describe('one writer per data directory', () => {
  beforeAll(() => requireDist());

  it('refuses a second writer (locked) while another process holds the directory, and takes over after it is killed', async () => {
    const dataDir = freshDataDir();
    const seeded = await openLedger({ dataDir });
    const runId = await runWith(seeded, 3);
    await seeded.close();
    const holder = spawnFixture('ledger-holder.mjs', [dataDir, 'hold']);
    const exited = closed(holder);
    await waitForLine(holder, (line) => line === 'READY', stderrOf(holder));
    const refused = await rejection(openLedger({ dataDir }));
    expect(refused.code).toBe('locked');
    expect(refused.message).toContain(`pid ${holder.pid}`);
    // A read-only ledger can verify beside the writer, and closing it leaves the writer's lock.
    const readOnly = await openLedger({ dataDir, readOnly: true });
    expect(readOnly.verify().ok).toBe(true);
    await readOnly.close();
    expect((await rejection(openLedger({ dataDir }))).code).toBe('locked');
    holder.kill('SIGKILL');
    await exited;
    const after = await ledgerAt(dataDir);
    expect(after.verify().ok).toBe(true);
    expect((await after.append(runId, chunk('taken over'))).seq).toBe(4);
  });

  it('refuses a second writer in the same process while the first is open', async () => {
    const dataDir = freshDataDir();
    const first = await ledgerAt(dataDir);
    const runId = await runWith(first, 1);
    const second = await openLedger({ dataDir }).then(
      async (ledger) => {
        await ledger.close();
        return null;
      },
      (error: LedgerError) => error,
    );
    expect(second?.code ?? 'opened a second writer').toBe('locked');
    // The first writer still owns the lock and works.
    expect(fs.readFileSync(path.join(dataDir, 'ledger.lock.owner'), 'utf8').trim()).toBe(String(process.pid));
    expect((await first.append(runId, chunk('still mine'))).seq).toBe(2);
  });

  it('a read-only ledger verifies while a writer in this process has the directory open', async () => {
    const dataDir = freshDataDir();
    const writer = await ledgerAt(dataDir);
    const runId = await runWith(writer, 100);
    const readOnly = await ledgerAt(dataDir, { readOnly: true });
    expect(readOnly.verify().ok).toBe(true);
    await writer.append(runId, chunk('more'));
    expect(readOnly.verify().ok).toBe(true);
    expect(readAll(readOnly, runId)).toHaveLength(101);
    expect(readOnly.runs().map((run) => run.id)).toEqual([runId]);
  });

  it('a read-only verify beside a busy writer process never reports a disagreement', { timeout: 60_000 }, async () => {
    const dataDir = freshDataDir();
    const writer = spawnFixture('ledger-holder.mjs', [dataDir, 'busy']);
    const exited = closed(writer);
    const stderr = stderrOf(writer);
    let acks = 0;
    onLines(writer, (line) => {
      if (line.startsWith('ACK ')) acks += 1;
    });
    await waitForLine(writer, (line) => line.startsWith('ACK '), stderr);
    const problems: string[] = [];
    const rounds = 25;
    for (let i = 0; i < rounds; i++) {
      const readOnly = await openLedger({ dataDir, readOnly: true });
      try {
        const report = readOnly.verify();
        if (!report.ok) problems.push(`round ${i}: ${report.runs.flatMap((run) => run.problems).join('; ')}`);
      } finally {
        await readOnly.close();
      }
    }
    writer.stdin!.end();
    const { code } = await exited;
    expect(code, stderr()).toBe(0);
    expect(acks, 'the writer was appending during the rounds').toBeGreaterThan(1);
    expect(problems, `${problems.length}/${rounds} verifies beside a live writer disagreed`).toEqual([]);
    const final = await ledgerAt(dataDir, { readOnly: true });
    expect(final.verify().ok).toBe(true);
  });
});
