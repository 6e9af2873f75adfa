import fs from 'node:fs';
import path from 'node:path';
import { copyRangeAtomic, fsyncDir } from '../fsutil/index.js';
import { backfillRun } from './backfill.js';
import { genesisHash } from './hash-chain.js';
import type { LogScan, ScanStart } from './log-scan.js';
import type { SqliteStore } from './sqlite-store.js';

export interface TruncatedTail {
  runId: string;
  reason: string;
  truncatedBytes: number;
  brokenFile: string;
  keptThroughSeq: number;
}

export interface RunRecovery {
  runId: string;
  outcome: 'ok' | 'truncated' | 'quarantined' | 'emptied';
  scan: LogScan;
  backfilled: number;
  truncated?: TruncatedTail;
  quarantineReason?: string;
  /** Where validation resumed (a verified marker open trusted); absent when the whole log was validated. */
  resumedFrom?: ScanStart;
  /** Seqs SQLite holds beyond the NDJSON log: never copied back without `repair --from-sqlite`. */
  unexpected?: { fromSeq: number; toSeq: number };
}

const stamp = (now: Date) => now.toISOString().replace(/[:.]/g, '-');

/** A `.broken-<time>` name not taken yet: a repair never overwrites bytes an earlier one kept. */
function freshBrokenFile(file: string, now: Date): string {
  const base = `${file}.broken-${stamp(now)}`;
  let candidate = base;
  for (let n = 1; fs.existsSync(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}

/**
 * Recovers one run log on open (I3). The acknowledged boundary is what SQLite committed:
 * SQLite commits only after the NDJSON bytes are synced, so damage past it is a torn tail of
 * never-acknowledged writes (truncated, bytes kept in a `.broken-*` file), while damage at or
 * before it hits acknowledged data and quarantines the run. Without SQLite's word (no rows),
 * only a damaged last line counts as a torn tail.
 */
export function recoverRun(store: SqliteStore, runId: string, file: string, now: Date, options: { from?: ScanStart | null } = {}): RunRecovery {
  let from = options.from ?? undefined;
  // SQLite's seq column is a key, not proof: take the larger of its highest seq and its row count,
  // so a damaged key can only make the acknowledged boundary later (quarantine), never earlier (a cut).
  // Past a verified marker only the rows above it are counted: the marker moves in the same
  // transaction as the rows it covers, so those below it are there.
  let committed: number;
  let have: number;
  const above = from ? store.extentAbove(runId, from.seq) : null;
  // SQLite without the marker's rows (edited by hand): the marker proves nothing; validate it all.
  if (above && above.maxSeq < (from?.seq ?? 0)) from = undefined;
  if (from && above) {
    const extent = above;
    committed = Math.max(extent.maxSeq, from.seq + extent.countAbove);
    have = extent.countAbove === extent.maxSeq - from.seq ? Math.max(extent.maxSeq, from.seq) : from.seq;
  } else {
    const extent = store.extent(runId);
    committed = Math.max(extent.maxSeq, extent.count);
    have = extent.count === extent.maxSeq ? extent.maxSeq : 0;
  }
  if (!from && committed === 0 && fs.statSync(file).size === 0) {
    // Created but never written (killed between create and first write): nothing was ever
    // acknowledged under this id, so the empty file goes rather than failing verify forever.
    fs.rmSync(file);
    fsyncDir(path.dirname(file));
    const scan = { count: 0, lastSeq: 0, lastHash: genesisHash(runId), validBytes: 0, totalBytes: 0, damage: null };
    return { runId, outcome: 'emptied', scan, backfilled: 0 };
  }
  // One pass: validates the log and copies its valid prefix into SQLite where missing.
  const backfill = backfillRun(store, runId, file, { force: true, have, ...(from ? { from } : {}) });
  let scan = backfill.scan!;
  let truncated: TruncatedTail | undefined;
  let quarantineReason: string | undefined;
  let outcome: RunRecovery['outcome'] = 'ok';

  if (scan.damage) {
    const damage = scan.damage;
    const tornTail = committed > 0 ? damage.seq > committed : !damage.followedByCompleteLine;
    if (tornTail) {
      const brokenFile = freshBrokenFile(file, now);
      copyRangeAtomic(file, brokenFile, scan.validBytes, scan.totalBytes);
      const fd = fs.openSync(file, 'r+');
      try {
        fs.ftruncateSync(fd, scan.validBytes);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      truncated = {
        runId,
        reason: damage.reason,
        truncatedBytes: scan.totalBytes - scan.validBytes,
        brokenFile: path.basename(brokenFile),
        keptThroughSeq: scan.lastSeq,
      };
      outcome = 'truncated';
      if (scan.validBytes === 0) {
        // Not even the first record survived: nothing authoritative remains; the bytes are in the broken file.
        fs.rmSync(file);
        fsyncDir(path.dirname(file));
        return { runId, outcome: 'emptied', scan, backfilled: 0, truncated };
      }
      scan = { ...scan, totalBytes: scan.validBytes, damage: null };
    } else {
      quarantineReason = `record ${damage.seq} at byte ${damage.offset} is damaged (${damage.reason}); the run is read-only until repaired`;
      outcome = 'quarantined';
    }
  }

  const recovery: RunRecovery = { runId, outcome, scan, backfilled: backfill.inserted };
  if (from) recovery.resumedFrom = from;
  if (truncated) recovery.truncated = truncated;
  if (scan.lastSeq < committed) {
    recovery.unexpected = { fromSeq: scan.lastSeq + 1, toSeq: committed };
    quarantineReason ??= `SQLite holds events ${scan.lastSeq + 1}..${committed} that the NDJSON log lacks; run \`keel ledger repair --from-sqlite ${runId}\` after checking them`;
  }
  if (quarantineReason) {
    store.ensureRun(runId, now.toISOString());
    store.setQuarantine(runId, quarantineReason);
    recovery.quarantineReason = quarantineReason;
    if (outcome === 'ok') recovery.outcome = 'quarantined';
  } else {
    store.setQuarantine(runId, null);
  }
  return recovery;
}
