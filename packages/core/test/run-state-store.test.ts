// Stored run states (issue 16): a closing controller stores its run state, and the next open
// starts from it and folds only the events after it, to the same state as a fold of every event.
// A stored state that does not fit (damaged, another version, past the run's end) is not used.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppendInput } from '../src/contract/index.js';
import { openLedger, type Ledger } from '../src/ledger/index.js';
import { applyRunEvent, decodeRunState, encodeRunState, readRunState, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION, RUN_STATE_TYPES, type RunState } from '../src/replay/index.js';
import { loadRunState, saveRunState } from '../src/runs/run-state-store.js';
import { readAll, syntheticBodies } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-run-state-store-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function append(ledger: Ledger, runId: string, bodies: readonly AppendInput[]): Promise<void> {
  for (let at = 0; at < bodies.length; at += 500) await Promise.all(bodies.slice(at, at + 500).map((body) => ledger.append(runId, body, { durability: 'stream' })));
}

/** What RunController.open does: the stored state, then the run state's events after it. */
function openState(ledger: Ledger, runId: string): { state: RunState; storedSeq: number } {
  const loaded = loadRunState(ledger, runId);
  for (const event of ledger.eventsOfTypes(runId, RUN_STATE_TYPES, { afterSeq: loaded.state.lastSeq })) applyRunEvent(loaded.state, event);
  return loaded;
}

const withoutSeq = ({ lastSeq: _lastSeq, ...rest }: RunState) => rest;

describe('stored run states', () => {
  it('round-trip through their encoding, Maps and all', async () => {
    const ledger = await openLedger({ dataDir: `${root}/codec`, streamWindowMs: 1 });
    try {
      const runId = ledger.newRunId();
      await append(ledger, runId, syntheticBodies(3_000, 3));
      const state = readRunState(runId, readAll(ledger, runId));
      expect(state.approvals.size).toBeGreaterThan(0);
      expect(state.turnStops.size).toBeGreaterThan(0);
      expect(decodeRunState(encodeRunState(state), runId)).toEqual(state);
      expect(decodeRunState(encodeRunState(state), 'another-run')).toBeNull();
      expect(decodeRunState('{"runId": "x"', runId)).toBeNull();
    } finally {
      await ledger.close();
    }
  });

  it('an open starts from the stored state and folds the rest to the same state as every event; a close stores again only after 1,000 more events', async () => {
    const ledger = await openLedger({ dataDir: `${root}/open`, streamWindowMs: 1 });
    try {
      const runId = ledger.newRunId();
      const bodies = syntheticBodies(8_000, 11);
      await append(ledger, runId, bodies.slice(0, 5_000));
      const first = openState(ledger, runId);
      expect(first.storedSeq).toBe(0);
      // A controller folds every committed event while it is open; it closes at the run's end.
      const closing = readRunState(runId, readAll(ledger, runId));
      const stored = saveRunState(ledger, closing, first.storedSeq);
      expect(stored).toBe(ledger.run(runId)!.lastSeq);
      expect(ledger.snapshots.seqs(runId, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION)).toEqual([stored]);

      await append(ledger, runId, bodies.slice(5_000));
      const reopened = openState(ledger, runId);
      expect(reopened.storedSeq).toBe(stored);
      expect(withoutSeq(reopened.state)).toEqual(withoutSeq(readRunState(runId, readAll(ledger, runId))));

      // Fewer than 1,000 events since the stored state: not stored again.
      const few = { ...reopened.state, lastSeq: stored + 999 };
      expect(saveRunState(ledger, few, stored)).toBe(stored);
      expect(ledger.snapshots.seqs(runId, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION)).toEqual([stored]);
    } finally {
      await ledger.close();
    }
  });

  it('a damaged stored state, one of another version, or one past the run\'s last event is not used: the open folds every event', async () => {
    const ledger = await openLedger({ dataDir: `${root}/misfit`, streamWindowMs: 1 });
    try {
      const runId = ledger.newRunId();
      await append(ledger, runId, syntheticBodies(2_000, 13));
      const full = readRunState(runId, readAll(ledger, runId));
      const last = ledger.run(runId)!.lastSeq;
      const misfits: Array<[string, () => void]> = [
        ['damaged', () => ledger.snapshots.save(runId, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION, last, '{"runId":')],
        ['another version', () => ledger.snapshots.save(runId, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION + 1, last, encodeRunState(full))],
        ['past the end', () => ledger.snapshots.save(runId, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION, last + 10, encodeRunState({ ...full, lastSeq: last + 10, currentTurn: 999 }))],
      ];
      for (const [name, plant] of misfits) {
        ledger.snapshots.forget(runId);
        plant();
        const opened = openState(ledger, runId);
        expect(opened.storedSeq, name).toBe(0);
        expect(withoutSeq(opened.state), name).toEqual(withoutSeq(full));
      }
    } finally {
      await ledger.close();
    }
  });
});
