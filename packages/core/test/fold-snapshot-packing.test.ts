// Fold snapshots are stored packed (brotli, issue 16: a cold run.view of a long run reads a
// fraction of the pages); plain text stored before packing, or by any other fold, reads as before.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBody, type AppendInput } from '../src/contract/index.js';
import { openLedger, packSnapshot, packSnapshotText, unpackSnapshot } from '../src/ledger/index.js';
import { fold, RUN_VIEW_FOLD_VERSION, syntheticRun } from '../src/replay/index.js';
import { encodeView, loadViewSnapshot, RUN_VIEW_FOLD, RunViews, saveViewSnapshot } from '../src/runs/index.js';
import { readAll } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-packing-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function runOf(count: number) {
  const ledger = await openLedger({ dataDir: path.join(root, `data-${count}`), streamWindowMs: 1 });
  const runId = ledger.newRunId();
  const bodies: AppendInput[] = [];
  for (const event of syntheticRun(count, { seed: 5 })) {
    const body = { type: event.type, payload: event.payload };
    if (EventBody.safeParse(body).success) bodies.push({ ...body, ...(event.generation === undefined ? {} : { generation: event.generation }) } as AppendInput);
  }
  for (let at = 0; at < bodies.length; at += 500) await Promise.all(bodies.slice(at, at + 500).map((body) => ledger.append(runId, body, { durability: 'stream' })));
  return { ledger, runId };
}

describe('packed fold snapshots', () => {
  it('pack and unpack each take a few event-loop turns however busy the loop is (not one per 16 KiB chunk)', async () => {
    // ~2.6 MB of varied text: the default 16 KiB zlib chunks would make ~160 turns to unpack it.
    const text = JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({ kind: 'agent_message', seq: i, text: `chunk ${i} of message ${(i * 7919) % 10007}` })));
    let turns = 0;
    let busy = true;
    // A loop kept busy as the background check keeps it: 8 ms of work per turn.
    const spin = () => {
      if (!busy) return;
      turns++;
      const until = performance.now() + 8;
      while (performance.now() < until);
      setImmediate(spin);
    };
    setImmediate(spin);
    try {
      const packed = await packSnapshot(text);
      const packTurns = turns;
      turns = 0;
      expect(await unpackSnapshot(packed)).toBe(text);
      // With 16 KiB chunks: ~20 turns to pack (its ~300 KB output) and ~160 to unpack.
      expect(packTurns).toBeLessThan(10);
      expect(turns).toBeLessThan(40);
    } finally {
      busy = false;
    }
  });

  it('pack and unpack give back the same text, smaller; unpacking plain text gives it as it is', async () => {
    const text = JSON.stringify(Array.from({ length: 2_000 }, (_, i) => ({ kind: 'agent_message', seq: i, text: `chunk ${i} of a message` })));
    const packed = await packSnapshot(text);
    expect(packed[0]).toBe(0);
    expect(packed.length).toBeLessThan(text.length / 4);
    expect(await unpackSnapshot(packed)).toBe(text);
    expect(await unpackSnapshot(Buffer.from('{"plain":true}'))).toBe('{"plain":true}');
  });

  it('text packed as it comes in pieces reads back as the joined text; under the threshold it stays plain text', async () => {
    const pieces = Array.from({ length: 300 }, (_, i) => `${i === 0 ? '' : '\n'}[{"kind":"message","text":"piece ${i} — ünïcödé ✓ ${'x'.repeat(i % 50)}"}]`);
    const text = pieces.join('');
    async function* slowly() {
      for (const piece of pieces) {
        await new Promise((resolve) => setImmediate(resolve));
        yield piece;
      }
    }
    const packed = await packSnapshotText(slowly(), 1024);
    expect(Buffer.isBuffer(packed)).toBe(true);
    expect((packed as Buffer)[0]).toBe(0);
    expect(await unpackSnapshot(packed as Buffer)).toBe(text);
    // The same format as packing the whole text at once: either reader reads either.
    expect(await unpackSnapshot(await packSnapshot(text))).toBe(text);
    // Below the threshold (counted in UTF-8 bytes): the text itself.
    expect(await packSnapshotText(pieces, Buffer.byteLength(text) + 1)).toBe(text);
    expect(await packSnapshotText([], 1)).toBe('');
    // Threshold 0 packs even one small piece.
    expect(await unpackSnapshot((await packSnapshotText(['{}'], 0)) as Buffer)).toBe('{}');
  });

  it('a failing source of pieces fails the pack with its error (nothing half-packed is returned)', async () => {
    async function* failing() {
      yield 'x'.repeat(4096);
      throw new Error('the view went away');
    }
    await expect(packSnapshotText(failing(), 1024)).rejects.toThrow('the view went away');
  });

  it('a saved run view is stored packed and loads as exactly the fold of every event; nearest() still gives its text', async () => {
    const { ledger, runId } = await runOf(3_000);
    try {
      const expected = fold(readAll(ledger, runId), runId);
      // Small views stay plain text (PACK_FROM_BYTES); this one is packed on purpose.
      await saveViewSnapshot(ledger, expected);
      expect(ledger.snapshots.nearestBytes(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)!.bytes[0]).toBe('{'.charCodeAt(0));
      await saveViewSnapshot(ledger, expected, 0);
      const stored = ledger.snapshots.nearestBytes(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)!;
      expect(stored.bytes[0]).toBe(0);
      const text = await encodeView(expected);
      expect(stored.bytes.length).toBeLessThan(Buffer.byteLength(text) / 3);
      expect(ledger.snapshots.nearest(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)?.data).toBe(text);
      expect(await loadViewSnapshot(ledger, runId)).toEqual(expected);
      // A snapshot stored as plain text (before packing) still loads.
      ledger.snapshots.save(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION, expected.lastSeq, text);
      expect(await loadViewSnapshot(ledger, runId)).toEqual(expected);
    } finally {
      await ledger.close();
    }
  });

  it('damaged packed bytes are ignored: the view is folded from the events instead', async () => {
    const { ledger, runId } = await runOf(1_000);
    try {
      const expected = fold(readAll(ledger, runId), runId);
      const packed = await packSnapshot(await encodeView(expected));
      packed.fill(7, 8, 40);
      ledger.snapshots.save(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION, expected.lastSeq, packed);
      expect(await loadViewSnapshot(ledger, runId)).toBeNull();
      const views = new RunViews(ledger);
      try {
        expect(await views.view(runId)).toEqual(expected);
      } finally {
        views.close();
      }
    } finally {
      await ledger.close();
    }
  });
});
