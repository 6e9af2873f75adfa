import fs from 'node:fs';
import path from 'node:path';
import { BundleManifest, type BundleImportResult, type LedgerEvent } from '../contract/index.js';
import { IMPORT_REPORT, importedDir, sliceEvents } from './bundle-import.js';
import { MANIFEST_ENTRY } from './bundle-writer.js';

/** A run from an imported bundle: read-only, shown under "Imported", never mixed with the user's runs. */
export interface ImportedRun {
  bundleId: string;
  runId: string;
  created: string;
  keelVersion: string;
  events: number;
  lastSeq: number;
  redactedSeqs: number[];
  problems: string[];
}

/** Every run of every bundle imported into this data directory. */
export function listImportedRuns(dataDir: string): ImportedRun[] {
  const root = importedDir(dataDir);
  if (!fs.existsSync(root)) return [];
  const runs: ImportedRun[] = [];
  for (const bundleId of fs.readdirSync(root).sort()) {
    if (bundleId.startsWith('.')) continue;
    const dir = path.join(root, bundleId);
    if (!fs.existsSync(path.join(dir, IMPORT_REPORT))) continue;
    const manifest = BundleManifest.safeParse(JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_ENTRY), 'utf8')));
    if (!manifest.success) continue;
    const report = JSON.parse(fs.readFileSync(path.join(dir, IMPORT_REPORT), 'utf8')) as BundleImportResult;
    for (const run of manifest.data.runs) {
      const check = report.runs.find((each) => each.run_id === run.run_id);
      runs.push({
        bundleId,
        runId: run.run_id,
        created: manifest.data.created,
        keelVersion: manifest.data.keel_version,
        events: run.events,
        lastSeq: run.last_seq,
        redactedSeqs: run.redacted_seqs,
        problems: check?.problems ?? [],
      });
    }
  }
  return runs;
}

/** The file of an imported run's (redacted) ledger slice. */
export function importedSliceFile(dataDir: string, bundleId: string, runId: string): string {
  const dir = path.join(importedDir(dataDir), bundleId);
  const manifestFile = path.join(dir, MANIFEST_ENTRY);
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(bundleId) || !fs.existsSync(manifestFile)) {
    throw new Error(`No imported bundle ${bundleId} in ${importedDir(dataDir)}.`);
  }
  const manifest = BundleManifest.parse(JSON.parse(fs.readFileSync(manifestFile, 'utf8')));
  const run = manifest.runs.find((each) => each.run_id === runId);
  if (!run) throw new Error(`Bundle ${bundleId} holds no run ${runId}.`);
  return path.join(dir, ...run.ledger_entry.split('/'));
}

/** The events of an imported run, read from its (redacted) ledger slice. */
export function readImportedEvents(dataDir: string, bundleId: string, runId: string): LedgerEvent[] {
  return [...sliceEvents(fs.readFileSync(importedSliceFile(dataDir, bundleId, runId), 'utf8'))];
}
