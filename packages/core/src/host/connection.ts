import { issuesOf } from '../contract/errors.js';
import { ClientMessage, type ServerMessage } from '../contract/wire.js';
import type { CallContext, Router } from './router.js';

/** At most this many live subscriptions per connection; a runaway client cannot exhaust the host. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 256;

export interface Connection {
  /** Feed one raw text frame from the peer. Never throws: bad frames are answered with typed errors. */
  receive(raw: string): void;
  /** The peer is gone: end every subscription. */
  close(): void;
}

/**
 * The server side of the wire protocol, independent of the socket that carries it.
 * A malformed frame gets a typed error and the connection stays usable.
 */
export function serveConnection(router: Router, ctx: CallContext, send: (message: ServerMessage) => void): Connection {
  const subscriptions = new Map<number, () => void>();
  let closed = false;
  const emit = (message: ServerMessage) => {
    if (!closed) send(message);
  };

  return {
    receive(raw) {
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
          void router.call(message.method, message.input, ctx).then((outcome) => emit({ t: 'result', id: message.id, ...outcome }));
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
          const stop = router.subscribe(message.stream, message.params, ctx, (streamMessage) => {
            if (streamMessage.t === 'end') {
              ended = true;
              subscriptions.delete(message.id);
            }
            emit({ ...streamMessage, id: message.id });
          });
          if (!ended) subscriptions.set(message.id, stop);
          return;
        }
        case 'unsub':
          subscriptions.get(message.id)?.();
          subscriptions.delete(message.id);
          return;
      }
    },
    close() {
      closed = true;
      for (const stop of subscriptions.values()) stop();
      subscriptions.clear();
    },
  };
}
