import { z } from 'zod';
import { RpcErrorShape } from './errors.js';

/** Messages a client sends over a socket. Anything else is answered with a typed error. */
export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('call'), id: z.number().int().nonnegative(), method: z.string().max(200), input: z.unknown() }),
  z.object({ t: z.literal('sub'), id: z.number().int().nonnegative(), stream: z.string().max(200), params: z.unknown() }),
  z.object({ t: z.literal('unsub'), id: z.number().int().nonnegative() }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// A plain union: two variants share t='result' and differ by `ok`.
export const ServerMessage = z.union([
  z.object({ t: z.literal('result'), id: z.number().int().nonnegative(), ok: z.literal(true), value: z.unknown() }),
  z.object({ t: z.literal('result'), id: z.number().int().nonnegative(), ok: z.literal(false), error: RpcErrorShape }),
  z.object({ t: z.literal('event'), id: z.number().int().nonnegative(), event: z.unknown() }),
  z.object({ t: z.literal('end'), id: z.number().int().nonnegative(), error: RpcErrorShape.optional() }),
  /** A message that could not be tied to any request (unparseable input). */
  z.object({ t: z.literal('error'), error: RpcErrorShape }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** What a procedure call settles to once it crosses a process boundary. */
export type CallOutcome = { ok: true; value: unknown } | { ok: false; error: RpcErrorShape };

/** What a stream delivers to its subscriber: events, then at most one end. */
export type StreamMessage = { t: 'event'; event: unknown } | { t: 'end'; error?: RpcErrorShape };

/**
 * Application close codes the host may end a socket with (4000–4999 are the application's;
 * RFC 6455 §7.4.2). The client reconnects after either, with backoff, and re-opens its
 * subscriptions where they left off (`run.events` from its last seq + 1), so nothing is lost.
 */
export const CloseCode = {
  /** The client did not read what the host sent: its outbound buffer passed the hard bound, or stayed full with nothing read for too long. */
  tooSlow: 4008,
  /** The host already serves as many connections as it allows; close another Keel tab or retry. */
  tooManyConnections: 4009,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The plain reason sent with each close code (a close reason is at most 123 bytes). */
export const closeReasons: Readonly<Record<CloseCode, string>> = {
  [CloseCode.tooSlow]: 'too slow: the client did not read what Keel sent',
  [CloseCode.tooManyConnections]: 'too many connections: close another Keel tab and retry',
};
