import { createHash } from 'node:crypto';
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { canonicalJson } from '../contract/canonical-json.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The `prev` of a run's first record: a hash of the run id, so chains of different runs never meet. */
export const genesisHash = (runId: string) => sha256(`keel-ledger-genesis:${runId}`);

export type UnhashedEvent = Omit<LedgerEvent, 'hash'>;

/** sha256 of the canonical JSON of the record without its `hash`. */
export const hashOf = (record: UnhashedEvent) => sha256(canonicalJson(record));

/**
 * The canonical encoding of the sealed record, derived from the unhashed one without a second
 * serialization: keys are sorted, and `hash` sorts right after the optional `generation`.
 */
function withHash(unhashedJson: string, record: UnhashedEvent, hash: string): string {
  const prefix = record.generation === undefined ? '{' : `{"generation":${canonicalJson(record.generation)},`;
  return `${prefix}"hash":"${hash}",${unhashedJson.slice(prefix.length)}`;
}

/** Hashes a record and gives its exact canonical line (one serialization, one sha256). */
export function hashAndLine(record: UnhashedEvent): { hash: string; line: string } {
  const unhashedJson = canonicalJson(record);
  const hash = sha256(unhashedJson);
  return { hash, line: withHash(unhashedJson, record, hash) };
}

/** Seals a record: computes its hash and its exact NDJSON line (without the newline). */
export function seal(record: UnhashedEvent): { event: LedgerEvent; line: string } {
  const { hash, line } = hashAndLine(record);
  return { event: { ...record, hash } as LedgerEvent, line };
}
