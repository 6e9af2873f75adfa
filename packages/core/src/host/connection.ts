import { issuesOf } from '../contract/errors.js';
import { ClientMessage, CloseCode, closeReasons, type ServerMessage } from '../contract/wire.js';
import type { CallContext, Flow, Router } from './router.js';
import { appLog } from '../logging/index.js';

/** At most this many live subscriptions per connection; a runaway client cannot exhaust the host. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 256;
/**
 * At most this many calls awaiting their answer per connection: a client that fires calls
 * without waiting (a loop, a stuck retry) gets a plain refusal instead of growing the host's
 * memory and work without bound. The app never has more than a handful in flight.
 */
export const MAX_CALLS_IN_FLIGHT_PER_CONNECTION = 64;

/**
 * How much unsent output one connection may hold: bytes handed to its socket and not yet
 * written out to the OS (the connection counts them itself, message by message). Every client
 * gets bounded memory whatever it does; the numbers are per connection.
 */
export interface FlowLimits {
  /** Above this, producers that can wait (history paging) pause. */
  pauseAtBytes: number;
  /** At or below this, paused producers resume (the gap keeps them from waking per message). */
  resumeAtBytes: number;
  /** A message arriving while more than this is unsent closes the connection (CloseCode.tooSlow). */
  closeAtBytes: number;
  /** Paused with nothing written out for this long closes the connection (CloseCode.tooSlow). */
  stallMs: number;
}

export const DEFAULT_FLOW_LIMITS: Readonly<FlowLimits> = {
  // 1 MiB is a few thousand events: enough to keep a reading client's pipe full (loopback
  // drains it in milliseconds, the kernel buffers a few MiB more), small enough that a
  // client that stops reading costs the host next to nothing while its history waits.
  pauseAtBytes: 1024 * 1024,
  // Resume once three quarters have gone, so paging restarts in ~768 KiB steps, not per event.
  resumeAtBytes: 256 * 1024,
  // Only output that cannot wait piles up past the pause mark: call results, the live run
  // list, heartbeats, live events of a run being written. 16 MiB is far above any honest
  // backlog of those (a run.view of a long run is a few MiB, and a single message is always
  // let through onto an empty buffer) and bounds a connection that never reads at 16 MiB plus
  // one message — with MAX_CONNECTIONS in the headless server, a few hundred MiB at worst.
  closeAtBytes: 16 * 1024 * 1024,
  // A reading client, even a slow one, writes something out within seconds; 30 s of nothing
  // while behind is a client that stopped reading (a frozen tab, a stuck script). It is closed
  // and, if alive, reconnects and resumes where it left off.
  stallMs: 30_000,
};

/** The socket under a connection, as the connection needs it. */
export interface ConnectionPeer {
  /** Sends one text frame; calls `written` once (even on failure) when it has left this process's buffers. */
  send(text: string, written: () => void): void;
  /** Ends the connection with an application close code and its plain reason. */
  close(code: CloseCode, reason: string): void;
}

export interface Connection {
  /** Feed one raw text frame from the peer (null: a binary frame). Never throws: bad frames are answered with typed errors. */
  receive(raw: string | null): void;
  /** The peer is gone: end every subscription. */
  close(): void;
  /** Bytes handed to the peer and not yet written out (0 for an in-process peer). */
  readonly outstandingBytes: number;
  /** The most `outstandingBytes` has been since the connection opened. */
  readonly peakOutstandingBytes: number;
  /** True while history paging waits for the peer to catch up. */
  readonly paused: boolean;
  /** How many times it has paused since the connection opened. */
  readonly pauses: number;
}

/**
 * The server side of the wire protocol, independent of the socket that carries it.
 * A malformed frame gets a typed error and the connection stays usable.
 *
 * `peer` is either a socket (flow control: history pauses while the peer is behind, and a peer
 * that stops reading is closed with CloseCode.tooSlow — never unbounded buffering) or, for
 * in-process use, a function that takes each message as it comes.
 */
export function serveConnection(
  router: Router,
  ctx: CallContext,
  peer: ConnectionPeer | ((message: ServerMessage) => void),
  limits: Partial<FlowLimits> = {},
): Connection {
  const { pauseAtBytes, resumeAtBytes, closeAtBytes, stallMs } = { ...DEFAULT_FLOW_LIMITS, ...limits };
  const subscriptions = new Map<number, () => void>();
  let callsInFlight = 0;
  let closed = false;
  let outstanding = 0;
  let peak = 0;
  let paused = false;
  let pauses = 0;
  let stallTimer: ReturnType<typeof setTimeout> | null = null;
  /** Producers waiting to resume, in arrival order: a resumed producer that fills the buffer again queues behind the others. */
  const waiters = new Set<() => void>();
  let flushing: ReturnType<typeof setImmediate> | null = null;

  const flush = () => {
    flushing = null;
    while (!paused && !closed && waiters.size > 0) {
      const first = waiters.values().next().value!;
      waiters.delete(first);
      try {
        first();
      } catch (error) {
        // One broken producer must not starve the others or throw out of a timer (the host).
        appLog().error({ err: error }, 'a paused stream failed to resume');
      }
    }
  };
  const scheduleFlush = () => {
    flushing ??= setImmediate(flush);
  };

  const shutdown = () => {
    closed = true;
    if (stallTimer) clearTimeout(stallTimer);
    if (flushing) clearImmediate(flushing);
    stallTimer = null;
    flushing = null;
    waiters.clear();
    for (const stop of subscriptions.values()) stop();
    subscriptions.clear();
  };
  const drop = (code: CloseCode) => {
    if (closed || typeof peer === 'function') return;
    shutdown();
    peer.close(code, closeReasons[code]);
  };

  const onWritten = (bytes: number) => {
    outstanding -= bytes;
    if (!paused || closed) return;
    if (outstanding <= resumeAtBytes) {
      paused = false;
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = null;
      scheduleFlush();
    } else {
      stallTimer?.refresh(); // progress: the peer is reading, however slowly
    }
  };

  const emit = (message: ServerMessage) => {
    if (closed) return;
    if (typeof peer === 'function') {
      peer(message);
      return;
    }
    if (outstanding > closeAtBytes) {
      drop(CloseCode.tooSlow);
      return;
    }
    const text = JSON.stringify(message);
    const bytes = Buffer.byteLength(text);
    outstanding += bytes;
    if (outstanding > peak) peak = outstanding;
    let settled = false;
    peer.send(text, () => {
      if (settled) return;
      settled = true;
      onWritten(bytes);
    });
    if (!paused && !closed && outstanding > pauseAtBytes) {
      paused = true;
      pauses += 1;
      stallTimer = setTimeout(() => drop(CloseCode.tooSlow), stallMs);
      stallTimer.unref?.();
    }
  };

  const flow: Flow = {
    get paused() {
      return paused || closed;
    },
    whenReady(resume) {
      const waiter = () => resume();
      if (closed) return () => {};
      waiters.add(waiter);
      if (!paused) scheduleFlush();
      return () => {
        waiters.delete(waiter);
      };
    },
  };

  return {
    receive(raw) {
      if (closed) return;
      if (raw === null) {
        emit({ t: 'error', error: { code: 'invalid_input', message: 'Binary frames are not accepted.' } });
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        emit({ t: 'error', error: { code: 'invalid_input', message: 'The message is not valid JSON.' } });
        return;
      }
      const parsed = ClientMessage.safeParse(json);
      if (!parsed.success) {
        emit({
          t: 'error',
          error: { code: 'invalid_input', message: 'The message does not match the wire protocol.', issues: issuesOf(parsed.error) },
        });
        return;
      }
      const message = parsed.data;
      switch (message.t) {
        case 'call':
          if (callsInFlight >= MAX_CALLS_IN_FLIGHT_PER_CONNECTION) {
            const why = `Too many calls in flight on this connection (${MAX_CALLS_IN_FLIGHT_PER_CONNECTION}): wait for their answers before sending more.`;
            emit({ t: 'result', id: message.id, ok: false, error: { code: 'unavailable', message: why } });
            return;
          }
          callsInFlight += 1;
          void router
            .call(message.method, message.input, ctx)
            .then((outcome) => emit({ t: 'result', id: message.id, ...outcome }))
            .finally(() => {
              callsInFlight -= 1;
            });
          return;
        case 'sub': {
          if (subscriptions.has(message.id)) {
            emit({ t: 'end', id: message.id, error: { code: 'conflict', message: `Subscription ${message.id} is already open.` } });
            return;
          }
          if (subscriptions.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
            emit({ t: 'end', id: message.id, error: { code: 'unavailable', message: 'Too many open subscriptions on this connection.' } });
            return;
          }
          let ended = false;
          const stop = router.subscribe(
            message.stream,
            message.params,
            ctx,
            (streamMessage) => {
              if (streamMessage.t === 'end') {
                ended = true;
                subscriptions.delete(message.id);
              }
              emit({ ...streamMessage, id: message.id });
            },
            flow,
          );
          if (closed) stop();
          else if (!ended) subscriptions.set(message.id, stop);
          return;
        }
        case 'unsub':
          subscriptions.get(message.id)?.();
          subscriptions.delete(message.id);
          return;
      }
    },
    close: shutdown,
    get outstandingBytes() {
      return outstanding;
    },
    get peakOutstandingBytes() {
      return peak;
    },
    get paused() {
      return paused;
    },
    get pauses() {
      return pauses;
    },
  };
}
