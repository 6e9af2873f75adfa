import crypto from 'node:crypto';
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { canonicalJson } from '../contract/canonical-json.js';

/** One-shot `crypto.hash` where Node has it (20.12+): no Hash object per record. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const sha256 = oneShot
  ? (text: string) => oneShot('sha256', text, 'hex')
  : (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** The `prev` of a run's first record: a hash of the run id, so chains of different runs never meet. */
export const genesisHash = (runId: string) => sha256(`keel-ledger-genesis:${runId}`);

export type UnhashedEvent = Omit<LedgerEvent, 'hash'>;

/** sha256 of the canonical JSON of the record without its `hash`. */
export const hashOf = (record: UnhashedEvent) => sha256(canonicalRecordJson(record));

/**
 * True when JSON.stringify gives the canonical encoding of `value` as it is: every object a
 * plain one whose own keys are already in code-unit order (JSON.stringify keeps insertion
 * order, except that integer-like keys go first — the order check catches that too), every
 * number finite, and nothing JSON.stringify would treat otherwise (functions, symbols, bigints,
 * objects with toJSON such as Date).
 */
function stringifiesCanonically(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        // A hole stringifies as null but canonicalJson keeps it: leave sparse arrays to the slow path.
        for (let i = 0; i < value.length; i++) if (!(i in value) || !stringifiesCanonically(value[i])) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      const record = value as Record<string, unknown>;
      let previous: string | null = null;
      for (const key in record) {
        if (!Object.hasOwn(record, key)) return false;
        if (previous !== null && !(previous < key)) return false;
        if (!stringifiesCanonically(record[key])) return false;
        previous = key;
      }
      return true;
    }
    default:
      return false;
  }
}

const NOT_PLAIN = Symbol('not plain data');
/** Array-index keys: JSON.stringify puts them first in numeric order, canonicalJson sorts them as text. */
const INDEX_KEY = /^(?:0|[1-9][0-9]*)$/;

/**
 * A copy of `value` with every object's keys inserted in code-unit order, so JSON.stringify of
 * it is canonicalJson of `value`; NOT_PLAIN for anything where the two could differ (not a
 * plain object or array, toJSON, index-like keys, holes, non-finite numbers, functions, symbols,
 * bigints): the caller then encodes key by key.
 */
function sortedCopy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : NOT_PLAIN;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) return NOT_PLAIN;
          const item = sortedCopy(value[i]);
          if (item === NOT_PLAIN) return NOT_PLAIN;
          out[i] = item;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      // Null prototype: a "__proto__" key stays an own member, as canonicalJson sees it.
      const out = Object.create(null) as Record<string, unknown>;
      for (const key of keys) {
        if (INDEX_KEY.test(key)) return NOT_PLAIN;
        const member = sortedCopy(record[key]);
        if (member === NOT_PLAIN) return NOT_PLAIN;
        out[key] = member;
      }
      return out;
    }
    default:
      return NOT_PLAIN;
  }
}

/**
 * canonicalJson, faster: a subtree that already stringifies canonically goes through the native
 * JSON.stringify; the rest is encoded key by key as canonicalJson does (the same bytes either
 * way; ledger tests compare the two on generated values).
 */
export function canonicalRecordJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return canonicalJson(value);
  if (stringifiesCanonically(value)) return JSON.stringify(value);
  // Keys out of order (a parsed payload has its schema's key order): a key-sorted copy, when
  // every node is plain data, stringifies natively in one pass.
  const sorted = sortedCopy(value);
  if (sorted !== NOT_PLAIN) return JSON.stringify(sorted);
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalRecordJson(item))).join(',')}]`;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson(value);
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalRecordJson(member)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The canonical encoding of the sealed record, derived from the unhashed one without a second
 * serialization: keys are sorted, and `hash` sorts right after the optional `generation`.
 */
function withHash(unhashedJson: string, record: UnhashedEvent, hash: string): string {
  const prefix = record.generation === undefined ? '{' : `{"generation":${canonicalRecordJson(record.generation)},`;
  return `${prefix}"hash":"${hash}",${unhashedJson.slice(prefix.length)}`;
}

/** Hashes a record and gives its exact canonical line (one serialization, one sha256). */
export function hashAndLine(record: UnhashedEvent): { hash: string; line: string } {
  const unhashedJson = canonicalRecordJson(record);
  const hash = sha256(unhashedJson);
  return { hash, line: withHash(unhashedJson, record, hash) };
}

/** Seals a record: computes its hash and its exact NDJSON line (without the newline). */
export function seal(record: UnhashedEvent): { event: LedgerEvent; line: string } {
  const { hash, line } = hashAndLine(record);
  return { event: { ...record, hash } as LedgerEvent, line };
}
