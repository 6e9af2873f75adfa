import fs from 'node:fs';

export interface Line {
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past the line (past its newline, if terminated). */
  end: number;
  bytes: Buffer;
  terminated: boolean;
}

const CHUNK = 1 << 20;

/** Reads a file as newline-separated lines from `from`, in bounded memory, with exact offsets. */
export function* readLines(file: string, from = 0): Generator<Line> {
  const fd = fs.openSync(file, 'r');
  try {
    // Sized to what is there (at most CHUNK): open reads the short tails of thousands of logs.
    const size = fs.fstatSync(fd).size;
    if (size <= from) return;
    let position = from;
    let carry: Buffer = Buffer.alloc(0);
    let carryStart = from;
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - from));
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, chunk.length, position);
      if (read === 0) break;
      position += read;
      let data: Buffer = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : Buffer.from(chunk.subarray(0, read));
      let lineStart = 0;
      for (;;) {
        const newline = data.indexOf(10, lineStart);
        if (newline === -1) break;
        yield { start: carryStart + lineStart, end: carryStart + newline + 1, bytes: data.subarray(lineStart, newline), terminated: true };
        lineStart = newline + 1;
      }
      carryStart += lineStart;
      carry = data.subarray(lineStart);
      data = Buffer.alloc(0);
    }
    if (carry.length > 0) yield { start: carryStart, end: carryStart + carry.length, bytes: carry, terminated: false };
  } finally {
    fs.closeSync(fd);
  }
}
