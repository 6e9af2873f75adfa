import { describe, expect, it, vi } from 'vitest';
import { CloseCode, closeReasons, type LedgerEvent, type ServerMessage } from '../src/contract/index.js';
import { MAX_CALLS_IN_FLIGHT_PER_CONNECTION, MAX_SUBSCRIPTIONS_PER_CONNECTION, serveConnection, type ConnectionPeer } from '../src/host/connection.js';
import { createRouter, type Handlers } from '../src/host/router.js';
import { openWorkstation } from '../src/host/workstation.js';
import { tempDir } from './helpers.js';

async function open() {
  const workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
  const sent: ServerMessage[] = [];
  const connection = serveConnection(workstation.router, { transport: 'socket' }, (m) => sent.push(m));
  const next = async (count: number) => {
    await vi.waitFor(() => expect(sent.length).toBeGreaterThanOrEqual(count));
    return sent.slice(0, count);
  };
  return { workstation, connection, sent, next };
}

describe('wire connection', () => {
  it('answers garbage, schema-less frames and unknown methods with typed errors and stays usable', async () => {
    const { connection, next, workstation } = await open();
    connection.receive('{not json');
    connection.receive(JSON.stringify({ t: 'call', id: 'x' }));
    connection.receive(JSON.stringify({ t: 'call', id: 1, method: 'no.such', input: {} }));
    connection.receive(JSON.stringify({ t: 'call', id: 2, method: 'app.info', input: { bad: 1 } }));
    connection.receive(JSON.stringify({ t: 'call', id: 3, method: 'app.info', input: {} }));
    const messages = await next(5);
    expect(messages[0]).toMatchObject({ t: 'error', error: { code: 'invalid_input' } });
    expect(messages[1]).toMatchObject({ t: 'error', error: { code: 'invalid_input' } });
    const byId = new Map(messages.filter((m) => m.t === 'result').map((m) => [m.id, m]));
    expect(byId.get(1)).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(byId.get(2)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(byId.get(3)).toMatchObject({ ok: true, value: { name: 'Keel' } });
    await workstation.close();
  });

  it('streams events to a subscription and stops them on unsub and on close', async () => {
    const stops: number[] = [];
    const handlers = {
      procedures: { 'app.info': () => ({}) },
      streams: {
        'app.health': (_p: unknown, sink: { next(e: unknown): void }) => {
          sink.next({ seq: 0, ts: 't', uptimeMs: 0, status: 'ok' });
          return () => stops.push(1);
        },
      },
    } as unknown as Handlers;
    const sent: ServerMessage[] = [];
    const connection = serveConnection(createRouter(handlers), { transport: 'socket' }, (m) => sent.push(m));
    connection.receive(JSON.stringify({ t: 'sub', id: 7, stream: 'app.health', params: {} }));
    connection.receive(JSON.stringify({ t: 'sub', id: 8, stream: 'app.health', params: {} }));
    connection.receive(JSON.stringify({ t: 'sub', id: 7, stream: 'app.health', params: {} }));
    expect(sent).toMatchObject([
      { t: 'event', id: 7 },
      { t: 'event', id: 8 },
      { t: 'end', id: 7, error: { code: 'conflict' } },
    ]);
    connection.receive(JSON.stringify({ t: 'unsub', id: 7 }));
    expect(stops).toHaveLength(1);
    connection.close();
    expect(stops).toHaveLength(2);
  });

  it('caps the calls awaiting an answer per connection: the one past the cap is refused in plain words, and answers free room', async () => {
    const pending: Array<() => void> = [];
    const handlers = {
      procedures: { 'app.info': () => new Promise<object>((resolve) => pending.push(() => resolve({}))) },
      streams: {},
    } as unknown as Handlers;
    const sent: ServerMessage[] = [];
    const connection = serveConnection(createRouter(handlers), { transport: 'socket' }, (m) => sent.push(m));
    for (let id = 0; id <= MAX_CALLS_IN_FLIGHT_PER_CONNECTION; id++) connection.receive(JSON.stringify({ t: 'call', id, method: 'app.info', input: {} }));
    await vi.waitFor(() => expect(pending).toHaveLength(MAX_CALLS_IN_FLIGHT_PER_CONNECTION));
    expect(sent).toEqual([
      { t: 'result', id: MAX_CALLS_IN_FLIGHT_PER_CONNECTION, ok: false, error: { code: 'unavailable', message: expect.stringContaining('Too many calls in flight') } },
    ]);
    // One answered: one more call is taken (and answered in turn).
    pending.shift()!();
    const answered = () => sent.filter((m) => m.t === 'result' && m.id !== MAX_CALLS_IN_FLIGHT_PER_CONNECTION);
    await vi.waitFor(() => expect(answered()).toHaveLength(1));
    connection.receive(JSON.stringify({ t: 'call', id: 1000, method: 'app.info', input: {} }));
    await vi.waitFor(() => expect(pending).toHaveLength(MAX_CALLS_IN_FLIGHT_PER_CONNECTION));
    for (const answer of pending.splice(0)) answer();
    await vi.waitFor(() => expect(answered()).toHaveLength(MAX_CALLS_IN_FLIGHT_PER_CONNECTION + 1));
    expect(answered().every((m) => m.t === 'result' && !(m.ok === false && m.error.code === 'unavailable'))).toBe(true);
  });

  it('caps the number of live subscriptions per connection', () => {
    const handlers = {
      procedures: { 'app.info': () => ({}) },
      streams: { 'app.health': () => () => {} },
    } as unknown as Handlers;
    const sent: ServerMessage[] = [];
    const connection = serveConnection(createRouter(handlers), { transport: 'socket' }, (m) => sent.push(m));
    for (let id = 0; id <= MAX_SUBSCRIPTIONS_PER_CONNECTION; id++) {
      connection.receive(JSON.stringify({ t: 'sub', id, stream: 'app.health', params: {} }));
    }
    expect(sent).toEqual([
      { t: 'end', id: MAX_SUBSCRIPTIONS_PER_CONNECTION, error: { code: 'unavailable', message: expect.any(String) } },
    ]);
  });
});

/**
 * A socket stand-in that takes each frame but writes nothing out until the test says so: the
 * client "stops reading". `drain()` writes everything handed to it so far (the client read it).
 */
function slowPeer() {
  const received: ServerMessage[] = [];
  const unwritten: Array<() => void> = [];
  const closes: Array<{ code: number; reason: string }> = [];
  let largest = 0;
  const peer: ConnectionPeer = {
    send(text, written) {
      largest = Math.max(largest, Buffer.byteLength(text));
      received.push(JSON.parse(text) as ServerMessage);
      unwritten.push(written);
    },
    close(code, reason) {
      closes.push({ code, reason });
    },
  };
  const drain = () => {
    for (const written of unwritten.splice(0)) written();
  };
  const events = (id: number) =>
    received.filter((m): m is Extract<ServerMessage, { t: 'event' }> => m.t === 'event' && m.id === id).map((m) => m.event as LedgerEvent);
  return { peer, received, unwritten, closes, drain, events, largest: () => largest };
}

/** A run of `count` events (run.created, then chunks of ~200 bytes of text). */
async function bigRun(workstation: Awaited<ReturnType<typeof openWorkstation>>, count: number) {
  const runId = workstation.ledger.newRunId();
  await workstation.ledger.append(runId, { type: 'run.created', payload: { workspace: '/tmp/keel-test-workspace', agent: { kind: 'builtin' } } });
  const appends = [];
  for (let i = 1; i < count; i++) {
    appends.push(workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: `${i} `.padEnd(200, 'x') } }, { durability: 'stream' }));
  }
  await Promise.all(appends);
  return runId;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const seqs = (events: LedgerEvent[]) => events.map((event) => event.seq);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('wire connection: backpressure', () => {
  it('pauses history paging while the peer is behind and resumes as it reads: every event once, in order, live ones too', async () => {
    const workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
    const runId = await bigRun(workstation, 2_000);
    const slow = slowPeer();
    const limits = { pauseAtBytes: 16 * 1024, resumeAtBytes: 4 * 1024, closeAtBytes: 1024 * 1024, stallMs: 2_000 };
    const connection = serveConnection(workstation.router, { transport: 'socket' }, slow.peer, limits);
    connection.receive(JSON.stringify({ t: 'sub', id: 1, stream: 'run.events', params: { runId } }));

    await vi.waitFor(() => expect(connection.paused).toBe(true));
    const before = slow.events(1).length;
    for (let i = 0; i < 20; i++) await turn();
    // Paused: nothing more is read from the ledger or sent until the peer reads.
    expect(slow.events(1).length).toBe(before);
    expect(before).toBeLessThan(2_000);
    expect(connection.outstandingBytes).toBeLessThanOrEqual(limits.pauseAtBytes + slow.largest());

    // A slow reader: reads what it has, a little later, over and over. Midway, the run grows.
    let grown = false;
    let live: Promise<unknown> = Promise.resolve();
    while (slow.events(1).length < 2_300) {
      slow.drain();
      await turn();
      if (!grown && slow.events(1).length >= 1_000) {
        grown = true;
        live = Promise.all(Array.from({ length: 300 }, (_, i) => workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: `live ${i}` } })));
      }
    }
    await live;
    slow.drain();
    for (let i = 0; i < 20; i++) await turn();
    expect(seqs(slow.events(1))).toEqual(oneTo(2_300));
    expect(connection.pauses).toBeGreaterThan(10);
    expect(connection.peakOutstandingBytes).toBeLessThanOrEqual(limits.pauseAtBytes + slow.largest());
    expect(slow.closes).toEqual([]);
    connection.close();
    await workstation.close();
  });

  it('a caught-up subscriber that falls behind on live events leaves the live feed and pages the rest from the ledger', async () => {
    const workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
    const runId = await bigRun(workstation, 10);
    const slow = slowPeer();
    const limits = { pauseAtBytes: 16 * 1024, resumeAtBytes: 4 * 1024, closeAtBytes: 1024 * 1024, stallMs: 5_000 };
    const connection = serveConnection(workstation.router, { transport: 'socket' }, slow.peer, limits);
    connection.receive(JSON.stringify({ t: 'sub', id: 1, stream: 'run.events', params: { runId } }));
    await vi.waitFor(() => expect(slow.events(1)).toHaveLength(10));
    slow.drain();
    // A fast turn: 1,000 events (~300 KB) committed while the peer reads nothing.
    await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: `${i} `.padEnd(200, 'y') } }, { durability: 'stream' })),
    );
    expect(connection.paused).toBe(true);
    expect(slow.events(1).length).toBeLessThan(1_010);
    expect(connection.outstandingBytes).toBeLessThanOrEqual(limits.pauseAtBytes + slow.largest());
    while (slow.events(1).length < 1_010) {
      slow.drain();
      await turn();
    }
    // Live again: the next commit arrives by itself.
    slow.drain();
    await workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: 'last' } });
    await vi.waitFor(() => expect(slow.events(1)).toHaveLength(1_011));
    expect(seqs(slow.events(1))).toEqual(oneTo(1_011));
    expect(slow.closes).toEqual([]);
    connection.close();
    await workstation.close();
  });

  it('a peer that stops reading is closed with CloseCode.tooSlow once nothing has been written for stallMs, and its streams stop', async () => {
    const workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
    const runId = await bigRun(workstation, 2_000);
    const slow = slowPeer();
    const limits = { pauseAtBytes: 16 * 1024, resumeAtBytes: 4 * 1024, closeAtBytes: 1024 * 1024, stallMs: 100 };
    const connection = serveConnection(workstation.router, { transport: 'socket' }, slow.peer, limits);
    for (let id = 1; id <= MAX_SUBSCRIPTIONS_PER_CONNECTION; id++) {
      connection.receive(JSON.stringify({ t: 'sub', id, stream: 'run.events', params: { runId } }));
    }
    await vi.waitFor(() => expect(slow.closes).toEqual([{ code: CloseCode.tooSlow, reason: closeReasons[CloseCode.tooSlow] }]));
    expect(connection.peakOutstandingBytes).toBeLessThanOrEqual(limits.pauseAtBytes + slow.largest());
    const sent = slow.received.length;
    // Closed: live events and reads of the peer go nowhere.
    await workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: 'after' } });
    connection.receive(JSON.stringify({ t: 'call', id: 9_999, method: 'app.info', input: {} }));
    slow.drain();
    for (let i = 0; i < 20; i++) await turn();
    expect(slow.received.length).toBe(sent);
    expect(slow.closes).toHaveLength(1);
    await workstation.close();
  });

  it('output that cannot wait is bounded too: past closeAtBytes unsent, the connection is closed with CloseCode.tooSlow', async () => {
    const workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
    const slow = slowPeer();
    const limits = { pauseAtBytes: 4 * 1024, resumeAtBytes: 1024, closeAtBytes: 64 * 1024, stallMs: 60_000 };
    const connection = serveConnection(workstation.router, { transport: 'socket' }, slow.peer, limits);
    for (let id = 1; id <= 2_000; id++) connection.receive(JSON.stringify({ t: 'call', id, method: 'app.info', input: {} }));
    await vi.waitFor(() => expect(slow.closes.map((close) => close.code)).toEqual([CloseCode.tooSlow]));
    expect(connection.peakOutstandingBytes).toBeLessThanOrEqual(limits.closeAtBytes + slow.largest());
    expect(slow.received.length).toBeLessThan(2_000);
    await workstation.close();
  });

  it('an in-process peer (a function) is never paused and gets every message as it comes', async () => {
    const { workstation, connection, sent } = await open();
    const runId = await bigRun(workstation, 1_500);
    connection.receive(JSON.stringify({ t: 'sub', id: 1, stream: 'run.events', params: { runId } }));
    await vi.waitFor(() => expect(sent.filter((m) => m.t === 'event')).toHaveLength(1_500));
    expect(connection.paused).toBe(false);
    expect(connection.outstandingBytes).toBe(0);
    connection.close();
    await workstation.close();
  });
});
