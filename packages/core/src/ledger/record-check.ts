import { EventBody, LedgerEvent } from '../contract/schemas/ledger.js';
import { hashAndLine } from './hash-chain.js';

export interface ChainPosition {
  runId: string;
  /** The seq the next record must carry. */
  seq: number;
  /** The hash the next record's `prev` must equal. */
  prev: string;
}

export type RecordCheck = { ok: true; event: LedgerEvent } | { ok: false; reason: string };

const knownTypes: ReadonlySet<string> = new Set(EventBody.options.map((option) => option.shape.type.value));

/**
 * Checks one stored line against the chain: JSON, envelope schema, payload schema, run id,
 * seq, prev link, hash, and that the bytes are exactly the canonical encoding.
 */
export function checkRecord(line: Buffer, at: ChainPosition): RecordCheck {
  let json: unknown;
  try {
    json = JSON.parse(line.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  const envelope = LedgerEvent.safeParse(json);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return { ok: false, reason: `envelope: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.trim() };
  }
  const event = envelope.data as LedgerEvent;
  if (!knownTypes.has(event.type)) return { ok: false, reason: `unknown event type "${event.type}"` };
  const body = EventBody.safeParse({ type: event.type, payload: event.payload });
  if (!body.success) return { ok: false, reason: `payload of ${event.type} does not match its schema` };
  if (event.run_id !== at.runId) return { ok: false, reason: `run_id ${event.run_id} in the log of ${at.runId}` };
  if (event.seq !== at.seq) return { ok: false, reason: `seq ${event.seq} where ${at.seq} was expected` };
  if (event.prev !== at.prev) return { ok: false, reason: `prev does not link to seq ${at.seq - 1}` };
  const { hash, ...unhashed } = event;
  const expected = hashAndLine(unhashed);
  if (expected.hash !== hash) return { ok: false, reason: 'hash does not match the content' };
  if (!line.equals(Buffer.from(expected.line))) return { ok: false, reason: 'bytes are not the canonical encoding' };
  return { ok: true, event };
}
