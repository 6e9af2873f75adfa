import fs from 'node:fs';
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { fsyncDir, writeFully } from '../fsutil/index.js';
import { LedgerError } from './errors.js';
import { genesisHash } from './hash-chain.js';
import { scanLog } from './log-scan.js';
import type { ledgerPaths } from './paths.js';
import { checkRecord } from './record-check.js';
import type { SqliteStore } from './sqlite-store.js';

type Paths = ReturnType<typeof ledgerPaths>;

/**
 * Appends to the NDJSON log the events SQLite holds beyond it, after checking that they
 * continue the log's chain. Refused when the log itself is damaged.
 */
export function repairFromSqlite(store: SqliteStore, paths: Paths, runId: string): { appended: number; lastSeq: number; lastHash: string } {
  const file = paths.logOf(runId);
  const exists = fs.existsSync(file);
  const scan = exists ? scanLog(file, runId) : { lastSeq: 0, lastHash: genesisHash(runId), damage: null, validBytes: 0 };
  if (scan.damage) {
    throw new LedgerError('repair_refused', `The NDJSON log of ${runId} is damaged at record ${scan.damage.seq} (${scan.damage.reason}); repair from SQLite only extends an intact log.`);
  }
  let seq = scan.lastSeq + 1;
  let prev = scan.lastHash;
  const lines: Buffer[] = [];
  for (const record of store.read(runId, seq, Number.MAX_SAFE_INTEGER)) {
    const bytes = Buffer.from(record);
    const check = checkRecord(bytes, { runId, seq, prev });
    if (!check.ok) throw new LedgerError('repair_refused', `SQLite record ${seq} of ${runId} does not continue the log: ${check.reason}.`);
    lines.push(bytes, Buffer.from('\n'));
    prev = (check.event as LedgerEvent).hash;
    seq += 1;
  }
  if (lines.length > 0) {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o600);
    try {
      writeFully(fd, Buffer.concat(lines));
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (!exists) fsyncDir(paths.logDir);
  }
  store.setQuarantine(runId, null);
  store.setMarker(runId, seq - 1, fs.statSync(file).size);
  return { appended: lines.length / 2, lastSeq: seq - 1, lastHash: prev };
}
