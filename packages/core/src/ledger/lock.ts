import fs from 'node:fs';
import path from 'node:path';
import { FILE_MODE } from './atomic-file.js';
import { LedgerError } from './errors.js';

/** Lock files held by this process: a second writer here is refused like one in another process. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One writer per data directory: a pid file created with O_EXCL. A lock left by a process
 * that is gone (kill -9, power loss) is taken over; a live one is refused with its pid.
 */
export function acquireWriterLock(file: string): () => void {
  const key = path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
  if (held.has(key)) {
    throw new LedgerError('locked', `The ledger in this data directory is already open for writing in this process (pid ${process.pid}).`);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', FILE_MODE);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      held.add(key);
      return () => {
        held.delete(key);
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new LedgerError('locked', `The ledger in this data directory is in use by another Keel process (pid ${owner}).`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new LedgerError('locked', `Could not take the ledger lock ${file}.`);
}
