import type Database from 'better-sqlite3';

/** One stored snapshot: a fold's state after events 1..`seq` of a run, as the fold encoded it. */
export interface StoredFoldSnapshot {
  seq: number;
  data: string;
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

  /** The newest snapshot of `fold` at `foldVersion` with seq <= `atOrBefore`, or null. */
  nearest(runId: string, fold: string, foldVersion: number, atOrBefore = Number.MAX_SAFE_INTEGER): StoredFoldSnapshot | null {
    if (this.db.readonly && !this.available()) return null;
    const row = this.db
      .prepare('SELECT seq, data FROM fold_snapshots WHERE run_id = ? AND fold = ? AND fold_version = ? AND seq <= ? ORDER BY seq DESC LIMIT 1')
      .get(runId, fold, foldVersion, atOrBefore) as { seq: number; data: Buffer | string } | undefined;
    if (!row) return null;
    return { seq: row.seq, data: typeof row.data === 'string' ? row.data : row.data.toString('utf8') };
  }

  /** The seqs of a run's snapshots of `fold` at `foldVersion`, ascending. */
  seqs(runId: string, fold: string, foldVersion: number): number[] {
    if (this.db.readonly && !this.available()) return [];
    return this.db
      .prepare('SELECT seq FROM fold_snapshots WHERE run_id = ? AND fold = ? AND fold_version = ? ORDER BY seq')
      .pluck()
      .all(runId, fold, foldVersion) as number[];
  }

  /**
   * Stores a snapshot after `seq` events (replacing one at the same seq), drops this fold's
   * snapshots of other versions for the run, and keeps only the newest `keep`.
   */
  save(runId: string, fold: string, foldVersion: number, seq: number, data: string, keep = SNAPSHOTS_KEPT): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM fold_snapshots WHERE run_id = ? AND fold = ? AND fold_version != ?').run(runId, fold, foldVersion);
      this.db
        .prepare(
          'INSERT INTO fold_snapshots (run_id, fold, fold_version, seq, at, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, fold, seq) DO UPDATE SET fold_version = excluded.fold_version, at = excluded.at, data = excluded.data',
        )
        .run(runId, fold, foldVersion, seq, new Date().toISOString(), Buffer.from(data, 'utf8'));
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
