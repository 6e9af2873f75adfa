import { MAX_CALLS_IN_FLIGHT_PER_CONNECTION, MAX_SUBSCRIPTIONS_PER_CONNECTION, type CallContext, type CallOutcome, type Router, type StreamMessage } from '@keel/core';
import { IPC_CHANNELS } from './channels.js';
import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import type { ContentsLike, SenderCheck, SenderEventLike } from './sender.js';

/** What navigation cleanup needs from `did-start-navigation`'s first argument. */
export interface NavigationDetailsLike {
  readonly isMainFrame: boolean;
  readonly isSameDocument: boolean;
}

/** The parts of Electron's WebContents the IPC wrapper uses. */
export interface IpcContentsLike extends ContentsLike {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  on(event: 'destroyed', listener: () => void): unknown;
  on(event: 'did-start-navigation', listener: (details: NavigationDetailsLike) => void): unknown;
  removeListener(event: 'destroyed', listener: () => void): unknown;
  removeListener(event: 'did-start-navigation', listener: (details: NavigationDetailsLike) => void): unknown;
}

export interface IpcInvokeEventLike extends SenderEventLike {
  readonly sender: IpcContentsLike;
}

export interface IpcSendEventLike extends SenderEventLike {
  readonly sender: IpcContentsLike;
  /** Answers the exact frame that sent the message (not the page's main frame). */
  reply(channel: string, ...args: unknown[]): void;
}

/** The parts of Electron's ipcMain the wrapper uses; tests pass a fake. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
  on(channel: string, listener: (event: IpcSendEventLike, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: IpcSendEventLike, ...args: unknown[]) => void): unknown;
}

export interface IpcBridgeOptions {
  ipcMain: IpcMainLike;
  router: Router;
  checkSender: SenderCheck;
  /** Told about every refused message, for the log. Never given the payload. */
  onRejected?(channel: string, reason: string): void;
}

export interface IpcBridge {
  /** Live subscriptions, across all web contents (for tests and diagnostics). */
  subscriptionCount(): number;
  /** Unregisters the channels and ends every subscription. */
  dispose(): void;
}

const ctx: CallContext = { transport: 'electron' };

const forbidden = (reason: string): CallOutcome => ({ ok: false, error: { code: 'forbidden', message: `IPC refused: ${reason}.` } });

const isSubscriptionId = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

interface ContentsSubscriptions {
  readonly streams: Map<number, () => void>;
  /** Removes the destroyed/navigation listeners from the web contents. */
  readonly detach: () => void;
}

/**
 * The one IPC wrapper (the GitHub Desktop pattern): every channel goes through the sender
 * check before anything else, then straight into the contract router, which validates the
 * input with zod. Subscriptions belong to the web contents that opened them and end when it
 * is destroyed or its main frame navigates (a reload starts a fresh page with no listeners).
 */
export function registerIpcBridge(options: IpcBridgeOptions): IpcBridge {
  const { ipcMain, router, checkSender } = options;
  const byContents = new Map<number, ContentsSubscriptions>();

  /** Runs the sender check and reports a refusal; returns the refusal reason, or null when admitted. */
  const refusal = (channel: string, event: SenderEventLike): string | null => {
    const verdict = checkSender(event);
    if (verdict.ok) return null;
    options.onRejected?.(channel, verdict.reason);
    return verdict.reason;
  };

  /** Per web contents, the document loaded in it now: bumped when its main frame navigates. */
  const documents = new Map<number, number>();
  const documentOf = (contentsId: number) => `${contentsId}/${documents.get(contentsId) ?? 0}`;

  const endAll = (contentsId: number) => {
    const entry = byContents.get(contentsId);
    if (!entry) return;
    // Calls the old document left in flight no longer count against the new one's own limit.
    documents.set(contentsId, (documents.get(contentsId) ?? 0) + 1);
    byContents.delete(contentsId);
    entry.detach();
    for (const stop of entry.streams.values()) stop();
  };

  /** The web contents' streams, its destroyed/navigation listeners attached on first use (a call or a subscription). */
  const subscriptionsOf = (contents: IpcContentsLike): Map<number, () => void> => {
    const existing = byContents.get(contents.id);
    if (existing) return existing.streams;
    const contentsId = contents.id;
    const onDestroyed = () => {
      endAll(contentsId);
      documents.delete(contentsId);
    };
    const onNavigation = (details: NavigationDetailsLike) => {
      if (details.isMainFrame && !details.isSameDocument) endAll(contentsId);
    };
    contents.on('destroyed', onDestroyed);
    contents.on('did-start-navigation', onNavigation);
    const entry: ContentsSubscriptions = {
      streams: new Map(),
      detach: () => {
        if (contents.isDestroyed()) return;
        contents.removeListener('destroyed', onDestroyed);
        contents.removeListener('did-start-navigation', onNavigation);
      },
    };
    byContents.set(contentsId, entry);
    return entry.streams;
  };

  /**
   * Calls awaiting their answer, per document (a reload starts a new one with the whole limit)
   * and per web contents (all its documents together: at most twice the limit, so reloading
   * cannot pile up unanswered work in the host).
   */
  const callsInFlight = new Map<string, number>();
  const callsInFlightPerContents = new Map<number, number>();
  const countCall = (key: string, contentsId: number, by: 1 | -1) => {
    const forDocument = (callsInFlight.get(key) ?? 0) + by;
    if (forDocument > 0) callsInFlight.set(key, forDocument);
    else callsInFlight.delete(key);
    const forContents = (callsInFlightPerContents.get(contentsId) ?? 0) + by;
    if (forContents > 0) callsInFlightPerContents.set(contentsId, forContents);
    else callsInFlightPerContents.delete(contentsId);
  };

  const onInvoke = async (event: IpcInvokeEventLike, method: unknown, input: unknown): Promise<CallOutcome> => {
    const refused = refusal(IPC_CHANNELS.invoke, event);
    if (refused !== null) return forbidden(refused);
    if (typeof method !== 'string') return { ok: false, error: { code: 'invalid_input', message: 'The method name must be a string.' } };
    // As on a socket: a page firing calls without waiting gets a refusal, never unbounded work.
    subscriptionsOf(event.sender);
    const contentsId = event.sender.id;
    const documentKey = documentOf(contentsId);
    if ((callsInFlight.get(documentKey) ?? 0) >= MAX_CALLS_IN_FLIGHT_PER_CONNECTION || (callsInFlightPerContents.get(contentsId) ?? 0) >= 2 * MAX_CALLS_IN_FLIGHT_PER_CONNECTION) {
      return { ok: false, error: { code: 'unavailable', message: `Too many calls in flight from this window (${MAX_CALLS_IN_FLIGHT_PER_CONNECTION}): wait for their answers before sending more.` } };
    }
    countCall(documentKey, contentsId, 1);
    try {
      return await router.call(method, input, ctx);
    } catch (error) {
      // The router turns handler failures into outcomes; this only guards against a bug in it.
      return { ok: false, error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } };
    } finally {
      countCall(documentKey, contentsId, -1);
    }
  };

  const onSubscribe = (event: IpcSendEventLike, id: unknown, stream: unknown, params: unknown) => {
    const refused = refusal(IPC_CHANNELS.subscribe, event);
    if (refused !== null) {
      // Answer only the frame that asked: a foreign frame must not be able to end the page's streams.
      const message: StreamMessage = { t: 'end', error: { code: 'forbidden', message: `IPC refused: ${refused}.` } };
      if (isSubscriptionId(id)) event.reply(IPC_CHANNELS.stream, id, message);
      return;
    }
    // Without a usable id there is nobody to answer; the preload never sends one.
    if (!isSubscriptionId(id)) return;
    const contents = event.sender;
    const send = (message: StreamMessage) => {
      if (!contents.isDestroyed()) contents.send(IPC_CHANNELS.stream, id, message);
    };
    const streams = subscriptionsOf(contents);
    if (streams.has(id)) {
      send({ t: 'end', error: { code: 'conflict', message: `Subscription ${id} is already open.` } });
      return;
    }
    if (streams.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      send({ t: 'end', error: { code: 'unavailable', message: 'Too many open subscriptions in this window.' } });
      return;
    }
    if (typeof stream !== 'string') {
      send({ t: 'end', error: { code: 'invalid_input', message: 'The stream name must be a string.' } });
      return;
    }
    let ended = false;
    const stop = router.subscribe(stream, params, ctx, (message) => {
      if (message.t === 'end') {
        ended = true;
        streams.delete(id);
      }
      send(message);
    });
    if (!ended) streams.set(id, stop);
  };

  const onUnsubscribe = (event: IpcSendEventLike, id: unknown) => {
    if (refusal(IPC_CHANNELS.unsubscribe, event) !== null || !isSubscriptionId(id)) return;
    const streams = byContents.get(event.sender.id)?.streams;
    const stop = streams?.get(id);
    if (!stop) return;
    streams?.delete(id);
    stop();
  };

  // Electron passes the remaining arguments positionally; name them here, once.
  const invokeListener = (event: IpcInvokeEventLike, ...args: unknown[]) => onInvoke(event, args[0], args[1]);
  const subscribeListener = (event: IpcSendEventLike, ...args: unknown[]) => onSubscribe(event, args[0], args[1], args[2]);
  const unsubscribeListener = (event: IpcSendEventLike, ...args: unknown[]) => onUnsubscribe(event, args[0]);

  ipcMain.handle(IPC_CHANNELS.invoke, invokeListener);
  ipcMain.on(IPC_CHANNELS.subscribe, subscribeListener);
  ipcMain.on(IPC_CHANNELS.unsubscribe, unsubscribeListener);

  return {
    subscriptionCount() {
      let count = 0;
      for (const entry of byContents.values()) count += entry.streams.size;
      return count;
    },
    dispose() {
      ipcMain.removeHandler(IPC_CHANNELS.invoke);
      ipcMain.removeListener(IPC_CHANNELS.subscribe, subscribeListener);
      ipcMain.removeListener(IPC_CHANNELS.unsubscribe, unsubscribeListener);
      for (const contentsId of [...byContents.keys()]) endAll(contentsId);
    },
  };
}

// Compile-time proof that Electron's real events fit the shapes above (and so that the fakes
// the tests use model the real thing): a mismatch fails `tsc -b`.
type Fits<A, B> = A extends B ? true : false;
const electronEventsFit: [Fits<IpcMainInvokeEvent, IpcInvokeEventLike>, Fits<IpcMainEvent, IpcSendEventLike>, Fits<IpcMain, IpcMainLike>] = [
  true,
  true,
  true,
];
void electronEventsFit;
