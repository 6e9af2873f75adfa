import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createRouter,
  MAX_CALLS_IN_FLIGHT_PER_CONNECTION,
  openWorkstation,
  type CallContext,
  type CallOutcome,
  type Handlers,
  type Router,
  type StreamMessage,
  type StreamSink,
  type Workstation,
} from '@keel/core';
import { IPC_CHANNELS } from '../src/electron/channels.js';
import {
  registerIpcBridge,
  type IpcBridge,
  type IpcInvokeEventLike,
  type IpcMainLike,
  type IpcSendEventLike,
  type NavigationDetailsLike,
} from '../src/electron/ipc.js';
import { createSenderCheck, type FrameLike } from '../src/electron/sender.js';

const APP_URL = 'keel://app/index.html';

class FakeFrame implements FrameLike {
  constructor(
    public url: string,
    public parent: FakeFrame | null,
    public processId: number,
    public routingId: number,
  ) {}
}

/** A WebContents stand-in: an EventEmitter with a main frame and a record of what main sent it. */
class FakeContents extends EventEmitter {
  readonly sent: unknown[][] = [];
  readonly mainFrame: FakeFrame;
  private destroyed = false;

  constructor(
    readonly id: number,
    url = APP_URL,
  ) {
    super();
    this.mainFrame = new FakeFrame(url, null, 100 + id, 1);
  }
  send(channel: string, ...args: unknown[]) {
    this.sent.push([channel, ...args]);
  }
  isDestroyed() {
    return this.destroyed;
  }
  destroy() {
    this.destroyed = true;
    this.emit('destroyed');
  }
  navigate(details: NavigationDetailsLike) {
    this.emit('did-start-navigation', details);
  }
  subframe(url = APP_URL) {
    return new FakeFrame(url, this.mainFrame, this.mainFrame.processId, 2);
  }
}

type InvokeListener = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown;
type SendListener = (event: IpcSendEventLike, ...args: unknown[]) => void;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, InvokeListener>();
  readonly listeners = new Map<string, Set<SendListener>>();
  handle(channel: string, listener: InvokeListener) {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
  on(channel: string, listener: SendListener) {
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
  }
  removeListener(channel: string, listener: SendListener) {
    this.listeners.get(channel)?.delete(listener);
  }
  async invoke(event: IpcInvokeEventLike, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(IPC_CHANNELS.invoke);
    if (!handler) throw new Error('No handler registered for keel:invoke');
    return handler(event, ...args);
  }
  send(channel: string, event: IpcSendEventLike, ...args: unknown[]) {
    for (const listener of this.listeners.get(channel) ?? []) listener(event, ...args);
  }
}

const eventFrom = (contents: FakeContents, frame: FakeFrame | null = contents.mainFrame) => ({
  sender: contents,
  senderFrame: frame,
  reply: vi.fn(),
});

/** A router from the real createRouter (real zod validation) whose handlers are spies, wrapped to record every call. */
function spyRouter() {
  const stops: Array<ReturnType<typeof vi.fn>> = [];
  const sinks: Array<StreamSink<unknown>> = [];
  const appInfo = vi.fn(() => ({}));
  const health = vi.fn((_params: unknown, sink: StreamSink<unknown>) => {
    sinks.push(sink);
    const stop = vi.fn();
    stops.push(stop);
    return stop;
  });
  // Only the names these tests use; the router never calls a handler it was not asked for.
  const real = createRouter({ procedures: { 'app.info': appInfo }, streams: { 'app.health': health } } as unknown as Handlers);
  const calls: Array<{ method: string; ctx: CallContext }> = [];
  const subscribes: Array<{ stream: string; ctx: CallContext }> = [];
  const router: Router = {
    call(method, input, ctx) {
      calls.push({ method, ctx });
      return real.call(method, input, ctx);
    },
    subscribe(stream, params, ctx, onMessage) {
      subscribes.push({ stream, ctx });
      return real.subscribe(stream, params, ctx, onMessage);
    },
  };
  return { router, calls, subscribes, appInfo, health, stops, sinks };
}

const bridges: IpcBridge[] = [];
const workstations: Workstation[] = [];
afterEach(async () => {
  for (const bridge of bridges.splice(0)) bridge.dispose();
  for (const workstation of workstations.splice(0)) await workstation.close();
});

function setup(router: Router, appContents: FakeContents[]) {
  const ipcMain = new FakeIpcMain();
  const ids = new Set(appContents.map((contents) => contents.id));
  const rejected: string[] = [];
  const bridge = registerIpcBridge({
    ipcMain,
    router,
    checkSender: createSenderCheck({ isAppContents: (contents) => ids.has(contents.id) }),
    onRejected: (channel, reason) => rejected.push(`${channel}: ${reason}`),
  });
  bridges.push(bridge);
  return { ipcMain, bridge, rejected };
}

describe('IPC sender check', () => {
  const own = new FakeContents(1);
  const foreignCases: Array<[string, () => ReturnType<typeof eventFrom>]> = [
    ['a main frame on another keel host', () => eventFrom(own, new FakeFrame('keel://evil/index.html', null, own.mainFrame.processId, 1))],
    ['a look-alike host', () => eventFrom(own, new FakeFrame('keel://app.evil/index.html', null, own.mainFrame.processId, 1))],
    ['userinfo smuggling', () => eventFrom(own, new FakeFrame('keel://app@evil/index.html', null, own.mainFrame.processId, 1))],
    ['a file:// page', () => eventFrom(own, new FakeFrame('file:///Users/me/index.html', null, own.mainFrame.processId, 1))],
    ['an https page', () => eventFrom(own, new FakeFrame('https://evil.example/', null, own.mainFrame.processId, 1))],
    ['a subframe on the app origin', () => eventFrom(own, own.subframe())],
    ['a subframe on a foreign origin', () => eventFrom(own, own.subframe('https://evil.example/frame'))],
    ['a top-level frame that is not this contents\' main frame', () => eventFrom(own, new FakeFrame(APP_URL, null, 999, 7))],
    ['a frame that is gone', () => eventFrom(own, null)],
    ['web contents that are not an app window', () => eventFrom(new FakeContents(2))],
  ];

  it.each(foreignCases)('refuses %s with forbidden and never reaches the router', async (_name, makeEvent) => {
    const spy = spyRouter();
    const { ipcMain, rejected } = setup(spy.router, [own]);
    const outcome = (await ipcMain.invoke(makeEvent(), 'app.info', {})) as CallOutcome;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('forbidden');
    expect(spy.calls).toHaveLength(0);
    expect(spy.appInfo).not.toHaveBeenCalled();
    expect(rejected).toHaveLength(1);
  });

  it.each(foreignCases)('refuses a subscription from %s, answering only the sending frame', (_name, makeEvent) => {
    const spy = spyRouter();
    const { ipcMain, bridge } = setup(spy.router, [own]);
    const event = makeEvent();
    ipcMain.send(IPC_CHANNELS.subscribe, event, 1, 'app.health', {});
    expect(spy.subscribes).toHaveLength(0);
    expect(spy.health).not.toHaveBeenCalled();
    expect(bridge.subscriptionCount()).toBe(0);
    expect(event.reply).toHaveBeenCalledWith(IPC_CHANNELS.stream, 1, expect.objectContaining({ t: 'end', error: expect.objectContaining({ code: 'forbidden' }) }));
    expect((event.sender as FakeContents).sent).toHaveLength(0);
  });

  it('answers the app window\'s own main frame through the real Workstation', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-ipc-'));
    const workstation = await openWorkstation({ dataDir, mode: 'electron', heartbeatMs: 60_000 });
    workstations.push(workstation);
    const { ipcMain, rejected } = setup(workstation.router, [own]);
    const outcome = (await ipcMain.invoke(eventFrom(own), 'app.info', {})) as CallOutcome;
    expect(outcome).toMatchObject({ ok: true, value: { name: 'Keel', mode: 'electron', dataDir } });
    expect(rejected).toEqual([]);
  });

  it('passes the electron transport context to the router', async () => {
    const spy = spyRouter();
    const { ipcMain } = setup(spy.router, [own]);
    await ipcMain.invoke(eventFrom(own), 'app.info', {});
    expect(spy.calls).toEqual([{ method: 'app.info', ctx: { transport: 'electron' } }]);
    expect(spy.appInfo).toHaveBeenCalledOnce();
  });
});

describe('IPC input validation', () => {
  const own = new FakeContents(1);

  it('answers invalid_input without calling the handler', async () => {
    const spy = spyRouter();
    const { ipcMain } = setup(spy.router, [own]);
    const outcome = (await ipcMain.invoke(eventFrom(own), 'app.info', { unexpected: true })) as CallOutcome;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(spy.appInfo).not.toHaveBeenCalled();
  });

  it('answers invalid_input for a method that is not a string, before the router', async () => {
    const spy = spyRouter();
    const { ipcMain } = setup(spy.router, [own]);
    const outcome = (await ipcMain.invoke(eventFrom(own), { toString: () => 'app.info' }, {})) as CallOutcome;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(spy.calls).toHaveLength(0);
  });

  it('answers unknown_method for a name the contract does not have', async () => {
    const spy = spyRouter();
    const { ipcMain } = setup(spy.router, [own]);
    const outcome = (await ipcMain.invoke(eventFrom(own), '__proto__', {})) as CallOutcome;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
  });

  it('ends a subscription with invalid params without calling the stream handler', () => {
    const spy = spyRouter();
    const { ipcMain, bridge } = setup(spy.router, [own]);
    own.sent.length = 0;
    ipcMain.send(IPC_CHANNELS.subscribe, eventFrom(own), 3, 'app.health', { intervalMs: 1 });
    expect(spy.health).not.toHaveBeenCalled();
    expect(own.sent).toEqual([[IPC_CHANNELS.stream, 3, expect.objectContaining({ t: 'end', error: expect.objectContaining({ code: 'invalid_input' }) })]]);
    expect(bridge.subscriptionCount()).toBe(0);
  });
});

describe('IPC subscriptions', () => {
  const heartbeat = { seq: 0, ts: new Date(0).toISOString(), uptimeMs: 1, status: 'ok' };

  function subscribed() {
    const contents = new FakeContents(1);
    const spy = spyRouter();
    const env = setup(spy.router, [contents]);
    env.ipcMain.send(IPC_CHANNELS.subscribe, eventFrom(contents), 7, 'app.health', {});
    expect(spy.health).toHaveBeenCalledOnce();
    expect(env.bridge.subscriptionCount()).toBe(1);
    return { contents, spy, ...env };
  }

  it('delivers events to the subscribing web contents on keel:stream', () => {
    const { contents, spy } = subscribed();
    spy.sinks[0]?.next(heartbeat);
    expect(contents.sent).toEqual([[IPC_CHANNELS.stream, 7, { t: 'event', event: heartbeat } satisfies StreamMessage]]);
  });

  it('stops the stream on unsubscribe', () => {
    const { contents, spy, ipcMain, bridge } = subscribed();
    ipcMain.send(IPC_CHANNELS.unsubscribe, eventFrom(contents), 7);
    expect(spy.stops[0]).toHaveBeenCalledOnce();
    expect(bridge.subscriptionCount()).toBe(0);
    spy.sinks[0]?.next(heartbeat);
    expect(contents.sent).toHaveLength(0);
  });

  it('does not let a subframe stop the page\'s stream', () => {
    const { contents, spy, ipcMain, bridge } = subscribed();
    ipcMain.send(IPC_CHANNELS.unsubscribe, eventFrom(contents, contents.subframe()), 7);
    expect(spy.stops[0]).not.toHaveBeenCalled();
    expect(bridge.subscriptionCount()).toBe(1);
  });

  it('stops every stream when the web contents is destroyed', () => {
    const { contents, spy, ipcMain, bridge } = subscribed();
    ipcMain.send(IPC_CHANNELS.subscribe, eventFrom(contents), 8, 'app.health', {});
    expect(bridge.subscriptionCount()).toBe(2);
    contents.destroy();
    expect(spy.stops.map((stop) => stop.mock.calls.length)).toEqual([1, 1]);
    expect(bridge.subscriptionCount()).toBe(0);
  });

  it('stops every stream when the main frame navigates, but not on same-document navigation', () => {
    const { contents, spy, bridge } = subscribed();
    contents.navigate({ isMainFrame: true, isSameDocument: true });
    contents.navigate({ isMainFrame: false, isSameDocument: false });
    expect(spy.stops[0]).not.toHaveBeenCalled();
    contents.navigate({ isMainFrame: true, isSameDocument: false });
    expect(spy.stops[0]).toHaveBeenCalledOnce();
    expect(bridge.subscriptionCount()).toBe(0);
    expect(contents.listenerCount('did-start-navigation')).toBe(0);
    expect(contents.listenerCount('destroyed')).toBe(0);
  });

  it('forgets a stream the host ended', () => {
    const { contents, spy, bridge } = subscribed();
    spy.sinks[0]?.end();
    expect(contents.sent).toEqual([[IPC_CHANNELS.stream, 7, { t: 'end' }]]);
    expect(bridge.subscriptionCount()).toBe(0);
  });

  it('refuses a second subscription with an id that is already open', () => {
    const { contents, spy, ipcMain, bridge } = subscribed();
    ipcMain.send(IPC_CHANNELS.subscribe, eventFrom(contents), 7, 'app.health', {});
    expect(spy.health).toHaveBeenCalledOnce();
    expect(contents.sent).toEqual([[IPC_CHANNELS.stream, 7, expect.objectContaining({ t: 'end', error: expect.objectContaining({ code: 'conflict' }) })]]);
    expect(bridge.subscriptionCount()).toBe(1);
  });

  it('caps the calls awaiting an answer per window: the one past the cap is refused in plain words before the router, and answers free room', async () => {
    const own = new FakeContents(1);
    const waiting: Array<() => void> = [];
    const real = createRouter({ procedures: { 'app.info': () => new Promise((resolve) => waiting.push(() => resolve({}))) }, streams: {} } as unknown as Handlers);
    let routed = 0;
    const router: Router = {
      call(method, input, ctx) {
        routed++;
        return real.call(method, input, ctx);
      },
      subscribe: real.subscribe,
    };
    const { ipcMain } = setup(router, [own]);
    const calls = Array.from({ length: MAX_CALLS_IN_FLIGHT_PER_CONNECTION }, () => ipcMain.invoke(eventFrom(own), 'app.info', {}));
    const refused = (await ipcMain.invoke(eventFrom(own), 'app.info', {})) as CallOutcome;
    expect(refused).toEqual({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('Too many calls in flight') } });
    expect(routed).toBe(MAX_CALLS_IN_FLIGHT_PER_CONNECTION);
    await vi.waitFor(() => expect(waiting).toHaveLength(MAX_CALLS_IN_FLIGHT_PER_CONNECTION));
    for (const answer of waiting.splice(0)) answer();
    await Promise.all(calls);
    const again = ipcMain.invoke(eventFrom(own), 'app.info', {});
    await vi.waitFor(() => expect(waiting).toHaveLength(1));
    waiting[0]!();
    await again;
    expect(routed).toBe(MAX_CALLS_IN_FLIGHT_PER_CONNECTION + 1);
  });

  it('a reload frees the room the old document\'s unanswered calls held, but reloading cannot pile up more than twice the limit in the host', async () => {
    const own = new FakeContents(1);
    const waiting: Array<() => void> = [];
    const router = createRouter({ procedures: { 'app.info': () => new Promise((resolve) => waiting.push(() => resolve({}))) }, streams: {} } as unknown as Handlers);
    const { ipcMain } = setup(router, [own]);
    const old = Array.from({ length: MAX_CALLS_IN_FLIGHT_PER_CONNECTION }, () => ipcMain.invoke(eventFrom(own), 'app.info', {}));
    await vi.waitFor(() => expect(waiting).toHaveLength(MAX_CALLS_IN_FLIGHT_PER_CONNECTION));
    expect(await ipcMain.invoke(eventFrom(own), 'app.info', {})).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    own.navigate({ isMainFrame: true, isSameDocument: false });
    const fresh = ipcMain.invoke(eventFrom(own), 'app.info', {});
    await vi.waitFor(() => expect(waiting).toHaveLength(MAX_CALLS_IN_FLIGHT_PER_CONNECTION + 1));
    for (const answer of waiting.splice(0)) answer();
    await Promise.all(old);
    // Routed and answered (the stand-in handler's `{}` is not an AppInfo: invalid_output, not a refusal).
    const unavailable = (outcome: unknown) => (outcome as CallOutcome).ok === false && (outcome as { error: { code: string } }).error.code === 'unavailable';
    expect(unavailable(await fresh)).toBe(false);
    // The old page's answers did not eat into the new page's room: it has all of it.
    const full = Array.from({ length: MAX_CALLS_IN_FLIGHT_PER_CONNECTION }, () => ipcMain.invoke(eventFrom(own), 'app.info', {}));
    await vi.waitFor(() => expect(waiting).toHaveLength(MAX_CALLS_IN_FLIGHT_PER_CONNECTION));
    for (const answer of waiting.splice(0)) answer();
    expect((await Promise.all(full)).some(unavailable)).toBe(false);
    // Fill, reload, fill again: the window as a whole is at twice the limit, and a third document is refused.
    const first = Array.from({ length: MAX_CALLS_IN_FLIGHT_PER_CONNECTION }, () => ipcMain.invoke(eventFrom(own), 'app.info', {}));
    own.navigate({ isMainFrame: true, isSameDocument: false });
    const second = Array.from({ length: MAX_CALLS_IN_FLIGHT_PER_CONNECTION }, () => ipcMain.invoke(eventFrom(own), 'app.info', {}));
    await vi.waitFor(() => expect(waiting).toHaveLength(2 * MAX_CALLS_IN_FLIGHT_PER_CONNECTION));
    own.navigate({ isMainFrame: true, isSameDocument: false });
    expect(unavailable(await ipcMain.invoke(eventFrom(own), 'app.info', {}))).toBe(true);
    for (const answer of waiting.splice(0)) answer();
    await Promise.all([...first, ...second]);
  });

  it('dispose unregisters the channels and ends every stream', () => {
    const { spy, ipcMain, bridge } = subscribed();
    bridge.dispose();
    expect(spy.stops[0]).toHaveBeenCalledOnce();
    expect(ipcMain.handlers.size).toBe(0);
    expect([...ipcMain.listeners.values()].every((set) => set.size === 0)).toBe(true);
  });
});
