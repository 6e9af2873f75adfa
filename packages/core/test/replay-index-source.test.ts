// The replay index over a real ledger without holding its events (issue 14: state at any seq
// costs O(every) events): from the nearest mark, the state equals a straight fold from seq 1
// at random seqs, the window it sends is a slice of that fold, and no stateAt re-reads more
// than one mark's worth of events. Not timed: speed is `keel bench replay`.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../src/contract/index.js';
import { readSliceFrom } from '../src/diagnostics/index.js';
import { generateHistory } from '../src/host/index.js';
import { ledgerSource } from '../src/host/replay-service.js';
import { openLedger } from '../src/ledger/index.js';
import { fold, mulberry32, ReplayIndex, type ReplayEventSource } from '../src/replay/index.js';
import { tempDir } from './helpers.js';

const EVENTS = 6_000;
const EVERY = 128;

/** Counts what a source yields, to prove a lookup re-reads at most one mark's worth. */
function counting(source: ReplayEventSource) {
  const counter = { read: 0 };
  const wrapped: ReplayEventSource = {
    *after(cursor, pageHint) {
      for (const event of source.after(cursor, pageHint)) {
        counter.read++;
        yield event;
      }
    },
  };
  return { counter, source: wrapped };
}

describe('replay index over the ledger', () => {
  it('stateAt from the nearest mark equals a full fold from seq 1 at random seqs, re-reading at most `every` events', async () => {
    const dataDir = tempDir();
    const history = await generateHistory(dataDir, { runs: 1, eventsPerRun: EVENTS, seed: 7 });
    const runId = history.longestRunId!;
    const ledger = await openLedger({ dataDir, backgroundCheck: false });
    try {
      const events: LedgerEvent[] = [...ledgerSource(ledger, runId).after(0, 1_000)];
      expect(events.map((event) => event.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
      const { counter, source } = counting(ledgerSource(ledger, runId));
      const index = new ReplayIndex({ runId, every: EVERY, source });
      for (const event of events) index.append(event, event.seq);
      expect(index).toMatchObject({ length: events.length, lastSeq: events.length, markCount: 1 + Math.floor(events.length / EVERY) });
      expect(counter.read).toBe(0);

      const random = mulberry32(14);
      const seqs = [0, 1, EVERY - 1, EVERY, EVERY + 1, events.length - 1, events.length];
      for (let n = 0; n < 40; n++) seqs.push(Math.floor(random() * (events.length + 1)));
      for (const seq of seqs) {
        counter.read = 0;
        const expected = fold(events.slice(0, seq), runId);
        expect(index.stateAt(seq), `seq ${seq}`).toEqual(expected);
        expect(counter.read, `events re-read for seq ${seq}`).toBeLessThanOrEqual(EVERY);

        const from = Math.floor(random() * (expected.items.length + 1));
        const window = index.windowAt(seq, 50, from);
        expect(window, `window at seq ${seq} from ${from}`).toEqual({ view: { ...expected, items: expected.items.slice(from, from + 50) }, itemCount: expected.items.length, itemsFrom: from });
        const last = index.windowAt(seq, 20);
        expect(last.itemsFrom).toBe(Math.max(0, expected.items.length - 20));
        expect(last.view.items).toEqual(expected.items.slice(Math.max(0, expected.items.length - 20)));
      }

      for (const fromSeq of [1, EVERY, EVERY + 1, 3_001, events.length]) {
        counter.read = 0;
        expect(index.eventsFrom(fromSeq, 7), `page from ${fromSeq}`).toEqual(events.slice(fromSeq - 1, fromSeq + 6));
        expect(counter.read).toBeLessThanOrEqual(EVERY + 7);
      }
    } finally {
      await ledger.close();
    }
  }, 120_000);

  it('reads a slice file from any record boundary in small chunks, skipping the trailer and damaged lines', () => {
    const dir = tempDir();
    const file = path.join(dir, 'slice.ndjson');
    const records = Array.from({ length: 50 }, (_, i) => ({ run_id: 'r', seq: i + 1, prev: `p${i}`, hash: `h${i + 1}`, type: 'message.chunk', payload: { text: 'x'.repeat(i * 37) } }));
    const lines = records.map((record) => JSON.stringify(record));
    lines.splice(20, 0, '{not json');
    fs.writeFileSync(file, `${lines.join('\n')}\n${JSON.stringify({ keel_export: 'trailer', head_hash: 'h50', count: 50, last_seq: 50 })}`);

    const all = [...readSliceFrom(file, 0, 4096)];
    expect(all.map(({ event }) => event)).toEqual(records);
    for (const [i, { end }] of all.entries()) {
      expect([...readSliceFrom(file, end, 4096)].map(({ event }) => event.seq), `after seq ${i + 1}`).toEqual(records.slice(i + 1).map((record) => record.seq));
    }
    expect(all.at(-1)!.end).toBeLessThan(fs.statSync(file).size);
  });
});
