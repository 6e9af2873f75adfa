// The replay viewer's procedures over the contract (issue 14): replay.open / stateAt / events
// for a run of the user's own (kept current while it grows) and for an imported bundle's run;
// diagnostics.export writes under <data>/bundles/ without a dialog; diagnostics.import refuses
// a missing file in plain words and lists imported runs apart from the user's own.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LedgerEvent } from '../src/contract/index.js';
import { ReplayService } from '../src/host/replay-service.js';
import type { Workstation } from '../src/host/workstation.js';
import { fold } from '../src/replay/index.js';
import { readRunEvents } from '../src/runs/index.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { tempDir } from './helpers.js';

const { start } = useWorkstations();

const IK = `ik:${'a'.repeat(64)}`;

async function seedRun(workstation: Workstation): Promise<string> {
  const { ledger } = workstation;
  const runId = ledger.newRunId();
  await ledger.append(runId, { type: 'run.created', payload: { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } } });
  await ledger.append(runId, { type: 'prompt.sent', payload: { turn: 1, text: 'first question', ik: IK } });
  for (let i = 0; i < 5; i++) await ledger.append(runId, { type: 'message.chunk', payload: { turn: 1, text: `part ${i} ` } });
  await ledger.append(runId, { type: 'turn.ended', payload: { turn: 1, stopReason: 'end_turn' } });
  await ledger.append(runId, { type: 'prompt.sent', payload: { turn: 2, text: 'second question with token ghp_q8W2e4R6t8Y0u2I4o6P8a0S2d4F6g8H0j2K4', ik: `ik:${'b'.repeat(64)}` } });
  return runId;
}

/** Appends `count` streamed chunks to a run (a long run for the replay index to work through). */
async function appendChunks(workstation: Workstation, runId: string, count: number): Promise<void> {
  const appends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) appends.push(workstation.ledger.append(runId, { type: 'message.chunk', payload: { turn: 2, text: `chunk ${i} ` } }, { durability: 'stream' }));
  await Promise.all(appends);
}

describe('replay procedures', () => {
  it('gives the state at every seq, pages of records with their chain status, and turn markers; a live run is caught up on each call', async () => {
    const { workstation, client } = await start();
    const runId = await seedRun(workstation);
    const events: LedgerEvent[] = readRunEvents(workstation.ledger, runId);

    const timeline = await client.invoke('replay.open', { runId });
    expect(timeline).toMatchObject({ runId, bundleId: null, events: events.length, lastSeq: events.length, chain: { firstBadSeq: null, redactedSeqs: [] }, readOnly: false });
    const prompts = events.filter((event) => event.type === 'prompt.sent').map((event) => event.seq);
    expect(prompts).toHaveLength(2);
    expect(timeline.markers.filter((marker) => marker.kind === 'turn').map((marker) => marker.seq)).toEqual(prompts);
    for (let seq = 0; seq <= events.length; seq++) {
      const at = await client.invoke('replay.stateAt', { runId, seq });
      expect(at.view, `seq ${seq}`).toEqual(fold(events.slice(0, seq), runId));
    }
    const page = await client.invoke('replay.events', { runId, fromSeq: 3, limit: 4 });
    expect(page.rows.map((row) => [row.record.seq, row.chain])).toEqual([
      [3, 'verified'],
      [4, 'verified'],
      [5, 'verified'],
      [6, 'verified'],
    ]);
    expect(page.rows[0]!.record).toEqual(events[2]);

    await workstation.ledger.append(runId, { type: 'message.chunk', payload: { turn: 2, text: 'more' } });
    expect((await client.invoke('replay.open', { runId })).lastSeq).toBe(events.length + 1);
    expect((await client.invoke('replay.stateAt', { runId, seq: 1_000 })).seq).toBe(events.length + 1);
    await expect(client.invoke('replay.open', { runId: 'no-such-run' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('indexes a long run in slices: the host answers other work meanwhile, and calls that come during it wait for the same index', async () => {
    const { workstation } = await start();
    const runId = await seedRun(workstation);
    await appendChunks(workstation, runId, 3_000);
    const events = readRunEvents(workstation.ledger, runId);
    // A slice of 0 ms yields every 64 events: the order below does not depend on the machine's speed.
    const service = new ReplayService(workstation.ledger, workstation.dataDir, 2, 0);
    const order: string[] = [];
    const opening = service.timeline({ runId }).then((timeline) => {
      order.push('replay indexed');
      return timeline;
    });
    const other = new Promise((resolve) => setImmediate(resolve)).then(() => order.push('other work'));
    // Arrives while the first call indexes: it waits for that index rather than indexing beside it.
    const [timeline, at] = await Promise.all([opening, service.stateAt({ runId }, 10), other]);
    expect(order).toEqual(['other work', 'replay indexed']);
    expect(timeline).toMatchObject({ events: events.length, lastSeq: events.length, chain: { firstBadSeq: null } });
    expect(at.view).toEqual(fold(events.slice(0, 10), runId));
    expect((await service.events({ runId }, events.length - 1, 5)).rows.map((row) => row.chain)).toEqual(['verified', 'verified']);
  });

  it('a run let go while it is indexed is not indexed a second time when opened again; closing stops a catch-up with a plain error', async () => {
    const { workstation } = await start();
    const long = await seedRun(workstation);
    await appendChunks(workstation, long, 2_000);
    const short = await seedRun(workstation);
    const events = readRunEvents(workstation.ledger, long);
    let readOfLong = 0;
    const read = workstation.ledger.read.bind(workstation.ledger);
    workstation.ledger.read = (runId, options) => {
      const page = read(runId, options);
      if (runId === long) readOfLong += page.length;
      return page;
    };
    // Room for one run: opening the short one lets the long one go while it is still being indexed.
    const service = new ReplayService(workstation.ledger, workstation.dataDir, 1, 0);
    const first = service.timeline({ runId: long });
    await service.timeline({ runId: short });
    const [a, b] = await Promise.all([first, service.timeline({ runId: long })]);
    expect([a.events, b.events]).toEqual([events.length, events.length]);
    expect(b.chain.firstBadSeq).toBeNull();
    expect(readOfLong).toBe(events.length);

    const closing = new ReplayService(workstation.ledger, workstation.dataDir, 2, 0);
    const pending = closing.timeline({ runId: long });
    closing.close();
    await expect(pending).rejects.toMatchObject({ code: 'unavailable', message: 'Replay closed while it was reading the run.' });
    await expect(closing.timeline({ runId: short })).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('exports a bundle under <data>/bundles/, imports it into another Keel apart from its runs, and replays it with redacted records marked', async () => {
    const { workstation, client } = await start();
    const runId = await seedRun(workstation);
    const exported = await client.invoke('diagnostics.export', { runIds: [runId] });
    expect(exported.file).not.toBeNull();
    expect(path.dirname(exported.file!)).toBe(path.join(workstation.dataDir, 'bundles'));
    expect(exported.redactions).toBeGreaterThanOrEqual(1);

    const other = await start();
    await expect(other.client.invoke('diagnostics.import', { file: path.join(tempDir(), 'missing.zip') })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(other.client.invoke('diagnostics.import', {})).rejects.toThrow(/no file picker in headless mode/);
    const original = readRunEvents(workstation.ledger, runId);
    const secretSeq = original.find((event) => event.type === 'prompt.sent' && JSON.stringify(event.payload).includes('ghp_'))!.seq;
    const imported = await other.client.invoke('diagnostics.import', { file: exported.file! });
    expect(imported!.runs[0]!.redacted).toEqual([secretSeq]);
    expect(imported!.runs[0]!.problems).toEqual([]);
    expect(await other.client.invoke('runs.list', {})).toEqual([]);
    const list = await other.client.invoke('diagnostics.imported', {});
    expect(list.map((run) => [run.bundleId, run.runId, run.redactedSeqs])).toEqual([[exported.bundle_id, runId, [secretSeq]]]);

    const source = { runId, bundleId: exported.bundle_id };
    const timeline = await other.client.invoke('replay.open', source);
    expect(timeline).toMatchObject({ events: original.length, lastSeq: original.length, readOnly: true, chain: { firstBadSeq: null, redactedSeqs: [secretSeq] } });
    const rows = (await other.client.invoke('replay.events', { ...source, fromSeq: secretSeq - 1, limit: 2 })).rows;
    expect(rows.map((row) => [row.record.seq, row.chain])).toEqual([
      [secretSeq - 1, 'verified'],
      [secretSeq, 'redacted'],
    ]);
    expect(JSON.stringify(rows[1]!.record)).not.toContain('ghp_q8W2');
    const at = await other.client.invoke('replay.stateAt', { ...source, seq: secretSeq - 1 });
    expect(at.view).toEqual(fold(original.slice(0, secretSeq - 1), runId));
    expect(fs.existsSync(path.join(other.workstation.dataDir, 'ledger', `${runId}.ndjson`))).toBe(false);
  });
});
