import Database from 'better-sqlite3';
import fs from 'node:fs';
import { FILE_MODE } from '../fsutil/index.js';
import { migrate } from './migrations.js';
import { nativeBindingOption } from './native-binding.js';

/** SQLite's codes for the synchronous pragma. */
const SYNCHRONOUS = { normal: 1, full: 2 } as const;

/**
 * Opens keel.db in WAL mode. The ledger's connection runs synchronous=NORMAL (ADR 0008): a
 * commit reaches the WAL file without an fsync of its own, the NDJSON fdatasync before it is
 * the one durable write of an append, and what a power loss can take from SQLite (its last
 * commits) is backfilled from NDJSON on open. `synchronous: 'full'` keeps the old mode (the
 * benchmark's raw baseline). The mode is checked after setting: better-sqlite3 reopens an
 * existing WAL database at NORMAL whatever was asked before, so only a check proves it.
 */
export function openDatabase(file: string, options: { readOnly?: boolean; synchronous?: 'normal' | 'full' } = {}): Database.Database {
  const db = new Database(file, { readonly: options.readOnly ?? false, fileMustExist: options.readOnly ?? false, ...nativeBindingOption() });
  if (!options.readOnly) {
    fs.chmodSync(file, FILE_MODE);
    db.pragma('journal_mode = WAL');
  }
  const mode = options.synchronous ?? 'normal';
  db.pragma(`synchronous = ${mode.toUpperCase()}`);
  if (process.platform === 'darwin') db.pragma('fullfsync = 1');
  db.pragma('busy_timeout = 5000');
  const synchronous = db.pragma('synchronous', { simple: true });
  if (synchronous !== SYNCHRONOUS[mode]) {
    db.close();
    throw new Error(`keel.db refused synchronous=${mode.toUpperCase()} (got ${String(synchronous)}); refusing to run with other durability than chosen.`);
  }
  if (!options.readOnly) {
    const journal = db.pragma('journal_mode', { simple: true });
    if (journal !== 'wal') {
      db.close();
      throw new Error(`keel.db refused WAL mode (got ${String(journal)}); synchronous=NORMAL is only safe in WAL mode.`);
    }
    migrate(db);
  }
  return db;
}

