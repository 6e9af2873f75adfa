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

describe('runs over the contract', () => {
  async function startRuns() {
    const workstation = await openWorkstation({
      dataDir: tempDir(),
      mode: 'headless',
      heartbeatMs: 60_000,
      runtime: { restart: { baseMs: 10, capMs: 50, maxAttempts: 3 } },
    });
    opened.push(workstation);
    return { workstation, client: createClient(memoryTransport(workstation.router)) };
  }

  /** Collects a run's events from the run.events stream until `until` holds. */
  function collect(client: ReturnType<typeof createClient>, runId: string, until: (events: LedgerEvent[]) => boolean) {
    const events: LedgerEvent[] = [];
    let stop = () => {};
    const done = new Promise<LedgerEvent[]>((resolve) => {
      stop = client.subscribe('run.events', { runId }, {
        onEvent: (event) => {
          events.push(event);
          if (until(events)) resolve(events);
        },
      });
    });
    return { events, done: done.finally(() => stop()) };
  }

  it('creates a run, prompts it, answers its approvals and streams its events to the end of the turn', async () => {
    const { client } = await startRuns();
    const workspace = tempDir('keel-ws-');
    const run = await client.invoke('runs.create', { workspace, agent: { kind: 'builtin', script: 'edit-and-test' } });
    expect(run).toMatchObject({ state: 'created', workspace: expect.stringContaining('keel-ws-'), agent: { kind: 'builtin', script: 'edit-and-test' } });
    const decided = new Set<string>();
    const stream = client.subscribe('run.events', { runId: run.id }, {
      onEvent: (event) => {
        if (event.type !== 'approval.requested') return;
        const { approvalId } = event.payload as { approvalId: string };
        if (decided.has(approvalId)) return;
        decided.add(approvalId);
        void client.invoke('approval.decide', { runId: run.id, approvalId, decision: 'allow_once' });
      },
    });
    const ended = collect(client, run.id, (events) => {
      const last = events.at(-1)!;
      return last.type === 'run.state' && (last.payload as { state: string }).state === 'idle' && events.some((e) => e.type === 'turn.ended');
    });
    await expect(client.invoke('run.prompt', { runId: run.id, text: 'go' })).resolves.toMatchObject({ turn: 1, ik: expect.stringMatching(/^ik:[0-9a-f]{64}$/) });
    const events = await ended.done;
    stream();
    expect(events.find((event) => event.type === 'turn.ended')?.payload).toMatchObject({ turn: 1, stopReason: 'end_turn' });
    expect(decided.size).toBe(2);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    const listed = await client.invoke('runs.list', {});
    expect(listed).toMatchObject([{ id: run.id, state: 'idle', stopReason: 'end_turn' }]);
    await expect(client.invoke('ledger.verify', { runId: run.id })).resolves.toMatchObject({ ok: true });
  });

  it('refuses a workspace that is not a directory, an unknown run, a second prompt during a turn and an unknown approval', async () => {
    const { client } = await startRuns();
    await expect(client.invoke('runs.create', { workspace: '/nonexistent/keel', agent: { kind: 'builtin' } })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(client.invoke('run.prompt', { runId: 'NOPE', text: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    const run = await client.invoke('runs.create', { workspace: tempDir('keel-ws-'), agent: { kind: 'builtin', script: 'edit-and-test' } });
    const asked = collect(client, run.id, (events) => events.some((event) => event.type === 'approval.requested'));
    await client.invoke('run.prompt', { runId: run.id, text: 'first' });
    await asked.done;
    await expect(client.invoke('run.prompt', { runId: run.id, text: 'second' })).rejects.toMatchObject({ code: 'conflict' });
    await expect(client.invoke('approval.decide', { runId: run.id, approvalId: 'nope', decision: 'deny' })).rejects.toMatchObject({ code: 'not_found' });
    const cancelled = collect(client, run.id, (events) => events.some((event) => event.type === 'turn.ended'));
    await client.invoke('run.cancel', { runId: run.id });
    const events = await cancelled.done;
    expect(events.find((event) => event.type === 'turn.ended')?.payload).toMatchObject({ stopReason: 'cancelled' });
    // The request the cancelled turn left open is settled, never left hanging.
    const requested = events.filter((event) => event.type === 'approval.requested').map((event) => (event.payload as { approvalId: string }).approvalId);
    const settled = events.filter((event) => ['approval.cancelled', 'approval.decided', 'approval.timed_out'].includes(event.type)).map((event) => (event.payload as { approvalId: string }).approvalId);
    expect(settled).toEqual(requested);
  });

  it('runtime.restart starts a new generation of the agent', async () => {
    const { client } = await startRuns();
    const run = await client.invoke('runs.create', { workspace: tempDir('keel-ws-'), agent: { kind: 'builtin', script: 'hello' } });
    const first = collect(client, run.id, (events) => events.some((event) => event.type === 'turn.ended'));
    await client.invoke('run.prompt', { runId: run.id, text: 'hi' });
    await first.done;
    const restarted = collect(client, run.id, (events) => events.filter((event) => event.type === 'session.bound').length === 2);
    await client.invoke('runtime.restart', { runId: run.id });
    const events = await restarted.done;
    const bound = events.filter((event) => event.type === 'session.bound').map((event) => event.payload);
    expect(bound).toMatchObject([{ generation: 1, outcome: 'new' }, { generation: 2, outcome: 'replayed' }]);
  });
});
