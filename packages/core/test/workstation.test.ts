import { afterEach, describe, expect, it } from 'vitest';
import { createClient, KeelRpcError, type LedgerEvent } from '../src/contract/index.js';
import { memoryTransport } from '../src/host/router.js';
import { openWorkstation, type Workstation } from '../src/host/workstation.js';
import { tempDir } from './helpers.js';

const opened: Workstation[] = [];
afterEach(async () => {
  for (const workstation of opened.splice(0)) await workstation.close();
});

async function start() {
  const workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
  opened.push(workstation);
  return { workstation, client: createClient(memoryTransport(workstation.router)) };
}

describe('workstation over the contract', () => {
  it('app.info reports the ledger as healthy, and ledger.verify agrees after appends', async () => {
    const { workstation, client } = await start();
    const runId = workstation.ledger.newRunId();
    await workstation.ledger.append(runId, { type: 'run.created', payload: { workspace: '/tmp', agent: { kind: 'builtin' } } });
    await workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: 'hi' } });
    const info = await client.invoke('app.info', {});
    expect(info.engine.ledger).toEqual({ status: 'ok', error: null, quarantinedRuns: [] });
    const report = await client.invoke('ledger.verify', { runId });
    expect(report).toMatchObject({ ok: true, runs: [{ runId, agree: true, ndjson: { count: 2 }, sqlite: { count: 2 } }] });
  });

  it('ledger.verify of an unknown run is not_found, and a malformed run id is invalid_input', async () => {
    const { client } = await start();
    await expect(client.invoke('ledger.verify', { runId: 'nope' })).rejects.toMatchObject({ code: 'not_found' });
    const failure = await client.invoke('ledger.verify', { runId: '../etc/passwd' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KeelRpcError);
    expect((failure as KeelRpcError).code).toBe('invalid_input');
  });

  it('ledger.events delivers history from a seq, then live events, each once and in order', async () => {
    const { workstation, client } = await start();
    const runId = workstation.ledger.newRunId();
    await workstation.ledger.append(runId, { type: 'run.created', payload: { workspace: '/tmp', agent: { kind: 'builtin' } } });
    for (let i = 0; i < 5; i++) await workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: `h${i}` } });
    const seen: LedgerEvent[] = [];
    const unsubscribe = client.subscribe('ledger.events', { runId, fromSeq: 3 }, { onEvent: (event) => seen.push(event) });
    const live = workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: 'live' } });
    await live;
    await new Promise<void>((resolve) => {
      const poll = () => (seen.length >= 5 ? resolve() : setImmediate(poll));
      poll();
    });
    expect(seen.map((event) => event.seq)).toEqual([3, 4, 5, 6, 7]);
    expect(seen.at(-1)?.payload).toEqual({ text: 'live' });
    unsubscribe();
    await workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: 'after' } });
    expect(seen).toHaveLength(5);
  });
});
