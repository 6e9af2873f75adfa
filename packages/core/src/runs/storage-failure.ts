import fs from 'node:fs';
import path from 'node:path';

const MARKER = 'storage-failure.json';
/** Reserved up front: rewriting bytes a file already has needs no new space on a full disk. */
const RESERVED_BYTES = 1024;
const EMPTY = JSON.stringify({ schema_version: 1, failure: null });

const markerOf = (runDir: string) => path.join(runDir, MARKER);
const padded = (json: string) => json.padEnd(RESERVED_BYTES, ' ');

/** Makes room for the marker while the disk still has some (each run, when it opens). */
export function reserveStorageFailureMarker(runDir: string): void {
  try {
    if (fs.statSync(markerOf(runDir), { throwIfNoEntry: false })?.size === RESERVED_BYTES) return;
    fs.writeFileSync(markerOf(runDir), padded(EMPTY), { mode: 0o600 });
  } catch {
    // No room even now: a later failure is then recorded as a host interruption, still true.
  }
}

/**
 * The ledger refused a write, so the run's own log cannot say what happened. The marker beside
 * it, rewritten in place in its reserved bytes, lets the next open record it (storage_failed).
 */
export function recordStorageFailure(runDir: string, message: string): void {
  const json = JSON.stringify({ schema_version: 1, failure: { at: new Date().toISOString(), message: message.slice(0, 800) } });
  let fd: number | null = null;
  try {
    fd = fs.openSync(markerOf(runDir), 'r+');
    fs.writeSync(fd, padded(json), 0);
    fs.fsyncSync(fd);
  } catch {
    // Nothing to do: the next open then records a host interruption, which is still true.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** The failure the last host left for this run, if any. */
export function readStorageFailure(runDir: string): { at: string; message: string } | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(markerOf(runDir), 'utf8')) as { failure?: { at?: unknown; message?: unknown } | null };
    const failure = parsed.failure;
    return failure && typeof failure.message === 'string' ? { at: String(failure.at ?? ''), message: failure.message } : null;
  } catch {
    return null;
  }
}

/** Recorded in the ledger: the marker is empty again (its room kept). */
export function clearStorageFailure(runDir: string): void {
  fs.writeFileSync(markerOf(runDir), padded(EMPTY), { mode: 0o600 });
}
