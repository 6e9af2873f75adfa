// What a diagnostics bundle carries besides the ledger slices: where each file is found in the
// data directory, and the reports generated for the bundle. Reading only; nothing is written.
import fs from 'node:fs';
import path from 'node:path';
import { formatPolicyError, loadPolicy } from '../policy/index.js';

/** Raw per-generation logs the runtime keeps in `<data>/runs/<id>/`. */
const GENERATION_LOG = /^agent-(\d+)\.(stderr|protocol)\.log$/;

export interface GenerationLog {
  file: string;
  name: string;
  generation: number;
  kind: 'stderr_log' | 'protocol_log';
}

/** The protocol and stderr logs of every generation of a run, in generation order. */
export function generationLogs(dataDir: string, runId: string): GenerationLog[] {
  const dir = path.join(dataDir, 'runs', runId);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .flatMap((name) => {
      const match = GENERATION_LOG.exec(name);
      if (!match) return [];
      const file = path.join(dir, name);
      if (!fs.statSync(file).isFile()) return [];
      return [{ file, name, generation: Number(match[1]), kind: match[2] === 'stderr' ? ('stderr_log' as const) : ('protocol_log' as const) }];
    })
    .sort((a, b) => a.generation - b.generation || a.name.localeCompare(b.name));
}

/** Files newest first by modification time. */
function newestFirst(dir: string, accept: (name: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter(accept)
    .map((name) => path.join(dir, name))
    .filter((file) => fs.statSync(file).isFile())
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs || b.localeCompare(a));
}

/** The app log and its rotated predecessors (`<data>/logs/`), newest first, at most `keep`. */
export function appLogs(dataDir: string, keep = 5): string[] {
  return newestFirst(path.join(dataDir, 'logs'), (name) => /\.log(?:\.\d+)?$|^\d{8}-\d{4}-\d{2}-keel\.log$/.test(name)).slice(0, keep);
}

/** The latest reliability scorecard (`<data>/reliability/scorecard-*.json`), or null. */
export function latestScorecard(dataDir: string): string | null {
  return newestFirst(path.join(dataDir, 'reliability'), (name) => /^scorecard-.*\.json$/.test(name))[0] ?? null;
}

/** The policy in force for each workspace, with its validation (errors in plain words when a file is invalid). */
export async function policyReport(dataDir: string, workspaces: readonly string[]): Promise<unknown> {
  const seen = [...new Set(workspaces)];
  const reports = [];
  for (const workspace of seen.length > 0 ? seen : [null]) {
    const result = await loadPolicy({ dataDir, workspace });
    reports.push(
      result.ok
        ? { workspace, files: result.files, valid: true, errors: [], hash: result.policy.hash, policy: result.policy }
        : { workspace, files: result.files, valid: false, errors: result.errors.map(formatPolicyError) },
    );
  }
  return { in_force: reports };
}
