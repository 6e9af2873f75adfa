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
