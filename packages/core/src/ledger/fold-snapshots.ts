import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type Database from 'better-sqlite3';

/** One stored snapshot: a fold's state after events 1..`seq` of a run, as the fold encoded it. */
export interface StoredFoldSnapshot {
  seq: number;
  data: string;
}

/** A stored snapshot as its bytes: packed (packSnapshot) or plain UTF-8 text. */
export interface StoredFoldBytes {
  seq: number;
  bytes: Buffer;
}

/**
 * Packed data starts with this: a NUL, which no fold's text starts with, so plain text stored
 * by `save(string)` (and rows written before packing existed) still reads as it was.
 */
const PACKED = Buffer.from([0, 0x6b, 0x62, 0x31]);
const unbrotli = promisify(zlib.brotliDecompress);
/**
 * zlib's async calls hand the thread pool one output chunk at a time (16 KiB by default), and
 * each chunk's completion waits for its turn of the event loop: behind a busy loop (the
 * background check's 8 ms slices) a 667 KiB unpack took 0.5 s, 41 turns. Chunks sized to the
 * expected output make it one or two turns. Brotli packs a view ~7x; the cap bounds the buffer.
 */
const MAX_CHUNK = 64 * 1024 * 1024;
const chunkFor = (expected: number) => Math.min(MAX_CHUNK, Math.max(64 * 1024, expected));
const isPacked = (bytes: Buffer) => bytes.length >= PACKED.length && bytes.subarray(0, PACKED.length).equals(PACKED);

/**
 * A snapshot's text packed for storage: brotli at quality 1, in libuv's thread pool (a 1M-event
 * run's 28 MiB view packs to ~4 MiB in ~0.1 s off the event loop). A large snapshot read back
 * from SQLite costs CPU per page, so fewer pages is most of a cold `run.view` (issue 16).
 */
export async function packSnapshot(text: string): Promise<Buffer> {
  return (await packSnapshotText([text], 0)) as Buffer;
}

/**
 * A snapshot's text given in pieces (concatenated as they come), packed a piece at a time once it
 * reaches `packFromBytes` (UTF-8), as plain text below that: PACKED, then one brotli stream
 * (quality 1, output in 1 MiB chunks: a few event-loop turns), without ever holding the whole text: a 1M-event
 * view's 28 MiB as line strings, one joined string and its UTF-8 copy raised `keel serve`'s
 * peak RSS by ~100 MB while it stored the snapshot (issue 16).
 */
export async function packSnapshotText(pieces: AsyncIterable<string> | Iterable<string>, packFromBytes: number): Promise<string | Buffer> {
  const source = (async function* () {
    yield* pieces;
  })();
  const plain: string[] = [];
  for (let bytes = 0; bytes < packFromBytes || plain.length === 0; ) {
    const next = await source.next();
    if (next.done) return plain.join('');
    plain.push(next.value);
    bytes += Buffer.byteLength(next.value, 'utf8');
  }
  const packed: Buffer[] = [PACKED];
  // pipeline: a piece at a time as brotli takes them; a failing source or stream rejects and destroys both.
  await pipeline(
    Readable.from(
      (async function* () {
        yield plain.splice(0).join('');
        yield* source;
      })(),
    ),
    zlib.createBrotliCompress({ chunkSize: 1024 * 1024, params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }),
    async (output: AsyncIterable<Buffer>) => {
      for await (const chunk of output) packed.push(chunk);
    },
  );
  return Buffer.concat(packed);
}

/** The text of stored snapshot bytes, packed or plain; unpacking runs in the thread pool. */
export async function unpackSnapshot(bytes: Buffer): Promise<string> {
  return (await unpackSnapshotBytes(bytes)).toString('utf8');
}

/**
 * The UTF-8 bytes of a stored snapshot's text, packed or plain: for a reader that decodes it a
 * piece at a time (a long run's view is ~28 MiB; one string of it blocks the loop ~0.1 s).
 */
export async function unpackSnapshotBytes(bytes: Buffer): Promise<Buffer> {
  if (!isPacked(bytes)) return bytes;
  const packed = bytes.subarray(PACKED.length);
  return unbrotli(packed, { chunkSize: chunkFor(packed.length * 8) });
}

function unpackSnapshotSync(bytes: Buffer): string {
  return isPacked(bytes) ? zlib.brotliDecompressSync(bytes.subarray(PACKED.length)).toString('utf8') : bytes.toString('utf8');
}

/** Snapshots kept per run and fold (the newest ones); older ones are pruned on save. */
export const SNAPSHOTS_KEPT = 2;

/**
 * Persisted fold snapshots (table `fold_snapshots`, migration 7): any fold of a run's events
 * (`fold` names it, e.g. 'run-view') can store its state after `seq` events and later start
 * from the nearest snapshot at or before a seq instead of from the first event. A snapshot is
 * valid only for the `foldVersion` that wrote it: a fold whose output changes bumps its
 * version, older rows are then ignored and replaced on the next save. The encoding is the
 * fold's own (`data`); the ledger only keeps it. Derived data: losing it costs a re-fold.
 */
export class FoldSnapshots {
  constructor(private readonly db: Database.Database) {}

  /** Whether the table exists (a read-only keel.db of an older schema has none). */
  private available(): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'fold_snapshots'").get() !== undefined;
  }

  /** The newest snapshot of `fold` at `foldVersion` with seq <= `atOrBefore`, or null (text, unpacked if it was packed). */
  nearest(runId: string, fold: string, foldVersion: number, atOrBefore = Number.MAX_SAFE_INTEGER): StoredFoldSnapshot | null {
    const stored = this.nearestBytes(runId, fold, foldVersion, atOrBefore);
    return stored ? { seq: stored.seq, data: unpackSnapshotSync(stored.bytes) } : null;
  }

  /** The same snapshot as `nearest`, as stored (give it to `unpackSnapshot` off the event loop). */
  nearestBytes(runId: string, fold: string, foldVersion: number, atOrBefore = Number.MAX_SAFE_INTEGER): StoredFoldBytes | null {
    if (this.db.readonly && !this.available()) return null;
    const row = this.db
      .prepare('SELECT seq, data FROM fold_snapshots WHERE run_id = ? AND fold = ? AND fold_version = ? AND seq <= ? ORDER BY seq DESC LIMIT 1')
      .get(runId, fold, foldVersion, atOrBefore) as { seq: number; data: Buffer | string } | undefined;
    if (!row) return null;
    return { seq: row.seq, bytes: typeof row.data === 'string' ? Buffer.from(row.data, 'utf8') : row.data };
  }

  /** The seqs of a run's snapshots of `fold` at `foldVersion`, ascending. */
  seqs(runId: string, fold: string, foldVersion: number): number[] {
    if (this.db.readonly && !this.available()) return [];
    return this.db
      .prepare('SELECT seq FROM fold_snapshots WHERE run_id = ? AND fold = ? AND fold_version = ? ORDER BY seq')
      .pluck()
      .all(runId, fold, foldVersion) as number[];
  }

  /** Per run, the seq of its newest snapshot of `fold` at `foldVersion` (one query for every run). */
  newestSeqs(fold: string, foldVersion: number): Map<string, number> {
    if (this.db.readonly && !this.available()) return new Map();
    const rows = this.db
      .prepare('SELECT run_id, MAX(seq) AS seq FROM fold_snapshots WHERE fold = ? AND fold_version = ? GROUP BY run_id')
      .all(fold, foldVersion) as { run_id: string; seq: number }[];
    return new Map(rows.map((row) => [row.run_id, row.seq]));
  }

  /**
   * Stores a snapshot after `seq` events (replacing one at the same seq), drops this fold's
   * snapshots of other versions for the run, and keeps only the newest `keep`.
   */
  save(runId: string, fold: string, foldVersion: number, seq: number, data: string | Buffer, keep = SNAPSHOTS_KEPT): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM fold_snapshots WHERE run_id = ? AND fold = ? AND fold_version != ?').run(runId, fold, foldVersion);
      this.db
        .prepare(
          'INSERT INTO fold_snapshots (run_id, fold, fold_version, seq, at, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, fold, seq) DO UPDATE SET fold_version = excluded.fold_version, at = excluded.at, data = excluded.data',
        )
        .run(runId, fold, foldVersion, seq, new Date().toISOString(), typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      this.db
        .prepare(
          'DELETE FROM fold_snapshots WHERE run_id = ? AND fold = ? AND seq NOT IN (SELECT seq FROM fold_snapshots WHERE run_id = ? AND fold = ? ORDER BY seq DESC LIMIT ?)',
        )
        .run(runId, fold, runId, fold, Math.max(1, keep));
    })();
  }

  /** Forgets every snapshot of a run (all folds), e.g. when its log was repaired. */
  forget(runId: string): void {
    if (this.db.readonly) return;
    this.db.prepare('DELETE FROM fold_snapshots WHERE run_id = ?').run(runId);
  }
}
