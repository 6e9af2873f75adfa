import fs from 'node:fs';
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { hashAndLine } from './hash-chain.js';
import type { ScanStart } from './log-scan.js';

/**
 * How far a run's NDJSON log is known to be valid: the first `logBytes` bytes hold records
 * 1..`throughSeq`, chained and canonical, the last of them hashing to `headHash`. Recorded when
 * recovery has validated them or when this ledger wrote them itself (in the transaction that
 * commits them to SQLite), so open re-validates only what lies past it. `headHash` is null for
 * markers from builds before it was kept (and for imports): such a marker is not trusted.
 */
export interface VerifiedMarker {
  throughSeq: number;
  logBytes: number;
  headHash: string | null;
}

/** A record is usually well under this; a longer one is read in growing steps. */
const FIRST_READ = 4 * 1024;

/**
 * The last complete line ending exactly at `end` (its trailing newline excluded), read
 * backwards in growing chunks; null when the byte before `end` is not a newline.
 */
function lineEndingAt(fd: number, end: number): Buffer | null {
  if (end < 2) return null;
  let size = Math.min(end, FIRST_READ);
  for (;;) {
    const buffer = Buffer.allocUnsafe(size);
    const read = fs.readSync(fd, buffer, 0, size, end - size);
    if (read !== size) return null;
    if (buffer[size - 1] !== 10) return null;
    const start = buffer.lastIndexOf(10, size - 2);
    if (start !== -1) return buffer.subarray(start + 1, size - 1);
    if (size === end) return buffer.subarray(0, size - 1);
    size = Math.min(end, size * 16);
  }
}

/**
 * Where open may resume validating a log: past the marker, if the log still holds the marker's
 * head record, byte for byte, where the marker says (the record at `logBytes` is seq
 * `throughSeq`, canonical, and hashes to `headHash`). Null means the marker cannot be trusted
 * for this file (a log shorter than its marker, changed bytes at the marker, an old marker):
 * the caller validates the whole log, as for a run without a marker.
 */
export function resumePoint(file: string, runId: string, marker: VerifiedMarker | undefined, fileSize: number): ScanStart | null {
  if (!marker || marker.headHash === null || marker.throughSeq < 1 || marker.logBytes < 1) return null;
  if (fileSize < marker.logBytes) return null;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const line = lineEndingAt(fd, marker.logBytes);
    if (!line) return null;
    const text = line.toString('utf8');
    const event = JSON.parse(text) as LedgerEvent;
    if (event === null || typeof event !== 'object' || event.run_id !== runId || event.seq !== marker.throughSeq || event.hash !== marker.headHash) {
      return null;
    }
    const { hash, ...unhashed } = event;
    if (hashAndLine(unhashed).line !== text) return null;
    return { offset: marker.logBytes, seq: marker.throughSeq, hash };
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
