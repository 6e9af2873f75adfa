import { describe, expect, it, vi } from 'vitest';
import { createClient, KeelRpcError, type AppInfo } from '../src/contract/index.js';
import { createRouter, memoryTransport, type Handlers } from '../src/host/router.js';

const ctx = { transport: 'memory' } as const;

function fakeInfo(): AppInfo {
  return {
    name: 'Keel',
    version: '0.0.0-test',
    dataDir: '/tmp/x',
    platform: 'linux',
    arch: 'x64',
    mode: 'headless',
    nodeVersion: '20',
    startedAt: new Date(0).toISOString(),
    engine: {
      status: 'ok',
      dataDir: { path: '/tmp/x', exists: true, writable: true, mode: '700', privateMode: true, freeBytes: 1, problems: [] },
      ledger: { status: 'ok', error: null, quarantinedRuns: [] },
    },
  };
}

function spyHandlers(info: () => unknown = fakeInfo) {
  const appInfo = vi.fn(info);
  const health = vi.fn((_params: unknown, sink: { next(e: unknown): void }) => {
    sink.next({ seq: 0, ts: new Date().toISOString(), uptimeMs: 1, status: 'ok' });
    return () => {};
  });
  const handlers = { procedures: { 'app.info': appInfo }, streams: { 'app.health': health } } as unknown as Handlers;
  return { handlers, appInfo, health };
}

describe('router', () => {
  it('rejects invalid input with a typed error and never calls the handler', async () => {
    const { handlers, appInfo } = spyHandlers();
    const router = createRouter(handlers);
    const outcome = await router.call('app.info', { unexpected: true }, ctx);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('invalid_input');
    expect(outcome.error.issues?.length).toBeGreaterThan(0);
    expect(appInfo).not.toHaveBeenCalled();
  });

  it('its calls are busy while a call begun within the asked time is in flight, and not once the call ended or when it began earlier', async () => {
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    const { handlers } = spyHandlers(() => answered.then(fakeInfo));
    const router = createRouter(handlers);
    expect(router.callsInFlight(2_000).busy()).toBe(false);
    const pending = router.call('app.info', {}, ctx);
    expect(router.callsInFlight(2_000).busy()).toBe(true);
    // A call that began longer ago than asked (e.g. one waiting on a person) does not count.
    expect(router.callsInFlight(-1).busy()).toBe(false);
    release();
    expect(await pending).toMatchObject({ ok: true });
    expect(router.callsInFlight(2_000).busy()).toBe(false);
  });

  it('work waiting for its calls to settle is woken when the call ends, not before (no polling)', async () => {
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    const { handlers } = spyHandlers(() => answered.then(fakeInfo));
    const router = createRouter(handlers);
    const calls = router.callsInFlight(60_000);
    await calls.settled(60_000); // nothing in flight: at once
    const pending = router.call('app.info', {}, ctx);
    let settled = false;
    const waited = calls.settled(60_000).then(() => (settled = true));
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    release();
    expect(await pending).toMatchObject({ ok: true });
    // Woken by the call's end itself: a poller's timer could not have fired between these microtasks.
    await Promise.resolve();
    expect(settled).toBe(true);
    await waited;
    expect(calls.busy()).toBe(false);
  });

  it('work waiting for its calls to settle goes on once the youngest call grows old, or at its deadline, though the call never ends', async () => {
    const { handlers } = spyHandlers(() => new Promise(() => {}));
    const router = createRouter(handlers);
    void router.call('app.info', {}, ctx);
    const began = performance.now();
    // Old after 40 ms: no longer busy, so the wait ends then (well before its 60 s deadline).
    const aging = router.callsInFlight(40);
    expect(aging.busy()).toBe(true);
    await aging.settled(60_000);
    expect(performance.now() - began).toBeGreaterThanOrEqual(39);
    expect(aging.busy()).toBe(false);
    // Young for a minute: the wait ends at its own deadline, the call still in flight.
    const young = router.callsInFlight(60_000);
    const waitFrom = performance.now();
    await young.settled(30);
    expect(performance.now() - waitFrom).toBeGreaterThanOrEqual(29);
    expect(young.busy()).toBe(true);
  });

  it('answers an unknown method with unknown_method, including prototype names', async () => {
    const { handlers, appInfo } = spyHandlers();
    const router = createRouter(handlers);
    for (const method of ['app.nope', '__proto__', 'toString', 'constructor']) {
      const outcome = await router.call(method, {}, ctx);
      expect(outcome).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    }
    expect(appInfo).not.toHaveBeenCalled();
  });

  it('validates the output: a handler returning a malformed value yields invalid_output, not the value', async () => {
    const { handlers } = spyHandlers(() => ({ ...fakeInfo(), mode: 'toaster' }));
    const outcome = await createRouter(handlers).call('app.info', {}, ctx);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_output' } });
  });

  it('maps a thrown KeelRpcError to its code and any other throw to internal', async () => {
    const typed = spyHandlers(() => {
      throw new KeelRpcError('not_found', 'no such run');
    });
    expect(await createRouter(typed.handlers).call('app.info', {}, ctx)).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'no such run' },
    });
    const untyped = spyHandlers(() => {
      throw new Error('boom');
    });
    expect(await createRouter(untyped.handlers).call('app.info', {}, ctx)).toEqual({
      ok: false,
      error: { code: 'internal', message: 'boom' },
    });
  });

  it('rejects invalid stream params and unknown streams without calling the stream handler', () => {
    const { handlers, health } = spyHandlers();
    const router = createRouter(handlers);
    const messages: unknown[] = [];
    router.subscribe('app.health', { intervalMs: 1 }, ctx, (m) => messages.push(m));
    router.subscribe('app.nothing', {}, ctx, (m) => messages.push(m));
    expect(messages).toMatchObject([
      { t: 'end', error: { code: 'invalid_input' } },
      { t: 'end', error: { code: 'unknown_stream' } },
    ]);
    expect(health).not.toHaveBeenCalled();
  });

  it('ends a stream with invalid_output when the host emits a malformed event, and stops it', () => {
    const stop = vi.fn();
    const handlers = {
      procedures: { 'app.info': fakeInfo },
      streams: {
        'app.health': (_p: unknown, sink: { next(e: unknown): void }) => {
          sink.next({ seq: -1 });
          sink.next({ seq: 1, ts: 'x', uptimeMs: 0, status: 'ok' });
          return stop;
        },
      },
    } as unknown as Handlers;
    const messages: unknown[] = [];
    createRouter(handlers).subscribe('app.health', {}, ctx, (m) => messages.push(m));
    expect(messages).toMatchObject([{ t: 'end', error: { code: 'invalid_output' } }]);
    expect(stop).toHaveBeenCalledTimes(1);
  });

  it('gives a typed client over the in-memory transport: values in, KeelRpcError out', async () => {
    const { handlers } = spyHandlers();
    const client = createClient(memoryTransport(createRouter(handlers)));
    await expect(client.invoke('app.info', {})).resolves.toMatchObject({ name: 'Keel', mode: 'headless' });
    // @ts-expect-error: the contract says the input is an empty object
    const failure = await client.invoke('app.info', { extra: 1 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KeelRpcError);
    expect((failure as KeelRpcError).code).toBe('invalid_input');
  });
});
