import fs from 'node:fs';
import type { LedgerEvent } from '../contract/index.js';
import { parseLine } from './bundle-import.js';

/** A record of a ledger slice and the byte offset just past its line (where the next one starts). */
export interface SliceRecord {
  event: LedgerEvent;
  end: number;
}

const NEWLINE = 0x0a;

/**
 * The records of a ledger slice file from byte `offset` on, read in chunks of `chunkBytes`
 * (never the whole file at once); the trailer and damaged lines are skipped, as `sliceEvents`
 * does. Stopping the iteration early closes the file.
 */
export function* readSliceFrom(file: string, offset = 0, chunkBytes = 1 << 20): Generator<SliceRecord> {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(Math.max(4096, chunkBytes));
    let carry: Buffer = Buffer.alloc(0);
    /** File offset of carry[0]. */
    let base = offset;
    let position = offset;
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, chunk.length, position);
      const eof = read === 0;
      position += read;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let start = 0;
      for (;;) {
        let stop = data.indexOf(NEWLINE, start);
        if (stop === -1) {
          if (!eof || start >= data.length) break;
          stop = data.length; // the last line without its newline
        }
        const line = data.toString('utf8', start, stop);
        const end = base + Math.min(stop + 1, data.length);
        start = stop + 1;
        if (line.length === 0) continue;
        const parsed = parseLine(line);
        if (parsed.kind === 'record') yield { event: parsed.event, end };
      }
      if (eof) return;
      // What follows the last newline is the start of a line the next chunk completes (copied: `chunk` is reused).
      carry = start < data.length ? Buffer.from(data.subarray(start)) : Buffer.alloc(0);
      base += start;
    }
  } finally {
    fs.closeSync(fd);
  }
}
