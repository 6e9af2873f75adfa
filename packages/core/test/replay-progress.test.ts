// How far the host's replay index of a run has got, on `replay.progress`: the current state
// first, then indexing figures at slice boundaries (at most one per ~100 ms) and always the final
// `ready`; watching never starts an index. Real ledgers in temp data dirs, real bundles.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { KeelClient, ReplayIndexProgress, ReplaySource } from '../src/contract/index.js';
import { REPLAY_PROGRESS_EVERY_MS } from '../src/host/replay-progress.js';
import { ReplayService } from '../src/host/replay-service.js';
import type { Workstation } from '../src/host/workstation.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { tempDir } from './helpers.js';

const { start } = useWorkstations();

/** A run of a prompt and `chunks` streamed message chunks; returns its id and lastSeq. */
async function longRun(workstation: Workstation, chunks: number): Promise<{ runId: string; lastSeq: number }> {
  const { ledger } = workstation;
  const runId = ledger.newRunId();
  await ledger.append(runId, { type: 'run.created', payload: { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } } });
  await ledger.append(runId, { type: 'prompt.sent', payload: { turn: 1, text: 'a long answer, please', ik: `ik:${'a'.repeat(64)}` } });
  await appendChunks(workstation, runId, chunks);
  return { runId, lastSeq: ledger.run(runId)!.lastSeq };
}

async function appendChunks(workstation: Workstation, runId: string, count: number): Promise<void> {
  const appends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) appends.push(workstation.ledger.append(runId, { type: 'message.chunk', payload: { turn: 1, text: `chunk ${i} ` } }, { durability: 'stream' }));
  await Promise.all(appends);
}

interface Seen {
  progress: ReplayIndexProgress;
  /** When it arrived (performance.now()). */
  at: number;
}

/** Records what a watcher is sent; `until` resolves with everything seen once a message matches. */
function recorder() {
  const seen: Seen[] = [];
  const waiting: { match: (progress: ReplayIndexProgress) => boolean; resolve: () => void }[] = [];
  const send = (progress: ReplayIndexProgress) => {
    seen.push({ progress, at: performance.now() });
    for (const wait of waiting.splice(0)) {
      if (wait.match(progress)) wait.resolve();
      else waiting.push(wait);
    }
  };
  const until = (match: (progress: ReplayIndexProgress) => boolean) =>
    new Promise<Seen[]>((resolve) => {
      if (seen.some((each) => match(each.progress))) resolve(seen);
      else waiting.push({ match, resolve: () => resolve(seen) });
    });
  return { seen, send, until, messages: () => seen.map((each) => each.progress) };
}

const watchOnClient = (client: KeelClient, source: ReplaySource) => {
  const watcher = recorder();
  const stop = client.subscribe('replay.progress', source, { onEvent: watcher.send });
  return { ...watcher, stop };
};

const indexingOf = (messages: ReplayIndexProgress[]) => messages.filter((each) => each.state === 'indexing');

describe('replay.progress', () => {
  it('a watcher subscribed before replay.open sees idle with the run’s lastSeq, then indexing, then ready with every event read', async () => {
    const { workstation, client } = await start();
    const { runId, lastSeq } = await longRun(workstation, 3_000);
    const watcher = watchOnClient(client, { runId });
    await watcher.until(() => true);
    expect(watcher.messages()).toEqual([{ state: 'idle', eventsRead: 0, eventsTotal: lastSeq }]);

    const [timeline, seen] = await Promise.all([client.invoke('replay.open', { runId }), watcher.until((progress) => progress.state === 'ready')]);
    const messages = seen.map((each) => each.progress);
    expect(messages.at(-1)).toEqual({ state: 'ready', eventsRead: lastSeq, eventsTotal: lastSeq });
    expect(timeline.events).toBe(lastSeq);
    const indexing = indexingOf(messages);
    expect(indexing.length).toBeGreaterThanOrEqual(1);
    expect(indexing.every((each) => each.eventsTotal === lastSeq && each.eventsRead <= lastSeq)).toBe(true);
    for (let i = 1; i < indexing.length; i++) expect(indexing[i]!.eventsRead, `message ${i}`).toBeGreaterThan(indexing[i - 1]!.eventsRead);
    expect(messages.map((each) => each.state)).toEqual(['idle', ...indexing.map(() => 'indexing'), 'ready']);
    watcher.stop();
  });

  it('watching does not start an index: the run stays idle for a second watcher, and a run Keel does not know is idle with nothing to read', async () => {
    const { workstation, client } = await start();
    const { runId, lastSeq } = await longRun(workstation, 500);
    const first = watchOnClient(client, { runId });
    await first.until(() => true);
    // A round trip through the host: an index started by the subscribe would be under way by now.
    await client.invoke('runs.list', {});
    const second = watchOnClient(client, { runId });
    await second.until(() => true);
    expect(second.messages()).toEqual([{ state: 'idle', eventsRead: 0, eventsTotal: lastSeq }]);
    expect(first.messages()).toEqual([{ state: 'idle', eventsRead: 0, eventsTotal: lastSeq }]);

    const unknown = watchOnClient(client, { runId: '01NOSUCHRUN00000000000000' });
    await unknown.until(() => true);
    expect(unknown.messages()).toEqual([{ state: 'idle', eventsRead: 0, eventsTotal: 0 }]);
  });

  it('figures come at slice boundaries, not per event: with 0 ms slices and no throttle each slice sends one, read counts rising to the total', async () => {
    const { workstation } = await start();
    const { runId, lastSeq } = await longRun(workstation, 3_000);
    const service = new ReplayService(workstation.ledger, workstation.dataDir, 2, 0, 0);
    const watcher = recorder();
    service.watchProgress({ runId }, watcher.send);
    await service.timeline({ runId });
    const messages = watcher.messages();
    const indexing = indexingOf(messages);
    // A slice of 0 ms ends after every 64 events: ~47 slices for this run, whatever the machine's speed.
    expect(indexing.length).toBeGreaterThan(10);
    expect(indexing.length).toBeLessThanOrEqual(Math.ceil(lastSeq / 64) + 1);
    expect(indexing[0]).toEqual({ state: 'indexing', eventsRead: 0, eventsTotal: lastSeq });
    for (let i = 1; i < indexing.length; i++) expect(indexing[i]!.eventsRead % 64, `message ${i}`).toBe(0);
    for (let i = 1; i < indexing.length; i++) expect(indexing[i]!.eventsRead).toBeGreaterThan(indexing[i - 1]!.eventsRead);
    expect(messages.at(-1)).toEqual({ state: 'ready', eventsRead: lastSeq, eventsTotal: lastSeq });
    service.close();
  });

  it('indexing figures reach a watcher at most once per ~100 ms, and the final ready always does', async () => {
    const { workstation } = await start();
    const { runId, lastSeq } = await longRun(workstation, 3_000);
    const service = new ReplayService(workstation.ledger, workstation.dataDir, 2, 0);
    const watcher = recorder();
    service.watchProgress({ runId }, watcher.send);
    const began = performance.now();
    await service.timeline({ runId });
    const took = performance.now() - began;
    const indexing = watcher.seen.filter((each) => each.progress.state === 'indexing');
    for (let i = 1; i < indexing.length; i++) expect(indexing[i]!.at - indexing[i - 1]!.at, `gap before message ${i}`).toBeGreaterThanOrEqual(REPLAY_PROGRESS_EVERY_MS - 1); // the feed's clock is read just before this one's
    expect(indexing.length).toBeLessThanOrEqual(1 + Math.floor(took / REPLAY_PROGRESS_EVERY_MS));
    expect(watcher.messages().at(-1)).toEqual({ state: 'ready', eventsRead: lastSeq, eventsTotal: lastSeq });
    service.close();
  });

  it('a ready run caught up for a scrub sends nothing; a live run that grew is indexing from its old count to the new lastSeq, then ready', async () => {
    const { workstation } = await start();
    const { runId, lastSeq } = await longRun(workstation, 300);
    const service = new ReplayService(workstation.ledger, workstation.dataDir);
    await service.timeline({ runId });
    const watcher = recorder();
    service.watchProgress({ runId }, watcher.send);
    await service.stateAt({ runId }, 10);
    expect(watcher.messages()).toEqual([{ state: 'ready', eventsRead: lastSeq, eventsTotal: lastSeq }]);

    await appendChunks(workstation, runId, 200);
    const grown = workstation.ledger.run(runId)!.lastSeq;
    expect((await service.timeline({ runId })).events).toBe(grown);
    expect(watcher.messages().slice(1)).toEqual([
      { state: 'indexing', eventsRead: lastSeq, eventsTotal: grown },
      { state: 'ready', eventsRead: grown, eventsTotal: grown },
    ]);
    service.close();
  });

  it('an imported run reports its events as the total, from idle to ready', async () => {
    const exporting = await start();
    const { runId } = await longRun(exporting.workstation, 1_000);
    const exported = await exporting.client.invoke('diagnostics.export', { runIds: [runId] });
    const { client } = await start();
    await client.invoke('diagnostics.import', { file: exported.file! });
    const imported = (await client.invoke('diagnostics.imported', {})).find((each) => each.runId === runId)!;
    const source = { runId, bundleId: exported.bundle_id };
    const watcher = watchOnClient(client, source);
    await watcher.until(() => true);
    expect(watcher.messages()).toEqual([{ state: 'idle', eventsRead: 0, eventsTotal: imported.events }]);

    const [timeline] = await Promise.all([client.invoke('replay.open', source), watcher.until((progress) => progress.state === 'ready')]);
    expect(timeline.events).toBe(imported.events);
    expect(indexingOf(watcher.messages()).every((each) => each.eventsTotal === imported.events)).toBe(true);
    expect(watcher.messages().at(-1)).toEqual({ state: 'ready', eventsRead: imported.events, eventsTotal: imported.events });
  });
});
