import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createCheckpoint } from './create.js';
import { GIT_MALLOC_ENV, observeGitCalls } from './git.js';

/**
 * `keel bench checkpoints`: a checkpoint of a generated repository (20,000 files by default)
 * against plain git plumbing doing the same work in the same run — a temporary index started
 * from the previous one, `git add -A`, `write-tree`, `commit-tree`, `update-ref` — spawned
 * directly, without simple-git. Target (issue 12): Keel / plain <= 1.2.
 *
 * Scenarios, each measured an even number of rounds with the first side alternating, files read
 * once before each round (a cold cache costs whoever comes first far more than either side's work):
 *   turn      two identical git repositories with every file committed, one per side, given the
 *             same turn's worth of edits per round (1% of files modified, 50 added, 20 deleted);
 *             each side starts from its own previous index (Keel: its index cache) and writes
 *             into its own object store.
 *   baseline  the first checkpoint of a folder that is not a git repository: every file hashed
 *             into a fresh repository (Keel: its private repository in the data dir).
 */

const run = promisify(execFile);

export interface CheckpointBenchOptions {
  /** Scratch directory (emptied). */
  dir: string;
  files?: number;
  rounds?: number;
}

export interface ScenarioFigures {
  keel_ms: number[];
  git_ms: number[];
  keel_median_ms: number;
  git_median_ms: number;
  /** Keel median / plain git median. */
  ratio: number;
}

export interface CheckpointBenchResult {
  files: number;
  bytes: number;
  rounds: number;
  git_version: string;
  turn: ScenarioFigures & { changed_files_per_turn: number; keel_git_calls_ms: Record<string, number> };
  baseline: ScenarioFigures;
  /** Over the budget (a tiny byte budget on the baseline scenario): how fast a skip answers. */
  skip_ms: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const round1 = (value: number) => Math.round(value * 10) / 10;

function figures(keel: number[], plain: number[]): ScenarioFigures {
  const keelMedian = median(keel);
  const gitMedian = median(plain);
  return { keel_ms: keel.map(round1), git_ms: plain.map(round1), keel_median_ms: round1(keelMedian), git_median_ms: round1(gitMedian), ratio: Math.round((keelMedian / gitMedian) * 100) / 100 };
}

/** Deterministic pseudo-random numbers (the same repository every run). */
function rng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` source-like files, 50 per directory, 40 directories per package. */
export function generateTree(root: string, count: number, seed = 1): { files: string[]; bytes: number } {
  const random = rng(seed);
  const files: string[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const d = Math.floor(i / 50);
    const dir = path.join(`pkg${Math.floor(d / 40)}`, `mod${d % 40}`);
    const file = path.join(dir, `file${i}.ts`);
    const lines = 5 + Math.floor(random() * 40);
    let text = '';
    for (let line = 0; line < lines; line++) text += `export const v${line} = ${Math.floor(random() * 1e9)}; // ${i}\n`;
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
    files.push(file);
    bytes += text.length;
  }
  fs.writeFileSync(path.join(root, '.gitignore'), 'node_modules/\n*.log\n');
  return { files, bytes };
}

// The same environment Keel gives git (its malloc settings included): the ratio measures Keel.
const gitEnv = (extra: Record<string, string>) => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  ...GIT_MALLOC_ENV,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
  ...extra,
});

async function plainGit(cwd: string, args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: gitEnv(env), maxBuffer: 1 << 30 });
  return stdout;
}

/** The plain plumbing a checkpoint amounts to, spawned directly. */
async function plainCheckpoint(workTree: string, gitDir: string, index: string, ref: string, parent: string | null): Promise<string> {
  const env = { GIT_DIR: gitDir, GIT_WORK_TREE: workTree, GIT_INDEX_FILE: index };
  await plainGit(workTree, ['add', '-A'], env);
  const tree = (await plainGit(workTree, ['write-tree'], env)).trim();
  const commit = (await plainGit(workTree, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', 'plain'], env)).trim();
  await plainGit(workTree, ['update-ref', ref, commit], env);
  return commit;
}

function editTurn(roots: string[], files: string[], turn: number, random: () => number): number {
  const edits: Array<(root: string) => void> = [];
  for (let i = 0; i < Math.ceil(files.length / 100); i++) {
    const file = files[Math.floor(random() * files.length)]!;
    edits.push((root) => fs.appendFileSync(path.join(root, file), `// turn ${turn} edit ${i}\n`));
  }
  for (let i = 0; i < 50; i++) {
    const file = path.join('added', `t${turn}`, `new${i}.ts`);
    edits.push((root) => {
      fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), `export const added = ${turn * 1000 + i};\n`);
    });
    files.push(file);
  }
  for (let i = 0; i < 20; i++) {
    const [file] = files.splice(Math.floor(random() * files.length), 1);
    edits.push((root) => fs.rmSync(path.join(root, file!), { force: true }));
  }
  for (const root of roots) for (const edit of edits) edit(root);
  return edits.length;
}

/** Reads every file of a tree once, so neither side pays for a cold cache the other warmed. */
function warm(root: string): void {
  for (const entry of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && !entry.parentPath.includes(`${path.sep}.git`)) fs.readFileSync(path.join(entry.parentPath, entry.name));
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** Runs the two sides of a round, the first side alternating, and records their times. */
async function pair(round: number, keel: () => Promise<unknown>, plain: () => Promise<unknown>, keelMs: number[], plainMs: number[]): Promise<void> {
  if (round % 2 === 0) {
    keelMs.push(await timed(keel));
    plainMs.push(await timed(plain));
  } else {
    plainMs.push(await timed(plain));
    keelMs.push(await timed(keel));
  }
}

async function committedRepo(root: string, count: number): Promise<{ files: string[]; bytes: number }> {
  fs.mkdirSync(root);
  const generated = generateTree(root, count);
  await plainGit(root, ['init', '-q'], {});
  await plainGit(root, ['add', '-A'], {});
  await plainGit(root, ['commit', '-q', '-m', 'generated'], {});
  return generated;
}

export async function benchCheckpoints(options: CheckpointBenchOptions): Promise<CheckpointBenchResult> {
  const count = options.files ?? 20_000;
  const rounds = Math.max(2, (options.rounds ?? 6) + ((options.rounds ?? 6) % 2)); // even: each side first equally often
  fs.rmSync(options.dir, { recursive: true, force: true });
  fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const version = (await plainGit(options.dir, ['--version'], {})).trim();
  const dataDir = path.join(options.dir, 'data');
  const breakdown = new Map<string, number[]>();
  const observe = (on: boolean) =>
    observeGitCalls(on ? ({ args, ms }) => breakdown.set(args[0] ?? '?', [...(breakdown.get(args[0] ?? '?') ?? []), ms]) : null);

  // --- turn: two identical git repositories, one per side, edited identically -------------
  const keelRepo = path.join(options.dir, 'keel-repo');
  const plainRepo = path.join(options.dir, 'plain-repo');
  const { files, bytes } = await committedRepo(keelRepo, count);
  await committedRepo(plainRepo, count);
  const plainGitDir = path.join(plainRepo, '.git');
  const plainIndex = path.join(options.dir, 'plain.index');
  fs.copyFileSync(path.join(plainGitDir, 'index'), plainIndex);
  const runId = 'bench-turns';
  // Turn 0, the run's baseline, on both sides: the starting point, not measured.
  await createCheckpoint(keelRepo, { dataDir, runId, turn: 0 });
  let plainParent = await plainCheckpoint(plainRepo, plainGitDir, plainIndex, 'refs/bench/plain/0', null);
  const random = rng(7);
  const turnKeel: number[] = [];
  const turnGit: number[] = [];
  let changedPerTurn = 0;
  for (let turn = 1; turn <= rounds; turn++) {
    changedPerTurn = editTurn([keelRepo, plainRepo], files, turn, random);
    warm(keelRepo);
    warm(plainRepo);
    const keel = async () => {
      observe(true);
      const result = await createCheckpoint(keelRepo, { dataDir, runId, turn });
      observe(false);
      if (result.kind !== 'created') throw new Error(`checkpoint skipped: ${result.detail}`);
    };
    const plain = async () => {
      plainParent = await plainCheckpoint(plainRepo, plainGitDir, plainIndex, `refs/bench/plain/${turn}`, plainParent);
    };
    await pair(turn, keel, plain, turnKeel, turnGit);
  }
  const turnBreakdown = Object.fromEntries([...breakdown].map(([name, values]) => [name, round1(values.reduce((a, b) => a + b, 0) / rounds)]));

  // --- baseline: a folder that is not a git repository, every file hashed -----------------
  const folder = path.join(options.dir, 'folder');
  fs.mkdirSync(folder);
  generateTree(folder, count, 2);
  warm(folder);
  const baseKeel: number[] = [];
  const baseGit: number[] = [];
  const baseRounds = Math.max(2, Math.min(rounds, 4));
  for (let i = 0; i < baseRounds; i++) {
    const keel = async () => {
      const result = await createCheckpoint(folder, { dataDir, runId: `bench-folder-${i}`, turn: 0 });
      if (result.kind !== 'created') throw new Error(`checkpoint skipped: ${result.detail}`);
    };
    const plain = async () => {
      const privateDir = path.join(options.dir, `plain-${i}.git`);
      await plainGit(options.dir, ['init', '-q', '--bare', privateDir], {});
      fs.writeFileSync(path.join(privateDir, 'info', 'exclude'), 'node_modules/\n.DS_Store\n');
      await plainCheckpoint(folder, privateDir, path.join(options.dir, `plain-${i}.index`), 'refs/bench/plain/0', null);
    };
    await pair(i, keel, plain, baseKeel, baseGit);
  }
  const skipStart = performance.now();
  const skip = await createCheckpoint(folder, { dataDir, runId: 'bench-skip', turn: 0, budget: { maxBytes: 1024 } });
  const skipMs = performance.now() - skipStart;
  if (skip.kind !== 'skipped') throw new Error('the tiny byte budget did not skip');

  return {
    files: count,
    bytes,
    rounds,
    git_version: version,
    turn: { ...figures(turnKeel, turnGit), changed_files_per_turn: changedPerTurn, keel_git_calls_ms: turnBreakdown },
    baseline: figures(baseKeel, baseGit),
    skip_ms: round1(skipMs),
  };
}
