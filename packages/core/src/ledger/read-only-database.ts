import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type Database from 'better-sqlite3';
import { openDatabase } from './database.js';

/** Whether `dir` is on a read-only filesystem, where no process can write. */
export function onReadOnlyFilesystem(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/**
 * Opens keel.db read-only. A WAL database is read through its `-shm` file, which SQLite cannot
 * create on a read-only filesystem ("unable to open database file"). There, and only there, it
 * is opened `immutable=1`: no locks, no -shm — safe because nothing can write to that
 * filesystem. An immutable read ignores a `-wal` file, so a WAL left uncheckpointed by a crash
 * shows as SQLite lagging NDJSON in `verify`, never as agreement.
 */
export function openDatabaseReadOnly(file: string): Database.Database {
  if (!onReadOnlyFilesystem(path.dirname(file))) return openDatabase(file, { readOnly: true });
  let db: Database.Database | undefined;
  try {
    db = openDatabase(file, { readOnly: true });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch {
    db?.close();
  }
  if (!fs.existsSync(file)) return openDatabase(file, { readOnly: true });
  return openDatabase(`${pathToFileURL(file).href}?immutable=1`, { readOnly: true });
}
