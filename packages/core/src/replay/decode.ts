import { EventBody, type LedgerEvent } from '../contract/index.js';

/** Every type this build understands; anything else is a future event, counted and skipped. */
const KNOWN_TYPES: ReadonlySet<string> = new Set(EventBody.options.map((option) => option.shape.type.value));

export type Decoded =
  | { readonly status: 'ok'; readonly body: EventBody }
  | { readonly status: 'unknownType' }
  | { readonly status: 'invalidPayload' };

const UNKNOWN: Decoded = { status: 'unknownType' };
const INVALID: Decoded = { status: 'invalidPayload' };

/**
 * Checks a payload against the same zod schema the ledger enforces at append. The fold
 * re-checks because it also reads logs from other builds and from diagnostics bundles,
 * and it must never throw on them.
 */
export function decodeBody(event: LedgerEvent): Decoded {
  if (!KNOWN_TYPES.has(event.type)) return UNKNOWN;
  const parsed = EventBody.safeParse({ type: event.type, payload: event.payload });
  return parsed.success ? { status: 'ok', body: parsed.data } : INVALID;
}

/** The envelope fields the fold relies on, checked without trusting the static type. */
export function hasValidEnvelope(event: LedgerEvent): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const { seq, ts, type, run_id: runId, generation } = event;
  return (
    typeof seq === 'number' &&
    Number.isSafeInteger(seq) &&
    seq > 0 &&
    typeof ts === 'string' &&
    typeof type === 'string' &&
    typeof runId === 'string' &&
    (generation === undefined || (typeof generation === 'number' && Number.isSafeInteger(generation) && generation >= 0))
  );
}

/** The numeric seq of an event, or 0 when it has none; the index orders by it. */
export function seqOf(event: LedgerEvent): number {
  const seq: unknown = typeof event === 'object' && event !== null ? event.seq : undefined;
  return typeof seq === 'number' && Number.isFinite(seq) ? seq : 0;
}
