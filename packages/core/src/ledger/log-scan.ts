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

/** Where a scan resumes: past a prefix already validated (a verified marker's length and head). */
export interface ScanStart {
  /** Byte offset just past the last validated record. */
  offset: number;
  /** The last validated record's seq and hash. */
  seq: number;
  hash: string;
}

/**
 * Validates a run log from the start (or from `from`, trusting the prefix before it) and
 * reports its valid prefix and the first damage. `onRecord` sees every valid record it reads,
 * in order (for backfill and verification); its `line` is valid only during the call (the
 * scan reads into one buffer). Offsets are absolute either way.
 */
export function scanLog(
  file: string,
  runId: string,
  onRecord?: (event: LedgerEvent, line: Buffer) => void,
  options: { untilSeq?: number; from?: ScanStart } = {},
): LogScan {
  const steps = scanLogSteps(file, runId, onRecord, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Lines between the yields of `scanLogSteps`. */
const LINES_PER_STEP = 256;

/**
 * `scanLog` as steps: yields every LINES_PER_STEP lines, so a caller can spread a long scan
 * over many event-loop turns (call `return()` to stop early: the file is closed).
 */
export function* scanLogSteps(
  file: string,
  runId: string,
  onRecord?: (event: LedgerEvent, line: Buffer) => void,
  options: { untilSeq?: number; from?: ScanStart } = {},
): Generator<void, LogScan> {
  const untilSeq = options.untilSeq ?? Number.POSITIVE_INFINITY;
  const from = options.from;
  let seq = from ? from.seq + 1 : 1;
  let prev = from ? from.hash : genesisHash(runId);
  let validBytes = from ? from.offset : 0;
  let totalBytes = validBytes;
  let damage: Damage | null = null;
  let lines = 0;
  for (const line of readLines(file, validBytes, { reuse: true })) {
    if (++lines % LINES_PER_STEP === 0) yield;
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
