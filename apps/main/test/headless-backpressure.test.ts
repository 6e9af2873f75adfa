// Issue 10, point 2: backpressure on the headless server's WebSocket streams. Real server on
// 127.0.0.1, real `ws` clients; "never reads" is a client whose TCP socket is paused, so what
// the server sends piles up first in the kernel's buffers, then in the server's own.
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  CloseCode,
  closeReasons,
  createClient,
  createSocketTransport,
  hostCloseMessage,
  type ConnectionStatus,
  type LedgerEvent,
  type ServerMessage,
  type SocketLike,
} from '@keel/core/contract';
import { DEFAULT_FLOW_LIMITS, openWorkstation, type FlowLimits, type Workstation } from '@keel/core';
import { MAX_CONNECTIONS, startHeadlessServer, type HeadlessServer } from '../src/headless/server.js';

const RUN_EVENTS = 10_000;
let template = '';
let runId = '';
const open: Array<{ server: HeadlessServer; workstation: Workstation; dirs: string[] }> = [];
const sockets: WebSocket[] = [];

/** One 10,000-event run (~3 MB of events), written once; each test serves a copy of it. */
beforeAll(async () => {
  template = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-bp-template-'));
  const workstation = await openWorkstation({ dataDir: template, mode: 'headless', heartbeatMs: 60_000 });
  runId = workstation.ledger.newRunId();
  await workstation.ledger.append(runId, { type: 'run.created', payload: { workspace: '/tmp/keel-test-workspace', agent: { kind: 'builtin' } } });
  const appends = [];
  for (let i = 1; i < RUN_EVENTS; i++) {
    appends.push(workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: `${i} `.padEnd(200, 'x') } }, { durability: 'stream' }));
  }
  await Promise.all(appends);
  await workstation.close();
}, 60_000);

afterAll(() => fs.rmSync(template, { recursive: true, force: true }));

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const { server, workstation, dirs } of open.splice(0)) {
    await server.close();
    await workstation.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function start(options: { flowLimits?: Partial<FlowLimits> } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-bp-data-'));
  fs.cpSync(template, dataDir, { recursive: true });
  const rendererDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-renderer-'));
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Keel</title>');
  const workstation = await openWorkstation({ dataDir, mode: 'headless', heartbeatMs: 60_000 });
  const server = await startHeadlessServer({ router: workstation.router, rendererDir, ...options });
  open.push({ server, workstation, dirs: [dataDir, rendererDir] });
  expect(workstation.ledger.run(runId)?.lastSeq).toBe(RUN_EVENTS);
  return { server, workstation };
}

const rpcUrl = (server: HeadlessServer) => `ws://127.0.0.1:${server.port}/rpc?token=${server.token}`;

function newSocket(server: HeadlessServer): WebSocket {
  const socket = new WebSocket(rpcUrl(server), { headers: { Origin: server.origin } });
  socket.on('error', () => {});
  sockets.push(socket);
  return socket;
}

/** A socket that has opened (an accepted upgrade). */
function connect(server: HeadlessServer): Promise<WebSocket> {
  const socket = newSocket(server);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

/** The TCP socket under a `ws` client (a private field of `ws`, used to stop reading). */
const tcp = (socket: WebSocket) => (socket as unknown as { _socket: net.Socket })._socket;

const closeOf = (socket: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

/** A failure guard, not a timing assertion. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

function call(socket: WebSocket, id: number, method: string): Promise<ServerMessage> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      if (message.t !== 'result' || message.id !== id) return;
      socket.off('message', onMessage);
      resolve(message);
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ t: 'call', id, method, input: {} }));
  });
}

const subscribe = (socket: WebSocket, id: number) => socket.send(JSON.stringify({ t: 'sub', id, stream: 'run.events', params: { runId } }));
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const MiB = 1024 * 1024;

describe('headless server: backpressure', () => {
  it('a client that never reads, holding 256 subscriptions to a 10,000-event run, stays bounded and is closed with 4008; another client is answered meanwhile', async () => {
    const { server } = await start({ flowLimits: { stallMs: 1_500 } });
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 25);

    const stuck = await connect(server);
    const stuckClosed = closeOf(stuck);
    tcp(stuck).pause();
    // 256 × ~3 MB of history asked for, none of it read.
    for (let id = 1; id <= 256; id++) subscribe(stuck, id);

    const good = await connect(server);
    expect(await within(10_000, 'app.info while a client is stuck', call(good, 1, 'app.info'))).toMatchObject({ ok: true, value: { name: 'Keel' } });
    await vi.waitFor(() => expect(server.stats().closedTooSlow).toBe(1), { timeout: 15_000, interval: 50 });
    expect(await within(10_000, 'app.info after the stuck client was closed', call(good, 2, 'app.info'))).toMatchObject({ ok: true });
    clearInterval(sampler);

    const stats = server.stats();
    // The connection's own accounting: history stopped at the pause mark (plus the event that crossed it).
    expect(stats.peakOutstandingBytes).toBeGreaterThan(DEFAULT_FLOW_LIMITS.pauseAtBytes);
    expect(stats.peakOutstandingBytes).toBeLessThanOrEqual(DEFAULT_FLOW_LIMITS.pauseAtBytes + 64 * 1024);
    // The whole process (before the fix it grew by ~1.5 GB in 20 s); generous: GC timing varies.
    expect(rssPeak - rssBefore).toBeLessThan(200 * MiB);

    // Once it reads, the client learns why it was dropped.
    tcp(stuck).resume();
    expect(await within(10_000, 'the close frame', stuckClosed)).toEqual({ code: CloseCode.tooSlow, reason: closeReasons[CloseCode.tooSlow] });
    await vi.waitFor(() => expect(server.stats().connections).toBe(1));
  });

  it('a slow but reading client gets every event of every subscription exactly once, in order, while history pauses and resumes', async () => {
    const { server, workstation } = await start({ flowLimits: { pauseAtBytes: 64 * 1024, resumeAtBytes: 16 * 1024 } });
    const socket = await connect(server);
    const SUBS = 8;
    const seen = new Map<number, number[]>(Array.from({ length: SUBS }, (_, i) => [i + 1, []]));
    let ended = 0;
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      if (message.t === 'event') seen.get(message.id)!.push((message.event as LedgerEvent).seq);
      else if (message.t === 'end') ended += 1;
    });
    const raw = tcp(socket);
    raw.pause();
    for (let id = 1; id <= SUBS; id++) subscribe(socket, id);
    // Not reading at first: the buffers fill and history pauses.
    await vi.waitFor(() => expect(server.stats().pauses).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
    // Then reading in short sips, with the run growing meanwhile.
    const sips = setInterval(() => {
      raw.resume();
      setImmediate(() => raw.pause());
    }, 2);
    const total = RUN_EVENTS + 300;
    try {
      await vi.waitFor(() => expect(Math.min(...[...seen.values()].map((seqs) => seqs.length))).toBeGreaterThan(RUN_EVENTS / 2), { timeout: 20_000, interval: 20 });
      await Promise.all(Array.from({ length: 300 }, (_, i) => workstation.ledger.append(runId, { type: 'message.chunk', payload: { text: `live ${i}` } })));
      await vi.waitFor(() => expect(Math.min(...[...seen.values()].map((seqs) => seqs.length))).toBeGreaterThanOrEqual(total), { timeout: 20_000, interval: 20 });
    } finally {
      clearInterval(sips);
      raw.resume();
    }
    for (const seqs of seen.values()) expect(seqs).toEqual(oneTo(total));
    expect(ended).toBe(0);
    const stats = server.stats();
    expect(stats.pauses).toBeGreaterThan(1);
    expect(stats.closedTooSlow).toBe(0);
    expect(stats.peakOutstandingBytes).toBeLessThanOrEqual(64 * 1024 + 64 * 1024);
  });

  it(`accepts ${MAX_CONNECTIONS} connections and closes the next with 4009 and a plain reason; a freed slot is usable again`, async () => {
    const { server } = await start();
    const accepted = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => connect(server)));
    expect(server.stats().connections).toBe(MAX_CONNECTIONS);
    const extra = newSocket(server);
    expect(await within(10_000, 'the refusal', closeOf(extra))).toEqual({
      code: CloseCode.tooManyConnections,
      reason: closeReasons[CloseCode.tooManyConnections],
    });
    expect(server.stats()).toMatchObject({ connections: MAX_CONNECTIONS, refused: 1 });
    // Everyone already in is still served.
    expect(await call(accepted[0]!, 1, 'app.info')).toMatchObject({ ok: true });
    accepted.at(-1)!.close();
    await vi.waitFor(() => expect(server.stats().connections).toBe(MAX_CONNECTIONS - 1));
    const next = await connect(server);
    expect(await within(10_000, 'app.info on the freed slot', call(next, 1, 'app.info'))).toMatchObject({ ok: true, value: { name: 'Keel' } });
  });

  it('the socket transport reconnects after 4008, says why, and resumes run.events from its last seq: nothing lost, nothing twice', async () => {
    const { server } = await start({ flowLimits: { stallMs: 500 } });
    const statuses: Array<{ status: ConnectionStatus; why: string | undefined }> = [];
    let first: WebSocket | null = null;
    const transport = createSocketTransport({
      connect: () => {
        const socket = newSocket(server);
        // The first connection stops reading as soon as it is open (a frozen tab).
        if (!first) {
          first = socket;
          socket.once('open', () => tcp(socket).pause());
        }
        return socket as unknown as SocketLike;
      },
      onStatus: (status, why) => statuses.push({ status, why }),
      backoffMs: () => 20,
    });
    const client = createClient(transport);
    // As the renderer's transcript does: re-subscribe from the last seq seen + 1. Several
    // subscriptions, so that what is asked for is more than the kernel's buffers hold.
    const SUBS = 12;
    const seen = Array.from({ length: SUBS }, () => [] as number[]);
    for (const seqs of seen) {
      client.subscribe('run.events', () => ({ runId, fromSeq: (seqs.at(-1) ?? 0) + 1 }), { onEvent: (event) => seqs.push(event.seq) });
    }
    await vi.waitFor(() => expect(server.stats().closedTooSlow).toBe(1), { timeout: 15_000, interval: 50 });
    tcp(first!).resume();
    await vi.waitFor(() => expect(Math.min(...seen.map((seqs) => seqs.length))).toBe(RUN_EVENTS), { timeout: 20_000, interval: 20 });
    for (const seqs of seen) expect(seqs).toEqual(oneTo(RUN_EVENTS));
    expect(statuses.slice(0, 3)).toEqual([
      { status: 'connected', why: undefined },
      { status: 'reconnecting', why: hostCloseMessage(CloseCode.tooSlow) },
      { status: 'connected', why: undefined },
    ]);
    expect(transport.hostClosed).toBeNull();
    transport.close();
  });
});
