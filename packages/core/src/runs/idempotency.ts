import { createHash } from 'node:crypto';
import { canonicalJson } from '../ledger/index.js';

/** `ik:` + sha256 of canonical JSON: the same logical request always gets the same key. */
export function idempotencyKey(value: unknown): string {
  return `ik:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}
