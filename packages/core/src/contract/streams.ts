import { z } from 'zod';
import { stream } from './define.js';
import { Heartbeat } from './schemas/app.js';
import { LedgerEvent, RunId } from './schemas/ledger.js';

/** Every stream Keel exposes, as data. */
export const streams = {
  'app.health': stream({
    description: 'A periodic heartbeat carrying engine status; its absence means the host is gone.',
    params: z.object({ intervalMs: z.number().int().min(100).max(60_000).optional() }).strict(),
    event: Heartbeat,
  }),
  'ledger.events': stream({
    description: "A run's committed ledger events from a seq (history first), then live.",
    params: z.object({ runId: RunId, fromSeq: z.number().int().positive().optional() }).strict(),
    event: LedgerEvent,
  }),
  'run.events': stream({
    description: "A run's events from a seq (history first), then live; resume after a reconnect with the last seq + 1.",
    params: z.object({ runId: RunId, fromSeq: z.number().int().positive().optional() }).strict(),
    event: LedgerEvent,
  }),
} as const;

export type Streams = typeof streams;
export type StreamName = keyof Streams;
export type StreamParams<S extends StreamName> = z.input<Streams[S]['params']>;
export type StreamEvent<S extends StreamName> = z.output<Streams[S]['event']>;
