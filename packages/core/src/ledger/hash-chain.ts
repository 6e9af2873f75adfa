import { createHash } from 'node:crypto';
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { canonicalJson } from './canonical-json.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The `prev` of a run's first record: a hash of the run id, so chains of different runs never meet. */
export const genesisHash = (runId: string) => sha256(`keel-ledger-genesis:${runId}`);

export type UnhashedEvent = Omit<LedgerEvent, 'hash'>;

/** sha256 of the canonical JSON of the record without its `hash`. */
export const hashOf = (record: UnhashedEvent) => sha256(canonicalJson(record));

/** Seals a record: computes its hash and its exact NDJSON line (without the newline). */
export function seal(record: UnhashedEvent): { event: LedgerEvent; line: string } {
  const event = { ...record, hash: hashOf(record) } as LedgerEvent;
  return { event, line: canonicalJson(event) };
}
