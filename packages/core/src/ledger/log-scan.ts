import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { genesisHash } from './hash-chain.js';
import { readLines } from './line-reader.js';
import { checkRecord } from './record-check.js';

export interface Damage {
  /** Byte offset where the first invalid line starts. */
  offset: number;
  /** The seq that line should have carried. */
  seq: number;
  reason: string;
  /** Whether any complete (newline-terminated) line follows the damaged one. */
  followedByCompleteLine: boolean;
}

export interface LogScan {
  count: number;
  lastSeq: number;
  lastHash: string;
  /** Bytes covered by the valid prefix. */
  validBytes: number;
  totalBytes: number;
  damage: Damage | null;
}

/**
 * Validates a run log from the start and reports its valid prefix and the first damage.
 * `onRecord` sees every valid record in order (for backfill and verification).
 */
export function scanLog(
  file: string,
  runId: string,
  onRecord?: (event: LedgerEvent, line: Buffer) => void,
  options: { untilSeq?: number } = {},
): LogScan {
  const untilSeq = options.untilSeq ?? Number.POSITIVE_INFINITY;
  let seq = 1;
  let prev = genesisHash(runId);
  let validBytes = 0;
  let totalBytes = 0;
  let damage: Damage | null = null;
  for (const line of readLines(file)) {
    if (seq > untilSeq) break;
    totalBytes = line.end;
    if (damage) {
      if (line.terminated) damage.followedByCompleteLine = true;
      continue;
    }
    const check = line.terminated ? checkRecord(line.bytes, { runId, seq, prev }) : ({ ok: false, reason: 'unterminated last line' } as const);
    if (!check.ok) {
      damage = { offset: line.start, seq, reason: check.reason, followedByCompleteLine: false };
      continue;
    }
    onRecord?.(check.event, line.bytes);
    seq += 1;
    prev = check.event.hash;
    validBytes = line.end;
  }
  return { count: seq - 1, lastSeq: seq - 1, lastHash: prev, validBytes, totalBytes, damage };
}
