import fs from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_SIDECAR_SCHEMA_VERSION, CheckpointSidecar, type CheckpointRepoInfo } from '../../contract/schemas/checkpoints.js';
import { runPaths } from './paths.js';
import { readSealed, writeSealed, type SealedRead } from './sealed-json.js';

/**
 * Sidecars: `<data>/runs/<run>/checkpoints/<turn>.json`, one per checkpoint (or skip), sealed
 * with the sha256 of their own content and written atomically. Readable without the ledger;
 * a sidecar that fails its checksum is reported and ignored, never trusted.
 */

export function writeSidecar(dataDir: string, content: Omit<CheckpointSidecar, 'sha256' | 'schema_version'>): string {
  const file = runPaths(dataDir, content.runId).sidecarOf(content.turn);
  writeSealed(file, { schema_version: CHECKPOINT_SIDECAR_SCHEMA_VERSION, ...content });
  return file;
}

/** Reads one sidecar; a missing, damaged or failing-checksum sidecar is reported, never trusted. */
export function readSidecar(dataDir: string, runId: string, turn: number): SealedRead<CheckpointSidecar> {
  return readSealed(runPaths(dataDir, runId).sidecarOf(turn), CheckpointSidecar, CHECKPOINT_SIDECAR_SCHEMA_VERSION);
}

export interface SidecarProblem {
  file: string;
  problem: string;
  detail: string;
}

/** Every sidecar of a run, by turn, and the ones that could not be trusted. */
export function readSidecars(dataDir: string, runId: string): { sidecars: Map<number, CheckpointSidecar>; problems: SidecarProblem[] } {
  const paths = runPaths(dataDir, runId);
  const sidecars = new Map<number, CheckpointSidecar>();
  const problems: SidecarProblem[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(paths.sidecarDir);
  } catch {
    return { sidecars, problems };
  }
  for (const name of names) {
    const match = /^(\d+)\.json$/.exec(name);
    if (!match) continue;
    const turn = Number(match[1]);
    const read = readSidecar(dataDir, runId, turn);
    if (read.ok) sidecars.set(turn, read.value);
    else problems.push({ file: paths.sidecarOf(turn), problem: read.problem, detail: read.detail });
  }
  return { sidecars, problems: problems.sort((a, b) => (a.file < b.file ? -1 : 1)) };
}

/** The latest created checkpoint a trusted sidecar records below `turn` (reads newest first, stops at the first). */
export function latestCreatedBelow(dataDir: string, runId: string, turn: number): CheckpointSidecar | null {
  let names: string[];
  try {
    names = fs.readdirSync(runPaths(dataDir, runId).sidecarDir);
  } catch {
    return null;
  }
  const turns = names
    .map((name) => /^(\d+)\.json$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .filter((n) => n < turn)
    .sort((a, b) => b - a);
  for (const n of turns) {
    const read = readSidecar(dataDir, runId, n);
    if (read.ok && read.value.status === 'created' && read.value.created) return read.value;
  }
  return null;
}

/**
 * The repository the run's latest created checkpoint used, when it still exists and its
 * workspace is `workspace`: a run keeps its repository for life (a `git init` in a plain folder
 * mid-run does not move its checkpoints), and no discovery is needed.
 */
export function latestRecordedRepo(dataDir: string, runId: string, workspace: string): CheckpointRepoInfo | null {
  const latest = latestCreatedBelow(dataDir, runId, Number.MAX_SAFE_INTEGER);
  if (!latest) return null;
  const recorded = latest.repo.prefix ? path.join(latest.repo.workTree, latest.repo.prefix) : latest.repo.workTree;
  if (path.resolve(recorded) !== path.resolve(workspace)) return null;
  if (!fs.existsSync(path.join(latest.repo.gitDir, 'HEAD')) && !fs.existsSync(path.join(latest.repo.gitDir, 'commondir'))) return null;
  return latest.repo;
}
