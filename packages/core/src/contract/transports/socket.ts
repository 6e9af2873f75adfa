import type { Transport } from '../transport.js';
import { CloseCode, ServerMessage, type CallOutcome, type ClientMessage, type StreamMessage } from '../wire.js';

/** The part of a WebSocket this transport needs; the browser's WebSocket and `ws` both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'lost';

export interface SocketTransportOptions {
  connect(): SocketLike;
  /** `why` is set when the host closed the socket on purpose (see `hostCloseMessage`); shown next to the status. */
  onStatus?(status: ConnectionStatus, why?: string): void;
  /** Consecutive failed attempts after which the status becomes "lost" (retrying continues, slower). */
  lostAfterAttempts?: number;
  /** Delay before reconnect attempt n (1-based). Defaults to full-jitter exponential backoff. */
  backoffMs?(attempt: number): number;
}

export interface SocketTransport extends Transport {
  readonly status: ConnectionStatus;
  /** Why the host last closed the socket on purpose, in words for the UI; null once connected again or if it never did. */
  readonly hostClosed: string | null;
  /** Skip the backoff and try now (the "Retry" button). */
  reconnectNow(): void;
  close(): void;
}

const OPEN = 1;
const resolveParams = (params: unknown) => (typeof params === 'function' ? (params as () => unknown)() : params);
const defaultBackoff = (attempt: number) => Math.random() * Math.min(10_000, 250 * 2 ** attempt);

/**
 * What an application close code from the host means, for the UI; null for any other close.
 * Either way the transport reconnects with backoff and re-opens its subscriptions where they
 * left off, so nothing is lost.
 */
export function hostCloseMessage(code: unknown): string | null {
  if (code === CloseCode.tooSlow) return 'Keel dropped this tab\'s connection: the tab was not keeping up with what Keel sent. Reconnecting.';
  if (code === CloseCode.tooManyConnections) return 'Keel is serving as many connections as it allows: close another Keel tab. Retrying.';
  return null;
}
const closeCodeOf = (event: unknown) =>
  typeof event === 'object' && event !== null && 'code' in event ? (event as { code: unknown }).code : undefined;

interface Subscription {
  stream: string;
  params: unknown | (() => unknown);
  onMessage(message: StreamMessage): void;
}

/**
 * A reconnecting WebSocket transport. Calls made while disconnected wait for the connection;
 * calls in flight when it drops settle as `unavailable` (the host may or may not have run them);
 * live subscriptions are re-opened on every reconnect.
 */
export function createSocketTransport(options: SocketTransportOptions): SocketTransport {
  const lostAfter = options.lostAfterAttempts ?? 5;
  const backoff = options.backoffMs ?? defaultBackoff;
  const pendingCalls = new Map<number, { message: ClientMessage; resolve(outcome: CallOutcome): void; sent: boolean }>();
  const subscriptions = new Map<number, Subscription>();
  let nextId = 1;
  let socket: SocketLike | null = null;
  let status: ConnectionStatus = 'connecting';
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closedByUser = false;
  let hostClosed: string | null = null;

  const setStatus = (next: ConnectionStatus) => {
    if (status === next) return;
    status = next;
    if (hostClosed === null) options.onStatus?.(next);
    else options.onStatus?.(next, hostClosed);
  };
  const sendNow = (message: ClientMessage) => {
    if (socket && socket.readyState === OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  };

  const onServerMessage = (data: unknown) => {
    if (typeof data !== 'string') return;
    let parsed: ServerMessage;
    try {
      parsed = ServerMessage.parse(JSON.parse(data));
    } catch {
      return; // A host speaking something else: ignore the frame rather than crash the page.
    }
    switch (parsed.t) {
      case 'result': {
        const pending = pendingCalls.get(parsed.id);
        if (!pending) return;
        pendingCalls.delete(parsed.id);
        pending.resolve(parsed.ok ? { ok: true, value: parsed.value } : { ok: false, error: parsed.error });
        return;
      }
      case 'event':
        subscriptions.get(parsed.id)?.onMessage({ t: 'event', event: parsed.event });
        return;
      case 'end': {
        const sub = subscriptions.get(parsed.id);
        subscriptions.delete(parsed.id);
        sub?.onMessage(parsed.error ? { t: 'end', error: parsed.error } : { t: 'end' });
        return;
      }
      case 'error':
        return;
    }
  };

  const scheduleReconnect = () => {
    if (closedByUser || timer) return;
    failures += 1;
    setStatus(failures >= lostAfter ? 'lost' : 'reconnecting');
    timer = setTimeout(() => {
      timer = null;
      open();
    }, backoff(failures));
  };

  const open = () => {
    if (closedByUser) return;
    let current: SocketLike;
    try {
      current = options.connect();
    } catch {
      scheduleReconnect();
      return;
    }
    socket = current;
    let failuresBefore = failures;
    current.onopen = () => {
      failuresBefore = failures;
      failures = 0;
      hostClosed = null;
      setStatus('connected');
      for (const [id, sub] of subscriptions) sendNow({ t: 'sub', id, stream: sub.stream, params: resolveParams(sub.params) });
      for (const pending of pendingCalls.values()) {
        if (!pending.sent) pending.sent = sendNow(pending.message);
      }
    };
    current.onmessage = (event) => onServerMessage(event.data);
    current.onerror = () => {};
    current.onclose = (event) => {
      if (socket !== current) return;
      socket = null;
      const code = closeCodeOf(event);
      hostClosed = hostCloseMessage(code);
      // Refused for lack of room: not a working connection, so the backoff keeps growing.
      if (code === CloseCode.tooManyConnections) failures = failuresBefore;
      for (const [id, pending] of pendingCalls) {
        if (!pending.sent) continue;
        pendingCalls.delete(id);
        pending.resolve({ ok: false, error: { code: 'unavailable', message: 'The connection to Keel was lost before the call completed.' } });
      }
      scheduleReconnect();
    };
  };

  open();

  return {
    get status() {
      return status;
    },
    get hostClosed() {
      return hostClosed;
    },
    call(method, input) {
      const id = nextId++;
      const message: ClientMessage = { t: 'call', id, method, input };
      return new Promise<CallOutcome>((resolve) => {
        pendingCalls.set(id, { message, resolve, sent: sendNow(message) });
      });
    },
    subscribe(stream, params, onMessage) {
      const id = nextId++;
      subscriptions.set(id, { stream, params, onMessage });
      sendNow({ t: 'sub', id, stream, params: resolveParams(params) });
      return () => {
        if (subscriptions.delete(id)) sendNow({ t: 'unsub', id });
      };
    },
    reconnectNow() {
      if (socket || closedByUser) return;
      if (timer) clearTimeout(timer);
      timer = null;
      open();
    },
    close() {
      closedByUser = true;
      if (timer) clearTimeout(timer);
      socket?.close(1000, 'closed by client');
      socket = null;
    },
  };
}
