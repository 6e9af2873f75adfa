import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataDirHealth } from '../contract/schemas/app.js';

export interface DataDirSource {
  /** `--data DIR` from the command line. */
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

/** Where Keel keeps its data when nothing says otherwise, per platform convention. */
/** The run list's marks (archived, deleted) beside the ledger: host/run-list-marks.ts reads and writes it. */
export const runListFile = (dataDir: string) => path.join(dataDir, 'run-list.json');

export function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Keel');
  if (platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'Keel');
  const xdg = env.XDG_DATA_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'share'), 'keel');
}

/** `--data DIR`, else `KEEL_DATA_DIR`, else the platform default. Always absolute. */
export function resolveDataDir(source: DataDirSource = {}): string {
  const env = source.env ?? process.env;
  const chosen =
    source.flag || env.KEEL_DATA_DIR || defaultDataDir(source.platform ?? process.platform, env, source.home ?? os.homedir());
  return path.resolve(chosen);
}

/** A data directory that cannot be used, in a sentence a user can act on. */
export class DataDirError extends Error {
  readonly code: 'missing' | 'not_a_directory' | 'not_keel_data' | 'cannot_create';

  constructor(code: DataDirError['code'], message: string) {
    super(message);
    this.name = 'DataDirError';
    this.code = code;
  }
}

const notADirectory = (dir: string) =>
  new DataDirError('not_a_directory', `The data directory ${dir} is a file, not a directory; --data (or KEEL_DATA_DIR) must name a directory.`);

/** Creates the data directory (and parents) and makes it private to the user (0700). */
export function ensureDataDir(dir: string): string {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw notADirectory(dir);
    if (code === 'ENOTDIR') throw new DataDirError('not_a_directory', `The data directory ${dir} cannot be created: part of its path is a file, not a directory.`);
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
      const why = code === 'EROFS' ? 'it is on a read-only filesystem' : 'this user may not create it there';
      throw new DataDirError('cannot_create', `The data directory ${dir} does not exist and cannot be created: ${why}.`);
    }
    throw error;
  }
  if (process.platform !== 'win32') fs.chmodSync(dir, 0o700);
  return dir;
}

/**
 * For commands that only read or repair what is there (verify, export, replay, runs, info,
 * backfill, repair): the data directory must exist and hold Keel's data. Never creates one,
 * so a mistyped `--data` is an error, not a new empty directory.
 */
export function requireDataDir(dir: string): string {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!stat) {
    throw new DataDirError(
      'missing',
      `The data directory ${dir} does not exist. Check --data (or KEEL_DATA_DIR); \`keel run\`, \`keel serve\` and \`keel ledger import\` create one.`,
    );
  }
  if (!stat.isDirectory()) throw notADirectory(dir);
  if (!fs.existsSync(path.join(dir, 'keel.db')) && !fs.existsSync(path.join(dir, 'ledger'))) {
    throw new DataDirError('not_keel_data', `${dir} holds no Keel data (no keel.db, no ledger/); check --data (or KEEL_DATA_DIR).`);
  }
  return dir;
}

/**
 * Why this process cannot write in an existing data directory, or null when it can: a
 * read-only filesystem, or permissions. Read-only commands then inspect without recovering.
 */
export function whyNotWritable(dir: string): string | null {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return `The data directory ${dir} is on a read-only filesystem.`;
    if (code === 'EACCES' || code === 'EPERM') return `The data directory ${dir} is not writable by this user.`;
    return null;
  }
}

/** Inspects the data directory without changing it. */
export function inspectDataDir(dir: string): DataDirHealth {
  const problems: string[] = [];
  let stat: fs.Stats | null = null;
  try {
    stat = fs.statSync(dir);
  } catch {
    problems.push('The data directory does not exist.');
  }
  if (stat && !stat.isDirectory()) problems.push('The data directory path is not a directory.');
  let writable = false;
  if (stat?.isDirectory()) {
    try {
      fs.accessSync(dir, fs.constants.W_OK | fs.constants.R_OK | fs.constants.X_OK);
      writable = true;
    } catch {
      problems.push('The data directory is not readable and writable by this user.');
    }
  }
  const modeBits = stat ? stat.mode & 0o777 : null;
  const privateMode = process.platform === 'win32' ? true : modeBits !== null && (modeBits & 0o077) === 0;
  if (stat && !privateMode) problems.push(`The data directory is readable by others (mode ${modeBits?.toString(8)}); expected 700.`);
  let freeBytes: number | null = null;
  if (stat) {
    try {
      const fsStat = fs.statfsSync(dir);
      freeBytes = fsStat.bavail * fsStat.bsize;
      if (freeBytes < 64 * 1024 * 1024) problems.push('Less than 64 MiB free on the data directory volume.');
    } catch {
      freeBytes = null;
    }
  }
  return {
    path: dir,
    exists: stat !== null,
    writable,
    mode: modeBits === null ? null : modeBits.toString(8),
    privateMode,
    freeBytes,
    problems,
  };
}
