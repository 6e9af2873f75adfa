import fs from 'node:fs';
import Database from 'better-sqlite3';
import { FILE_MODE, writeFileAtomic } from '../fsutil/index.js';
import { LedgerError } from './errors.js';
import { nativeBindingOption } from './native-binding.js';

const ownerFile = (file: string) => `${file}.owner`;

function describeOwner(file: string): string {
  try {
    const owner = fs.readFileSync(ownerFile(file), 'utf8').trim();
    return owner === String(process.pid) ? `this process (pid ${owner})` : `another Keel process (pid ${owner})`;
  } catch {
    return 'another Keel process';
  }
}

/**
 * One writer per data directory. The lock is an exclusive SQLite lock on `ledger.lock`: the
 * kernel drops it when its process dies (kill -9, power loss), so a stale lock never blocks
 * and two processes can never both take one over. A second writer in the same process is
 * refused too. The pid beside it only names the owner in the error.
 */
export function acquireWriterLock(file: string): () => void {
  const db = new Database(file, { timeout: 0, ...nativeBindingOption() });
  try {
    fs.chmodSync(file, FILE_MODE);
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL)');
    // The first write transaction takes the exclusive lock; EXCLUSIVE locking mode keeps it.
    db.transaction(() => {
      db.exec('DELETE FROM owner');
      db.prepare('INSERT INTO owner (pid) VALUES (?)').run(process.pid);
    }).exclusive();
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new LedgerError('locked', `The ledger in this data directory is in use by ${describeOwner(file)}.`);
    }
    throw error;
  }
  writeFileAtomic(ownerFile(file), `${process.pid}\n`);
  return () => {
    fs.rmSync(ownerFile(file), { force: true });
    db.close();
  };
}
