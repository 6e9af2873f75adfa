import { afterEach, describe, expect, it } from 'vitest';
import {
  createClient,
  createSocketTransport,
  KeelRpcError,
  type KeelClient,
  type LedgerEvent,
  type RunListUpdate,
  type RunSummary,
  type SocketLike,
} from '../src/contract/index.js';
import { serveConnection } from '../src/host/connection.js';
import { memoryTransport, type Router } from '../src/host/router.js';
import { openWorkstation, RUN_LIST_WINDOW_MS, type Workstation } from '../src/host/workstation.js';
import { openLedger } from '../src/ledger/index.js';
import { fold, RUN_VIEW_FOLD_VERSION } from '../src/replay/index.js';
import { RUN_VIEW_FOLD, SNAPSHOT_EVERY } from '../src/runs/index.js';
import { readAll, syntheticBodies } from './fixtures/ledger-kit.js';
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

describe('workstation over the contract', () => {
  it('app.info reports the ledger as healthy, and ledger.verify agrees after appends', async () => {
    const { workstation, client } = await start();
    const runId = workstation.ledger.newRunId();
    await workstation.ledger.append(runId, { type: 'run.created', payload: { workspace: '/tmp', agent: { kind: 'builtin' } } });
    await workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: 'hi' } });
    const info = await client.invoke('app.info', {});
    expect(info.engine.ledger).toEqual({ status: 'ok', error: null, quarantinedRuns: [], check: expect.objectContaining({ state: 'ok', damagedRuns: [] }) });
    const report = await client.invoke('ledger.verify', { runId });
    expect(report).toMatchObject({ ok: true, runs: [{ runId, agree: true, ndjson: { count: 2 }, sqlite: { count: 2 } }] });
  });

  it('after start-up, a long run written outside the host (no view snapshot) is folded and snapshotted, and run.view starts from that snapshot', async () => {
    const dataDir = tempDir();
    const writer = await openLedger({ dataDir, streamWindowMs: 1 });
    const runId = writer.newRunId();
    const bodies = syntheticBodies(SNAPSHOT_EVERY + 500, 13);
    for (let at = 0; at < bodies.length; at += 1_000) {
      await Promise.all(bodies.slice(at, at + 1_000).map((body) => writer.append(runId, body, { durability: 'stream' })));
    }
    await writer.close();
    const workstation = await openWorkstation({ dataDir, mode: 'headless', heartbeatMs: 60_000 });
    opened.push(workstation);
    expect(await workstation.startupFold).toBe(1);
    const [stored] = workstation.ledger.snapshots.seqs(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION);
    expect(stored).toBeGreaterThanOrEqual(bodies.length);
    const read = workstation.ledger.read.bind(workstation.ledger);
    const fromSeqs: number[] = [];
    workstation.ledger.read = (id, options) => {
      fromSeqs.push(options?.fromSeq ?? 1);
      return read(id, options);
    };
    const view = await createClient(memoryTransport(workstation.router)).invoke('run.view', { runId });
    workstation.ledger.read = read;
    expect(fromSeqs[0]).toBe(stored! + 1);
    expect(view).toEqual(fold(readAll(workstation.ledger, runId), runId));
  });

  it('ledger.verify of an unknown run is not_found, and a malformed run id is invalid_input', async () => {
    const { client } = await start();
    await expect(client.invoke('ledger.verify', { runId: 'nope' })).rejects.toMatchObject({ code: 'not_found' });
    const failure = await client.invoke('ledger.verify', { runId: '../etc/passwd' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KeelRpcError);
    expect((failure as KeelRpcError).code).toBe('invalid_input');
  });

  it('run.events delivers history from a seq, then live events, each once and in order', async () => {
    const { workstation, client } = await start();
    const runId = workstation.ledger.newRunId();
    await workstation.ledger.append(runId, { type: 'run.created', payload: { workspace: '/tmp', agent: { kind: 'builtin' } } });
    for (let i = 0; i < 5; i++) await workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: `h${i}` } });
    const seen: LedgerEvent[] = [];
    const unsubscribe = client.subscribe('run.events', { runId, fromSeq: 3 }, { onEvent: (event) => seen.push(event) });
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

/** Follows `runs.changed`; `until` resolves on the first message (from index `from`) that matches. */
function watchRunList(client: KeelClient) {
  const seen: RunListUpdate[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  const stop = client.subscribe('runs.changed', {}, {
    onEvent(update) {
      seen.push(update);
      for (const waiter of [...waiters]) waiter();
    },
    onEnd() {
      ended = true;
    },
  });
  const until = (predicate: (update: RunListUpdate) => boolean, from = 0) =>
    new Promise<RunListUpdate>((resolve) => {
      const check = () => {
        const found = seen.slice(from).find(predicate);
        if (!found) return;
        waiters.delete(check);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  return { seen, until, stop, ended: () => ended };
}

const shows = (update: RunListUpdate, runId: string, match: (run: RunSummary) => boolean = () => true) =>
  update.runs.some((run) => run.id === runId && match(run));

const createdEvent = { type: 'run.created', payload: { workspace: '/tmp', agent: { kind: 'builtin' } } } as const;

/**
 * An in-process stand-in for a WebSocket to the headless server: the client's socket talks to
 * `serveConnection` in JSON text. `drop()` cuts it as a network failure would; while `refuse`
 * is set, connecting fails.
 */
function loopback(router: Router) {
  let current: { socket: SocketLike & { readyState: number }; server: ReturnType<typeof serveConnection> } | null = null;
  const state = { refuse: false, connects: 0 };
  const connect = (): SocketLike => {
    if (state.refuse) throw new Error('connection refused');
    state.connects += 1;
    const socket: SocketLike & { readyState: number } = {
      readyState: 0,
      send: (data) => server.receive(data),
      close: () => drop(),
      onopen: null,
      onclose: null,
      onerror: null,
      onmessage: null,
    };
    const server = serveConnection(router, { transport: 'socket' }, (message) => {
      if (socket.readyState === 1) socket.onmessage?.({ data: JSON.stringify(message) });
    });
    current = { socket, server };
    queueMicrotask(() => {
      socket.readyState = 1;
      socket.onopen?.({});
    });
    return socket;
  };
  const drop = () => {
    if (!current) return;
    const { socket, server } = current;
    current = null;
    socket.readyState = 3;
    server.close();
    socket.onclose?.({});
  };
  return { connect, drop, state };
}

describe('runs.changed: the live run list', () => {
  it('first sends the whole list, as runs.list answers it', async () => {
    const { workstation, client } = await start();
    for (let i = 0; i < 3; i++) await workstation.ledger.append(workstation.ledger.newRunId(), createdEvent);
    const list = watchRunList(client);
    const first = await list.until(() => true);
    expect(first).toEqual({ kind: 'snapshot', runs: await client.invoke('runs.list', {}) });
    expect(first.runs).toHaveLength(3);
    list.stop();
  });

  it('sends a new run, then its state changes, as they are committed', async () => {
    const { client } = await startRuns();
    const list = watchRunList(client);
    await list.until((update) => update.kind === 'snapshot' && update.runs.length === 0);
    const run = await client.invoke('runs.create', { workspace: tempDir('keel-ws-'), agent: { kind: 'builtin', script: 'hello' } });
    const added = await list.until((update) => shows(update, run.id));
    expect(added.kind).toBe('changed');
    expect(added.runs.find((summary) => summary.id === run.id)).toMatchObject({ state: 'created', agent: { kind: 'builtin', script: 'hello' } });
    const from = list.seen.length;
    await client.invoke('run.prompt', { runId: run.id, text: 'hi' });
    const idle = await list.until((update) => shows(update, run.id, (summary) => summary.state === 'idle' && summary.stopReason === 'end_turn'), from);
    expect(idle.kind).toBe('changed');
    expect(idle.runs.find((summary) => summary.id === run.id)).toEqual((await client.invoke('runs.list', {})).find((summary) => summary.id === run.id));
  });

  it('coalesces a burst of commits: at most one message per window, each run once, ending at the last commit', async () => {
    const { workstation, client } = await start();
    const runId = workstation.ledger.newRunId();
    await workstation.ledger.append(runId, createdEvent);
    const list = watchRunList(client);
    await list.until((update) => update.kind === 'snapshot');
    const started = performance.now();
    let last = 0;
    for (let i = 0; i < 60; i++) last = (await workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: `${i} ` } })).seq;
    await list.until((update) => shows(update, runId, (summary) => summary.lastSeq === last));
    const elapsed = performance.now() - started;
    const changes = list.seen.filter((update) => update.kind === 'changed');
    expect(changes.length).toBeLessThanOrEqual(Math.ceil(elapsed / RUN_LIST_WINDOW_MS) + 1);
    for (const change of changes) expect(change.runs.map((summary) => summary.id)).toEqual([runId]);
    list.stop();
  });

  it('never coalesces a state change away: waiting, running, waiting again within one window all reach the subscriber', async () => {
    const { workstation, client } = await start();
    const runId = workstation.ledger.newRunId();
    await workstation.ledger.append(runId, createdEvent);
    const list = watchRunList(client);
    await list.until((update) => update.kind === 'snapshot');
    const states = ['running', 'awaiting_approval', 'running', 'awaiting_approval'] as const;
    let last = 0;
    for (const state of states) last = (await workstation.ledger.append(runId, { type: 'run.state', payload: { state } })).seq;
    await list.until((update) => shows(update, runId, (summary) => summary.lastSeq === last));
    const seenStates = list.seen.flatMap((update) => update.runs.filter((run) => run.id === runId).map((run) => run.state));
    // The snapshot shows it created; each state after that arrives, in order.
    expect(seenStates.filter((state, i) => state !== seenStates[i - 1])).toEqual(['created', ...states]);
    list.stop();
  });

  it('after a reconnect starts again with the whole list, including what changed while disconnected', async () => {
    const { workstation, client: local } = await start();
    const before = workstation.ledger.newRunId();
    await workstation.ledger.append(before, createdEvent);
    const wire = loopback(workstation.router);
    const transport = createSocketTransport({ connect: wire.connect, backoffMs: () => 60_000 });
    const list = watchRunList(createClient(transport));
    await list.until((update) => update.kind === 'snapshot' && shows(update, before));
    wire.state.refuse = true;
    wire.drop();
    expect(transport.status).toBe('reconnecting');
    const missed = (await local.invoke('runs.create', { workspace: tempDir('keel-ws-'), agent: { kind: 'builtin', script: 'hello' } })).id;
    await workstation.ledger.append(before, { type: 'run.state', payload: { state: 'failed', stopReason: 'agent_unavailable' } });
    const seenWhileDown = list.seen.length;
    wire.state.refuse = false;
    transport.reconnectNow();
    const resumed = await list.until((update) => update.kind === 'snapshot', seenWhileDown);
    expect(list.seen.slice(seenWhileDown, list.seen.indexOf(resumed))).toEqual([]);
    expect(resumed.runs).toEqual(await local.invoke('runs.list', {}));
    expect(resumed.runs.map((run) => run.id)).toEqual([before, missed]);
    expect(resumed.runs[0]).toMatchObject({ state: 'failed', stopReason: 'agent_unavailable' });
    expect(wire.state.connects).toBe(2);
    // And it is live again.
    const next = workstation.ledger.newRunId();
    await workstation.ledger.append(next, createdEvent);
    await list.until((update) => update.kind === 'changed' && shows(update, next), seenWhileDown);
    transport.close();
  });

  it('delivers nothing after unsubscribe, while other subscribers keep receiving', async () => {
    const { workstation, client } = await start();
    const gone = watchRunList(client);
    const stays = watchRunList(client);
    await gone.until((update) => update.kind === 'snapshot');
    await stays.until((update) => update.kind === 'snapshot');
    gone.stop();
    const runId = workstation.ledger.newRunId();
    await workstation.ledger.append(runId, createdEvent);
    // Both would be served by the same send: once `stays` has the change, `gone` would have it too.
    await stays.until((update) => shows(update, runId));
    expect(gone.seen).toHaveLength(1);
    expect(gone.ended()).toBe(false);
    stays.stop();
  });

  it('refuses params it does not know (strict)', async () => {
    const { client } = await start();
    const ended = await new Promise<KeelRpcError | undefined>((resolve) => {
      client.subscribe('runs.changed', { runId: 'x' } as never, { onEvent: () => {}, onEnd: resolve });
    });
    expect(ended?.code).toBe('invalid_input');
  });
});
