import type { Transport } from '../transport.js';
import { ServerMessage, type CallOutcome, type ClientMessage, type StreamMessage } from '../wire.js';

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
  onStatus?(status: ConnectionStatus): void;
  /** Consecutive failed attempts after which the status becomes "lost" (retrying continues, slower). */
  lostAfterAttempts?: number;
  /** Delay before reconnect attempt n (1-based). Defaults to full-jitter exponential backoff. */
  backoffMs?(attempt: number): number;
}

export interface SocketTransport extends Transport {
  readonly status: ConnectionStatus;
  /** Skip the backoff and try now (the "Retry" button). */
  reconnectNow(): void;
  close(): void;
}

const OPEN = 1;
const resolveParams = (params: unknown) => (typeof params === 'function' ? (params as () => unknown)() : params);
const defaultBackoff = (attempt: number) => Math.random() * Math.min(10_000, 250 * 2 ** attempt);

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

  const setStatus = (next: ConnectionStatus) => {
    if (status === next) return;
    status = next;
    options.onStatus?.(next);
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
    current.onopen = () => {
      failures = 0;
      setStatus('connected');
      for (const [id, sub] of subscriptions) sendNow({ t: 'sub', id, stream: sub.stream, params: resolveParams(sub.params) });
      for (const pending of pendingCalls.values()) {
        if (!pending.sent) pending.sent = sendNow(pending.message);
      }
    };
    current.onmessage = (event) => onServerMessage(event.data);
    current.onerror = () => {};
    current.onclose = () => {
      if (socket !== current) return;
      socket = null;
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
