import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { nativeBindingOption } from '../ledger/index.js';
import { GENERATION_TAG_VAR } from '../runtime/index.js';

/** The doctor's look at the machine: file modes, free space, the writer lock, Keel's agent processes. */

/** Paths under the data directory other users can read or enter (directories want 700, files 600); two levels deep. */
export function checkDataDirModes(dataDir: string): Array<{ path: string; mode: string }> {
  const loose: Array<{ path: string; mode: string }> = [];
  if (process.platform === 'win32') return loose;
  const visit = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) continue;
      let mode: number;
      try {
        mode = fs.statSync(full).mode & 0o777;
      } catch {
        continue;
      }
      if ((mode & 0o077) !== 0) loose.push({ path: full, mode: mode.toString(8) });
      // Private git repositories keep git's own modes inside; their folder's mode is what matters.
      if (entry.isDirectory() && depth < 2 && !entry.name.endsWith('.git')) visit(full, depth + 1);
    }
  };
  try {
    const mode = fs.statSync(dataDir).mode & 0o777;
    if ((mode & 0o077) !== 0) loose.push({ path: dataDir, mode: mode.toString(8) });
  } catch {
    return loose;
  }
  visit(dataDir, 0);
  return loose;
}

export function checkFreeSpace(dataDir: string): number | null {
  try {
    const stat = fs.statfsSync(dataDir);
    return stat.bavail * stat.bsize;
  } catch {
    return null;
  }
}

export type LockState =
  | { state: 'absent' }
  | { state: 'free' }
  | { state: 'held'; pid: number | null }
  | { state: 'stale_owner'; pid: number | null; ownerFile: string }
  | { state: 'error'; detail: string };

/**
 * Whether a Keel holds the data directory's writer lock (an exclusive SQLite lock the kernel drops
 * when its process dies). Probed with a read transaction that fails while the lock is held, so the
 * probe never takes the lock itself.
 */
export function writerLockState(lockFile: string): LockState {
  if (!fs.existsSync(lockFile)) return { state: 'absent' };
  const ownerFile = `${lockFile}.owner`;
  let pid: number | null = null;
  try {
    pid = Number(fs.readFileSync(ownerFile, 'utf8').trim()) || null;
  } catch {
    pid = null;
  }
  let db: Database.Database | null = null;
  try {
    db = new Database(lockFile, { readonly: true, fileMustExist: true, timeout: 0, ...nativeBindingOption() });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return { state: 'held', pid };
    return { state: 'error', detail: (error as Error).message };
  } finally {
    db?.close();
  }
  return pid !== null ? { state: 'stale_owner', pid, ownerFile } : { state: 'free' };
}

/**
 * Processes that carry a Keel generation tag in their environment (agents and what they started),
 * or null where they cannot be listed. Linux reads /proc; macOS asks `ps -E`.
 */
export function findKeelProcesses(): Array<{ pid: number; tag: string; command: string }> | null {
  const entry = `${GENERATION_TAG_VAR}=`;
  const found: Array<{ pid: number; tag: string; command: string }> = [];
  if (process.platform === 'linux') {
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || name === String(process.pid)) continue;
      let environ: string;
      try {
        environ = fs.readFileSync(`/proc/${name}/environ`, 'latin1');
      } catch {
        continue;
      }
      const tag = environ.split('\0').find((pair) => pair.startsWith(entry));
      if (!tag) continue;
      let command = '';
      try {
        command = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      } catch {
        continue; // gone (or a zombie)
      }
      found.push({ pid: Number(name), tag: tag.slice(entry.length), command: command.slice(0, 300) });
    }
    return found;
  }
  if (process.platform === 'darwin') {
    let out: string;
    try {
      out = execFileSync('ps', ['-A', '-E', '-ww', '-o', 'pid=,command='], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    } catch {
      return null;
    }
    for (const line of out.split('\n')) {
      const match = new RegExp(`^\\s*(\\d+)\\s+(.*?)\\s${entry}(\\S+)`).exec(line);
      if (match && Number(match[1]) !== process.pid) found.push({ pid: Number(match[1]), tag: match[3]!, command: match[2]!.slice(0, 300) });
    }
    return found;
  }
  return null;
}
