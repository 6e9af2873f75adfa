import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLedger, type Ledger } from '../src/ledger/index.js';
import { readQuietLedger } from '../src/ledger/quiet-listing.js';
import { readRunState } from '../src/replay/index.js';
import { reconcileMayAct } from '../src/runs/reconcile-gate.js';
import { RunManager } from '../src/runs/index.js';
import { findRestoreJournals } from '../src/workspace/index.js';
import { recordStorageFailure, reserveStorageFailureMarker } from '../src/runs/storage-failure.js';
import type { AppendInput } from '../src/contract/index.js';

// `keel runs` lists from the projection only when opening the data directory as a host would
// do nothing (issue 16): these tests hold the quiet check to what recovery and reconciliation do.

let dataDir: string;
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-quiet-'));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const created = (workspace: string): AppendInput => ({ type: 'run.created', payload: { workspace, agent: { kind: 'builtin', script: 'demo' } } }) as AppendInput;
const state = (value: string, stopReason?: string): AppendInput =>
  ({ type: 'run.state', payload: { state: value, ...(stopReason ? { stopReason } : {}) } }) as AppendInput;
const started = (generation: number): AppendInput =>
  ({ type: 'runtime.started', payload: { generation, pid: 999_999, command: ['agent'], hostPid: 999_998 } }) as AppendInput;
const exited = (generation: number): AppendInput =>
  ({ type: 'runtime.exited', payload: { generation, code: 0, signal: null, expected: true } }) as AppendInput;

async function withLedger<T>(use: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await openLedger({ dataDir, backgroundCheck: false });
  try {
    return await use(ledger);
  } finally {
    await ledger.close();
  }
}

async function run(ledger: Ledger, ...bodies: AppendInput[]): Promise<string> {
  const runId = ledger.newRunId();
  await ledger.append(runId, created(dataDir));
  for (const body of bodies) await ledger.append(runId, body);
  return runId;
}

/** The quiet listing and whether reconciliation could act, as `keel runs` asks them. */
function quietListing(): { runs: string[]; reconcile: boolean } | null {
  const quiet = readQuietLedger(dataDir);
  if (!quiet) return null;
  try {
    return { runs: quiet.runs.map((summary) => summary.id), reconcile: reconcileMayAct(dataDir, quiet.runs, (id) => quiet.lastGenerationExited(id)) };
  } finally {
    quiet.close();
  }
}

describe('readQuietLedger', () => {
  it('gives exactly the summaries an opened ledger gives, when every log ends at its marker', async () => {
    const expected = await withLedger(async (ledger) => {
      await run(ledger, state('completed', 'end_turn'));
      await run(ledger, started(1), exited(1), state('completed', 'end_turn'));
      return ledger.runs();
    });
    const quiet = readQuietLedger(dataDir)!;
    try {
      expect(quiet.runs).toEqual(expected);
    } finally {
      quiet.close();
    }
    expect(quietListing()).toEqual({ runs: expected.map((summary) => summary.id), reconcile: false });
  });

  it('is not quiet when a log holds bytes past its marker (a torn tail recovery must cut)', async () => {
    const runId = await withLedger((ledger) => run(ledger, state('completed', 'end_turn')));
    fs.appendFileSync(path.join(dataDir, 'ledger', `${runId}.ndjson`), '{"torn":');
    expect(readQuietLedger(dataDir)).toBeNull();
    // The open it defers to cuts the tail; then the ledger is quiet again.
    await withLedger(async (ledger) => expect(ledger.recovery.repaired).toEqual([runId]));
    expect(quietListing()?.runs).toEqual([runId]);
  });

  it('is not quiet when a log is shorter than its marker, or lost its marker, or a broken file lies beside it', async () => {
    const runId = await withLedger((ledger) => run(ledger, state('completed', 'end_turn')));
    const log = path.join(dataDir, 'ledger', `${runId}.ndjson`);
    const bytes = fs.readFileSync(log);
    fs.writeFileSync(log, bytes.subarray(0, bytes.length - 5));
    expect(readQuietLedger(dataDir)).toBeNull();
    fs.writeFileSync(log, bytes);
    expect(readQuietLedger(dataDir)).not.toBeNull();
    readQuietLedger(dataDir)?.close();

    fs.writeFileSync(`${log}.broken-2026-01-01T00-00-00-000Z`, 'x');
    expect(readQuietLedger(dataDir)).toBeNull();
    fs.rmSync(`${log}.broken-2026-01-01T00-00-00-000Z`);

    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path.join(dataDir, 'keel.db'));
    db.prepare('DELETE FROM backfill_markers WHERE run_id = ?').run(runId);
    db.close();
    expect(readQuietLedger(dataDir)).toBeNull();
  });

  it('is not quiet when a log has no run in SQLite, or a run has no log', async () => {
    const runId = await withLedger((ledger) => run(ledger, state('completed', 'end_turn')));
    const log = path.join(dataDir, 'ledger', `${runId}.ndjson`);
    fs.renameSync(log, `${log}.moved`);
    expect(readQuietLedger(dataDir)).toBeNull();
    fs.renameSync(`${log}.moved`, log);
    fs.writeFileSync(path.join(dataDir, 'ledger', '01ZZZZZZZZZZZZZZZZZZZZZZZZ.ndjson'), '');
    expect(readQuietLedger(dataDir)).toBeNull();
  });
});

describe('reconcileMayAct', () => {
  it('says yes for a run left active, and for an idle run whose agent has no recorded exit', async () => {
    const active = await withLedger((ledger) => run(ledger, started(1), state('running')));
    expect(quietListing()).toEqual({ runs: [active], reconcile: true });
    fs.rmSync(dataDir, { recursive: true, force: true });

    const idle = await withLedger((ledger) => run(ledger, started(1), state('idle')));
    expect(quietListing()).toEqual({ runs: [idle], reconcile: true });
    await withLedger(async (ledger) => {
      await ledger.append(idle, exited(1));
    });
    expect(quietListing()).toEqual({ runs: [idle], reconcile: false });
  });

  it('answers lastGenerationExited as readRunState does from the same process facts', async () => {
    const cases: AppendInput[][] = [
      [],
      [started(1)],
      [started(1), exited(1)],
      [started(1), exited(1), started(2)],
      [started(1), started(2), exited(1)],
      [started(1), started(2), exited(2)],
      [started(2), exited(1)],
      // An exit of a generation that never started does not undo the exit of the one that did.
      [started(1), exited(1), exited(2)],
      [started(1), started(2), exited(2), exited(1)],
      [started(2), started(1), exited(2)],
      [started(2), started(1), exited(1)],
    ];
    await withLedger(async (ledger) => {
      const ids = [];
      for (const bodies of cases) ids.push(await run(ledger, ...bodies, state('idle')));
      const quietFacts = new Map<string, boolean>();
      await ledger.close();
      const quiet = readQuietLedger(dataDir)!;
      for (const id of ids) quietFacts.set(id, quiet.lastGenerationExited(id));
      quiet.close();
      const reopened = await openLedger({ dataDir, backgroundCheck: false });
      try {
        for (const id of ids) expect(quietFacts.get(id), id).toBe(readRunState(id, reopened.processFacts(id)).lastGenerationExited);
      } finally {
        await reopened.close();
      }
    });
  });

  it('says yes when a run has a storage failure beside it or a restore is unfinished', async () => {
    const runId = await withLedger((ledger) => run(ledger, state('completed', 'end_turn')));
    const runDir = path.join(dataDir, 'runs', runId);
    fs.mkdirSync(runDir, { recursive: true });
    reserveStorageFailureMarker(runDir);
    expect(quietListing()?.reconcile).toBe(false);
    recordStorageFailure(runDir, 'disk full');
    expect(quietListing()?.reconcile).toBe(true);
    reserveStorageFailureMarker(runDir);
    fs.rmSync(path.join(runDir, 'storage-failure.json'));
    fs.writeFileSync(path.join(runDir, 'restore-journal.json'), '{}');
    // The journal RunManager.open would resume (the name the gate looks for is the workspace's).
    expect(findRestoreJournals(dataDir).map((found) => found.runId)).toEqual([runId]);
    expect(quietListing()?.reconcile).toBe(true);
  });
});

describe('host-crash reconciliation (RunManager.open)', () => {
  it('reads the process facts only of runs that may have been left live, and reconciles exactly those', async () => {
    const { ended, leftLive, completed } = await withLedger(async (ledger) => ({
      ended: await run(ledger, started(1), exited(1), state('idle')),
      leftLive: await run(ledger, started(1), state('idle')),
      completed: await run(ledger, started(1), state('completed', 'end_turn')),
    }));
    const ledger = await openLedger({ dataDir, backgroundCheck: false });
    const factsRead: string[] = [];
    const processFacts = ledger.processFacts.bind(ledger);
    ledger.processFacts = (runId) => {
      factsRead.push(runId);
      return processFacts(runId);
    };
    try {
      const manager = await RunManager.open({ ledger, dataDir, tuning: { hangTimeoutMs: 0 } });
      await manager.close();
      expect(factsRead).toEqual([leftLive]);
      expect(ledger.read(leftLive).some((event) => event.type === 'run.recovered')).toBe(true);
      for (const id of [ended, completed]) expect(ledger.read(id).some((event) => event.type === 'run.recovered'), id).toBe(false);
    } finally {
      await ledger.close();
    }
  });
});
