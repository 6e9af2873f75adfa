import fs from 'node:fs';
import path from 'node:path';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Creates a directory (and parents) private to the user. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
}

/** fsync a directory so a rename or create inside it survives power loss. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes every byte or throws: `writeSync` may write less than asked before failing (ENOSPC). */
export function writeFully(fd: number, data: Buffer, position?: number): void {
  let offset = 0;
  while (offset < data.length) {
    const written = fs.writeSync(fd, data, offset, data.length - offset, position === undefined ? null : position + offset);
    if (written <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    offset += written;
  }
}

function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

/**
 * Replaces `target` atomically: temp file in the same directory -> fsync -> rename -> fsync
 * directory. A crash at any point leaves the old content or the new, never a mix.
 */
export function writeFileAtomic(target: string, data: string | Buffer): void {
  const temp = tempPathFor(target);
  const fd = fs.openSync(temp, 'wx', FILE_MODE);
  try {
    writeFully(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(temp, target);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fsyncDir(path.dirname(target));
}

/** Copies bytes [start, end) of `source` to `target` atomically (streaming, any size). */
export function copyRangeAtomic(source: string, target: string, start: number, end: number): void {
  const temp = tempPathFor(target);
  const input = fs.openSync(source, 'r');
  const output = fs.openSync(temp, 'wx', FILE_MODE);
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let position = start;
    while (position < end) {
      const read = fs.readSync(input, chunk, 0, Math.min(chunk.length, end - position), position);
      if (read === 0) throw new Error(`${source} is shorter than ${end} bytes`);
      writeFully(output, chunk.subarray(0, read));
      position += read;
    }
    fs.fsyncSync(output);
  } catch (error) {
    fs.closeSync(output);
    fs.rmSync(temp, { force: true });
    throw error;
  } finally {
    fs.closeSync(input);
  }
  fs.closeSync(output);
  fs.renameSync(temp, target);
  fsyncDir(path.dirname(target));
}
