import { describe, expect, it, vi } from 'vitest';
import type { ServerMessage } from '../src/contract/index.js';
import { MAX_SUBSCRIPTIONS_PER_CONNECTION, serveConnection } from '../src/host/connection.js';
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
