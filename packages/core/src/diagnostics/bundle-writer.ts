import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ulid } from 'ulid';
import yazl from 'yazl';
import {
  BUNDLE_SCHEMA_VERSION,
  BundleManifest,
  KEEL_VERSION,
  type BundleEntry,
  type BundleEntryKind,
  type BundleRun,
  type BundleWriteResult,
} from '../contract/index.js';
import { fsyncDir } from '../fsutil/index.js';
import type { ExportResult, Ledger } from '../ledger/index.js';
import { addCounts, RedactionError, Redactor } from './redactor.js';
import { redactLedgerSlice, redactTextFile, redactTextToFile, type WrittenEntry } from './redact-stream.js';
import { appLogs, generationLogs, latestScorecard, policyReport } from './sources.js';
import { collectVersions } from './versions.js';

export const MANIFEST_ENTRY = 'manifest.json';

export interface BundleProgress {
  /** The entry being written (its path in the zip). */
  entry: string;
  /** Input bytes done and in all, over every entry (ledger logs and raw logs dominate). */
  done: number;
  total: number;
}

export interface WriteBundleOptions {
  ledger: Ledger;
  dataDir: string;
  /** The runs to carry; each must exist in the ledger. */
  runIds: readonly string[];
  /** Where the zip goes; written atomically (nothing is left there on failure). */
  out: string;
  redactor?: Redactor;
  /** `keel doctor`'s report; without one, the bundle says the doctor was not available and why. */
  doctor?: () => Promise<unknown>;
  /** Why there is no doctor, when `doctor` is not given. */
  doctorUnavailable?: string;
  onProgress?: (progress: BundleProgress) => void;
  now?: () => Date;
}

/** A run's export chunks, keeping what the generator returns. */
function* keepResult(generator: Generator<Buffer, ExportResult>, into: { result?: ExportResult }): Generator<Buffer> {
  into.result = yield* generator;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Writes a diagnostics bundle: every entry is redacted into a private staging directory (its
 * size and sha256 computed as it is written), then zipped with the manifest into a temporary
 * file beside `out` and renamed into place. Any error — a redactor's first of all — removes
 * the staging directory and the temporary zip: no partial bundle is ever left (I12).
 */
export async function writeBundle(options: WriteBundleOptions): Promise<BundleWriteResult> {
  const { ledger, dataDir } = options;
  const out = path.resolve(options.out);
  if (options.runIds.length === 0) throw new Error('No runs to bundle: name one with --run ID, or use --all.');
  for (const runId of options.runIds) {
    if (!ledger.run(runId)) throw new Error(`No run ${runId} in ${dataDir}; \`keel runs\` lists the runs there.`);
  }
  const outDir = path.dirname(out);
  if (!fs.existsSync(outDir)) throw new Error(`Cannot write ${out}: the folder ${outDir} does not exist.`);
  if (fs.existsSync(out)) throw new Error(`${out} already exists; choose another --out, or remove it first.`);
  const redactor = options.redactor ?? new Redactor();
  const now = options.now ?? (() => new Date());
  const bundleId = ulid();
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-bundle-'));
  fs.chmodSync(staging, 0o700);
  const partial = path.join(outDir, `.${path.basename(out)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    const entries: Array<BundleEntry & { staged: string }> = [];
    const runs: BundleRun[] = [];
    const byRule: Record<string, number> = {};
    const byFile: Record<string, Record<string, number>> = {};

    // Progress counts input bytes: ledger logs and raw logs, the only entries that grow with a run.
    const summaries = options.runIds.map((runId) => ledger.run(runId)!);
    const logsOf = new Map(options.runIds.map((runId) => [runId, generationLogs(dataDir, runId)]));
    const sizeOf = (file: string) => fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    const total =
      options.runIds.reduce((sum, runId) => sum + sizeOf(path.join(dataDir, 'ledger', `${runId}.ndjson`)), 0) +
      [...logsOf.values()].flat().reduce((sum, log) => sum + sizeOf(log.file), 0);
    let done = 0;
    const progress = (entry: string, bytes: number) => options.onProgress?.({ entry, done: done + bytes, total: Math.max(total, done + bytes) });

    const add = (entryPath: string, kind: BundleEntryKind, written: WrittenEntry, runId?: string) => {
      entries.push({
        path: entryPath,
        kind,
        size: written.size,
        sha256: written.sha256,
        ...(runId ? { run_id: runId } : {}),
        redactions: written.redactions,
        staged: stagedPath(entryPath),
      });
      if (Object.keys(written.redactions).length > 0) byFile[entryPath] = written.redactions;
      addCounts(byRule, written.redactions);
    };
    const stagedPath = (entryPath: string) => {
      const file = path.join(staging, ...entryPath.split('/'));
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      return file;
    };
    const addText = async (entryPath: string, kind: BundleEntryKind, text: string, runId?: string) =>
      add(entryPath, kind, await redactTextToFile(redactor, text, stagedPath(entryPath)), runId);

    for (const summary of summaries) {
      const runId = summary.id;
      const ledgerEntry = `runs/${runId}/ledger.ndjson`;
      const exported: { result?: ExportResult } = {};
      const slice = await redactLedgerSlice(redactor, keepResult(ledger.exportChunks(runId, { trailer: true }), exported), stagedPath(ledgerEntry), (tick) =>
        progress(ledgerEntry, tick.bytes),
      );
      done += sizeOf(path.join(dataDir, 'ledger', `${runId}.ndjson`));
      add(ledgerEntry, 'ledger', slice, runId);
      runs.push({
        run_id: runId,
        ledger_entry: ledgerEntry,
        events: slice.records,
        last_seq: exported.result?.trailer?.last_seq ?? summary.lastSeq,
        head_hash: exported.result?.trailer?.head_hash ?? null,
        redacted_seqs: slice.redactedSeqs,
        quarantined: summary.quarantineReason,
      });
      for (const log of logsOf.get(runId) ?? []) {
        const entryPath = `runs/${runId}/${log.name}`;
        const written = await redactTextFile(redactor, log.file, stagedPath(entryPath), (tick) => progress(entryPath, tick.bytes), { protocol: log.kind === 'protocol_log' });
        add(entryPath, log.kind, written, runId);
        done += sizeOf(log.file);
      }
      await addText(`runs/${runId}/verify.json`, 'verify', json(ledger.verify(runId)), runId);
    }

    for (const file of appLogs(dataDir)) {
      const entryPath = `logs/${path.basename(file)}`;
      add(entryPath, 'app_log', await redactTextFile(redactor, file, stagedPath(entryPath)));
    }
    const scorecard = latestScorecard(dataDir);
    if (scorecard) add(`reliability/${path.basename(scorecard)}`, 'scorecard', await redactTextFile(redactor, scorecard, stagedPath(`reliability/${path.basename(scorecard)}`)));
    else await addText('reliability/NO-SCORECARD.txt', 'note', `No reliability scorecard in ${path.join(dataDir, 'reliability')}: \`npm run reliability\` writes one.\n`);

    const workspaces = summaries.map((summary) => summary.workspace).filter((workspace): workspace is string => workspace !== null);
    await addText('policy/policy.json', 'policy', json(await policyReport(dataDir, workspaces)));

    if (options.doctor) {
      let report: unknown;
      try {
        report = await options.doctor();
      } catch (error) {
        report = { error: `keel doctor failed: ${(error as Error).message}` };
      }
      await addText('doctor/doctor.json', 'doctor', json(report));
    } else {
      await addText('doctor/NOT-AVAILABLE.txt', 'note', `${options.doctorUnavailable ?? 'No `keel doctor` report: this build of Keel has no doctor.'}\n`);
    }
    await addText('versions.json', 'versions', json(await collectVersions()));

    const manifest = BundleManifest.parse({
      schema_version: BUNDLE_SCHEMA_VERSION,
      bundle_id: bundleId,
      keel_version: KEEL_VERSION,
      platform: { os: process.platform, arch: process.arch, release: os.release() },
      created: now().toISOString(),
      runs,
      entries: entries.map(({ staged: _staged, ...entry }) => entry),
      redaction: {
        detectors: redactor.detectorIds,
        total: Object.values(byRule).reduce((sum, n) => sum + n, 0),
        by_rule: byRule,
        by_file: byFile,
      },
    });
    const manifestText = json(manifest);
    const checked = await redactor.redact(manifestText);
    if (checked.text !== manifestText) throw new RedactionError('manifest', new Error(`the manifest itself matched ${Object.keys(checked.counts).join(', ')}`));

    await zipTo(partial, manifestText, entries, now());
    fs.renameSync(partial, out);
    fsyncDir(outDir);
    return {
      file: out,
      bytes: fs.statSync(out).size,
      bundle_id: bundleId,
      runs: runs.map((run) => run.run_id),
      entries: entries.length + 1,
      redactions: manifest.redaction.total,
    };
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Zips the manifest and the staged entries into `file`, fsync'd before it resolves. */
function zipTo(file: string, manifestText: string, entries: ReadonlyArray<{ path: string; staged: string }>, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    const output = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      output.destroy();
      reject(error);
    };
    output.on('error', fail);
    zip.outputStream.on('error', fail);
    output.on('close', () => {
      if (failed) return;
      try {
        const fd = fs.openSync(file, 'r');
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        resolve();
      } catch (error) {
        reject(error as Error);
      }
    });
    zip.outputStream.pipe(output);
    zip.addBuffer(Buffer.from(manifestText), MANIFEST_ENTRY, { mtime, mode: 0o100600 });
    for (const entry of entries) zip.addFile(entry.staged, entry.path, { mtime, mode: 0o100600 });
    zip.end();
  });
}
