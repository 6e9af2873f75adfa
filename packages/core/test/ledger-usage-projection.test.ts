// The run list's usage (issue 15 point 25) comes from the runs projection, in O(runs): the
// projection's `usage` column must equal the run view's fold of the same events (I9: one
// formula), across a reopen (tool call ids already seen stay seen), on the quiet listing
// `keel runs` reads, after keel.db is rebuilt from the logs, and verify names the column when
// it is damaged.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppendInput, LedgerEvent } from '../src/contract/schemas/ledger.js';
import { openLedger, type Ledger } from '../src/ledger/index.js';
import { readQuietLedger } from '../src/ledger/quiet-listing.js';
import { fold } from '../src/replay/index.js';
import { created, deleteDatabase, readAll } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-usage-projection-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A clock 1.5 s further on at every call, so turn durations are not zero. */
function ticking(start = Date.parse('2030-01-01T00:00:00.000Z')) {
  let at = start;
  return () => new Date((at += 1500));
}

const e = (type: string, payload: object): AppendInput => ({ type, payload }) as AppendInput;

/** Turn 1: a tool restated and updated, a tool only updated, two reports of one session's cost. */
const firstPart: AppendInput[] = [
  created('usage'),
  e('prompt.sent', { turn: 1, text: 'hi', ik: 'ik:1' }),
  e('tool.started', { toolCallId: 'c1', title: 'Read' }),
  e('tool.started', { toolCallId: 'c1', title: 'Read a.txt' }),
  e('tool.updated', { toolCallId: 'c1', status: 'in_progress', output: 'a' }),
  e('tool.updated', { toolCallId: 'c2', status: 'completed' }),
  e('usage.reported', { turn: 1, source: 'test', tokens: { input: 1200, output: 30, total: 1230 }, cost: { session: 's1', amount: 0.5, currency: 'USD' } }),
  e('usage.reported', { turn: 1, source: 'test', tokens: { input: 10, output: 5, cachedInput: 8, total: 15 }, cost: { session: 's1', amount: 0.75, currency: 'USD' } }),
  e('turn.ended', { turn: 1, stopReason: 'end_turn' }),
];
/** After a reopen: an update of c1 (seen before the reopen: not a new call), c3, a second session, an open turn. */
const secondPart: AppendInput[] = [
  e('prompt.sent', { turn: 2, text: 'again', ik: 'ik:2' }),
  e('tool.updated', { toolCallId: 'c1', status: 'completed' }),
  e('tool.started', { toolCallId: 'c3', title: 'Write' }),
  e('usage.reported', { turn: 2, source: 'test', tokens: { input: 40, output: 2, total: 42 }, cost: { session: 's2', amount: 0.25, currency: 'USD' }, context: { used: 900, size: 1000 } }),
  e('turn.ended', { turn: 2, stopReason: 'end_turn' }),
  e('prompt.sent', { turn: 3, text: 'open', ik: 'ik:3' }),
];

function expectProjectionEqualsFold(ledger: Ledger, runId: string, where: string): LedgerEvent[] {
  const events = readAll(ledger, runId);
  const folded = fold(events, runId).usage;
  expect(ledger.run(runId)?.usage, where).toEqual(folded);
  expect(ledger.runs().find((run) => run.id === runId)?.usage, where).toEqual(folded);
  return events;
}

describe('run usage in the runs projection', () => {
  const dir = path.join(root, 'ledger');
  let runId = '';

  it('equals the fold of the run view, batch by batch and across a reopen', async () => {
    const now = ticking();
    const first = await openLedger({ dataDir: dir, now });
    runId = first.newRunId();
    const other = first.newRunId();
    await first.append(other, created('no usage'));
    // Appended together: group commit folds several usage events into one batch.
    await Promise.all(firstPart.map((input) => first.append(runId, input)));
    expectProjectionEqualsFold(first, runId, 'first open');
    expect(first.run(runId)?.usage).toMatchObject({ toolCalls: 2, tokens: { input: 1210, output: 35, cachedInput: 8, total: 1245 }, cost: [{ amount: 0.75, currency: 'USD' }] });
    expect(first.run(other)?.usage).toEqual({ tokens: null, cost: [], costBySession: {}, context: null, toolCalls: 0, durationMs: 0, turnSince: null });
    await first.close();

    const second = await openLedger({ dataDir: dir, now });
    try {
      for (const input of secondPart) await second.append(runId, input);
      const events = expectProjectionEqualsFold(second, runId, 'after the reopen');
      const usage = second.run(runId)!.usage!;
      // c1 (restated, updated after the reopen), c2 (only updated), c3.
      expect(usage.toolCalls).toBe(3);
      expect(usage.cost).toEqual([{ amount: 1, currency: 'USD' }]);
      expect(usage.context).toEqual({ used: 900, size: 1000 });
      const ts = (turn: number, type: string) => Date.parse(events.find((event) => event.type === type && (event.payload as { turn: number }).turn === turn)!.ts);
      expect(usage.durationMs).toBe(ts(1, 'turn.ended') - ts(1, 'prompt.sent') + ts(2, 'turn.ended') - ts(2, 'prompt.sent'));
      expect(usage.turnSince).toBe(events.at(-1)!.ts);
      expect(second.verify().ok).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('is what the quiet listing (`keel runs`) reads', () => {
    const quiet = readQuietLedger(dir);
    expect(quiet, 'the ledger is quiet').not.toBeNull();
    try {
      const stored = quiet!.runs.find((run) => run.id === runId)!;
      expect(stored.usage?.toolCalls).toBe(3);
      expect(stored.usage?.tokens?.total).toBe(1245 + 42);
    } finally {
      quiet!.close();
    }
  });

  it('is the same in a keel.db rebuilt from the logs, and verify agrees', async () => {
    const before = await openLedger({ dataDir: dir, readOnly: true });
    const usage = before.run(runId)?.usage;
    await before.close();
    deleteDatabase(dir);
    const rebuilt = await openLedger({ dataDir: dir });
    try {
      expectProjectionEqualsFold(rebuilt, runId, 'rebuilt');
      expect(rebuilt.run(runId)?.usage).toEqual(usage);
      expect(rebuilt.verify().ok).toBe(true);
      // After the rebuild the seen ids are known again: an update of c3 is not a new call.
      await rebuilt.append(runId, e('tool.updated', { toolCallId: 'c3', status: 'completed' }));
      expect(rebuilt.run(runId)?.usage?.toolCalls).toBe(3);
      expectProjectionEqualsFold(rebuilt, runId, 'rebuilt, then appended');
    } finally {
      await rebuilt.close();
    }
  });

  it('verify names the usage column when it no longer equals the fold', async () => {
    const db = new Database(path.join(dir, 'keel.db'));
    db.prepare('UPDATE runs SET usage = ? WHERE id = ?').run('{"toolCalls":99,"durationMs":0}', runId);
    db.close();
    const readOnly = await openLedger({ dataDir: dir, readOnly: true });
    try {
      const run = readOnly.verify(runId).runs.find((candidate) => candidate.runId === runId);
      expect(run?.agree).toBe(false);
      expect(run?.mismatches).toContainEqual(expect.objectContaining({ table: 'runs', column: 'usage' }));
    } finally {
      await readOnly.close();
    }
  });
});
