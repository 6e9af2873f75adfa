import fs from 'node:fs';
import path from 'node:path';
import { FILE_MODE, fsyncDir, writeFully } from '../fsutil/index.js';
import { LedgerError } from './errors.js';
import { genesisHash } from './hash-chain.js';
import { readLines, type Line } from './line-reader.js';
import { CHUNK, EXPORT_SCHEMA_VERSION, exportTrailerLine, NEWLINE, stagingName, type ExportTrailer } from './export-format.js';
import { checkRecord } from './record-check.js';

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

export interface ExportResult {
  /** Bytes written, the trailer included. */
  bytes: number;
  /** The trailer written last, or undefined (none asked for, or the log is damaged). */
  trailer?: ExportTrailer;
  /**
   * Bytes of an incomplete last record left out (a write in flight beside a live writer, or a
   * torn tail that recovery has not cut yet): only complete, chained records are exported.
   */
  omittedTailBytes?: number;
  /**
   * Damage in the middle of the log (a quarantined run): the whole file was written as it is,
   * for inspection, without a trailer, so it will not import.
   */
  damage?: { seq: number; offset: number; reason: string };
}

/**
 * A run's export, chunk by chunk (bounded memory): the log's chained records byte for byte, then
 * the trailer when `trailer` is set. The generator's return value says what was written.
 */
export function* exportChunks(file: string, runId: string, options: { trailer: boolean }): Generator<Buffer, ExportResult> {
  if (!fs.existsSync(file)) throw new LedgerError('unknown_run', `Run ${runId} has no log to export.`);
  let seq = 1;
  let prev = genesisHash(runId);
  let validBytes = 0;
  let written = 0;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let damage: { seq: number; offset: number; reason: string } | null = null;
  // The damaged line and what follows it, held until we know whether it was only the tail.
  let held: Line[] = [];
  let raw = false;
  const take = (bytes: Buffer) => {
    batch.push(bytes);
    batchBytes += bytes.length;
  };
  const flush = (): Buffer | null => {
    if (batchBytes === 0) return null;
    const out = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
    batch = [];
    batchBytes = 0;
    written += out.length;
    return out;
  };
  const takeLine = (line: Line) => {
    take(line.bytes);
    if (line.terminated) take(NEWLINE);
  };
  for (const line of readLines(file)) {
    if (raw) {
      takeLine(line);
    } else if (damage) {
      held.push(line);
      if (line.terminated) {
        // A complete line follows the damage: not a tail. Write everything as it is.
        raw = true;
        for (const kept of held) takeLine(kept);
        held = [];
      }
    } else {
      const check = line.terminated ? checkRecord(line.bytes, { runId, seq, prev }) : ({ ok: false, reason: 'unterminated last line' } as const);
      if (check.ok) {
        takeLine(line);
        seq += 1;
        prev = check.event.hash;
        validBytes = line.end;
      } else {
        damage = { seq, offset: line.start, reason: check.reason };
        held = [line];
      }
    }
    if (batchBytes >= CHUNK) yield flush()!;
  }
  const count = seq - 1;
  if (raw) {
    const last = flush();
    if (last) yield last;
    return { bytes: written, damage: damage! };
  }
  const omittedTailBytes = held.reduce((sum, line) => sum + (line.end - line.start), 0);
  if (count === 0) throw new LedgerError('unknown_run', `Run ${runId} has no complete record to export.`);
  let trailer: ExportTrailer | undefined;
  if (options.trailer) {
    const fields = { run_id: runId, count, last_seq: count, head_hash: prev, log_bytes: validBytes };
    take(exportTrailerLine(fields));
    trailer = { keel_export: 'trailer', schema_version: EXPORT_SCHEMA_VERSION, ...fields };
  }
  const last = flush();
  if (last) yield last;
  return { bytes: written, ...(trailer ? { trailer } : {}), ...(omittedTailBytes > 0 ? { omittedTailBytes } : {}) };
}


/** Writes an export to `outFile` atomically (temp file, fsync, rename, fsync directory), mode 0600. */
export function exportToFile(file: string, runId: string, outFile: string, options: { trailer: boolean }): ExportResult {
  const temp = path.join(path.dirname(outFile), stagingName(path.basename(outFile)));
  const fd = fs.openSync(temp, 'wx', FILE_MODE);
  let result: ExportResult;
  try {
    const chunks = exportChunks(file, runId, options);
    for (;;) {
      const next = chunks.next();
      if (next.done) {
        result = next.value;
        break;
      }
      writeFully(fd, next.value);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  try {
    fs.renameSync(temp, outFile);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fsyncDir(path.dirname(outFile));
  return result;
}

