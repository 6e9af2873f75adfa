import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createCheckpoint } from './create.js';
import { GIT_MALLOC_ENV, observeGitCalls } from './git.js';
import { mulberry32 } from '../../replay/index.js';

/**
 * `keel bench checkpoints`: a checkpoint of a generated repository (20,000 files by default)
 * against plain git doing the same work in the same run, spawned directly (no simple-git), with
 * the same environment. Target (issue 12): Keel / plain plumbing <= 1.2.
 *
 *   plumbing   the same work: ls-files against the previous index, update-index of exactly
 *              those paths, write-tree, commit-tree, update-ref, diff-tree (--numstat per turn).
 *   porcelain  for reference, the shortest way: `add -A`, write-tree, commit-tree, update-ref,
 *              and no description of the change.
 *
 * Scenarios, each side with its own identical repository and object store, files read once
 * before each round (a cold cache costs whoever comes first far more than either side's work),
 * and the first side rotating so each goes first equally often:
 *   turn      every file committed; per round a turn's worth of edits (1% of files modified, 50
 *             added, 20 deleted); each side starts from its own previous index (Keel: its index
 *             cache).
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
  plumbing_ms: number[];
  porcelain_ms: number[];
  keel_median_ms: number;
  plumbing_median_ms: number;
  porcelain_median_ms: number;
  /** Keel median / plain plumbing median: the same work (the target). */
  ratio: number;
  /** Keel median / `git add -A` porcelain median (no description of the change): for reference. */
  ratio_vs_porcelain: number;
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

function figures(keel: number[], plumbing: number[], porcelain: number[]): ScenarioFigures {
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return {
    keel_ms: keel.map(round1),
    plumbing_ms: plumbing.map(round1),
    porcelain_ms: porcelain.map(round1),
    keel_median_ms: round1(median(keel)),
    plumbing_median_ms: round1(median(plumbing)),
    porcelain_median_ms: round1(median(porcelain)),
    ratio: ratio(median(keel), median(plumbing)),
    ratio_vs_porcelain: ratio(median(keel), median(porcelain)),
  };
}

/** `count` source-like files, 50 per directory, 40 directories per package. */
export function generateTree(root: string, count: number, seed = 1): { files: string[]; bytes: number } {
  const random = mulberry32(seed);
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
  // No background `gc --auto` after the setup commit: it would pack objects while a side is measured.
  const { stdout } = await run('git', ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false', ...args], { cwd, env: gitEnv(env), maxBuffer: 1 << 30 });
  return stdout;
}

function plainGitInput(cwd: string, args: string[], env: Record<string, string>, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['-c', 'gc.auto=0', ...args], { cwd, env: gitEnv(env), maxBuffer: 1 << 30 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    child.stdin?.end(input);
  });
}

export type PlainSide = 'plumbing' | 'porcelain';

/**
 * What a checkpoint amounts to in plain git, spawned directly. `plumbing` does the same work as
 * Keel: list what differs from the previous index (ls-files), hash exactly that (update-index),
 * write-tree, commit-tree, update-ref, and describe the change (diff-tree --raw, with --numstat
 * for a turn). `porcelain` is the shortest way git has: `add -A`, write-tree, commit-tree,
 * update-ref, and no description.
 */
async function plainCheckpoint(side: PlainSide, workTree: string, gitDir: string, index: string, ref: string, parent: string | null): Promise<string> {
  const env = { GIT_DIR: gitDir, GIT_WORK_TREE: workTree, GIT_INDEX_FILE: index };
  if (side === 'porcelain') await plainGit(workTree, ['add', '-A'], env);
  else {
    const listed = await plainGit(workTree, ['ls-files', '-z', '--modified', '--deleted', '--others', '--exclude-standard'], env);
    const paths = [...new Set(listed.split('\0').filter(Boolean))];
    if (paths.length > 0) await plainGitInput(workTree, ['update-index', '--add', '--remove', '--replace', '-z', '--stdin'], env, `${paths.join('\0')}\0`);
  }
  const tree = (await plainGit(workTree, ['write-tree'], env)).trim();
  const commit = (await plainGit(workTree, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', 'plain'], env)).trim();
  await plainGit(workTree, ['update-ref', ref, commit], env);
  if (side === 'plumbing') {
    const base = parent ?? '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
    await plainGit(workTree, ['diff-tree', '-r', '-z', '--no-renames', '--raw', ...(parent ? ['--numstat'] : []), base, tree], env);
  }
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
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) warm(full);
    else if (entry.isFile()) fs.readFileSync(full);
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** Runs the sides of a round, the first side rotating, and records their times. */
async function round(n: number, sides: Array<{ run: () => Promise<unknown>; ms: number[] }>): Promise<void> {
  for (let i = 0; i < sides.length; i++) {
    const side = sides[(n + i) % sides.length]!;
    side.ms.push(await timed(side.run));
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
  const rounds = Math.max(3, Math.ceil((options.rounds ?? 6) / 3) * 3); // each side first equally often
  fs.rmSync(options.dir, { recursive: true, force: true });
  fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const version = (await plainGit(options.dir, ['--version'], {})).trim();
  const dataDir = path.join(options.dir, 'data');
  const breakdown = new Map<string, number[]>();
  const observe = (on: boolean) =>
    observeGitCalls(on ? ({ args, ms }) => breakdown.set(args[0] ?? '?', [...(breakdown.get(args[0] ?? '?') ?? []), ms]) : null);

  // --- turn: identical git repositories, one per side, edited identically ------------------
  const keelRepo = path.join(options.dir, 'keel-repo');
  const { files, bytes } = await committedRepo(keelRepo, count);
  const plain = { plumbing: { repo: path.join(options.dir, 'plumbing-repo'), parent: null as string | null }, porcelain: { repo: path.join(options.dir, 'porcelain-repo'), parent: null as string | null } };
  for (const [side, state] of Object.entries(plain) as Array<[PlainSide, (typeof plain)[PlainSide]]>) {
    await committedRepo(state.repo, count);
    fs.copyFileSync(path.join(state.repo, '.git', 'index'), path.join(options.dir, `${side}.index`));
  }
  const plainTurn = async (side: PlainSide, turn: number) => {
    const state = plain[side];
    state.parent = await plainCheckpoint(side, state.repo, path.join(state.repo, '.git'), path.join(options.dir, `${side}.index`), `refs/bench/${side}/${turn}`, state.parent);
  };
  const runId = 'bench-turns';
  // Turn 0, the run's baseline, on every side: the starting point, not measured.
  await createCheckpoint(keelRepo, { dataDir, runId, turn: 0 });
  await plainTurn('plumbing', 0);
  await plainTurn('porcelain', 0);
  const random = mulberry32(7);
  const turnMs = { keel: [] as number[], plumbing: [] as number[], porcelain: [] as number[] };
  let changedPerTurn = 0;
  for (let turn = 1; turn <= rounds; turn++) {
    changedPerTurn = editTurn([keelRepo, plain.plumbing.repo, plain.porcelain.repo], files, turn, random);
    for (const repo of [keelRepo, plain.plumbing.repo, plain.porcelain.repo]) warm(repo);
    const keel = async () => {
      observe(true);
      const result = await createCheckpoint(keelRepo, { dataDir, runId, turn });
      observe(false);
      if (result.kind !== 'created') throw new Error(`checkpoint skipped: ${result.detail}`);
    };
    await round(turn, [
      { run: keel, ms: turnMs.keel },
      { run: () => plainTurn('plumbing', turn), ms: turnMs.plumbing },
      { run: () => plainTurn('porcelain', turn), ms: turnMs.porcelain },
    ]);
  }
  const turnBreakdown = Object.fromEntries([...breakdown].map(([name, values]) => [name, round1(values.reduce((a, b) => a + b, 0) / rounds)]));

  // --- baseline: a folder that is not a git repository, every file hashed -----------------
  const folder = path.join(options.dir, 'folder');
  fs.mkdirSync(folder);
  generateTree(folder, count, 2);
  warm(folder);
  const baseMs = { keel: [] as number[], plumbing: [] as number[], porcelain: [] as number[] };
  const baseRounds = 3;
  const freshPlain = async (side: PlainSide, i: number) => {
    const privateDir = path.join(options.dir, `${side}-${i}.git`);
    await plainGit(options.dir, ['init', '-q', '--bare', privateDir], {});
    fs.writeFileSync(path.join(privateDir, 'info', 'exclude'), 'node_modules/\n.DS_Store\n');
    await plainCheckpoint(side, folder, privateDir, path.join(options.dir, `${side}-${i}.index`), 'refs/bench/plain/0', null);
  };
  for (let i = 0; i < baseRounds; i++) {
    const keel = async () => {
      const result = await createCheckpoint(folder, { dataDir, runId: `bench-folder-${i}`, turn: 0 });
      if (result.kind !== 'created') throw new Error(`checkpoint skipped: ${result.detail}`);
    };
    await round(i, [
      { run: keel, ms: baseMs.keel },
      { run: () => freshPlain('plumbing', i), ms: baseMs.plumbing },
      { run: () => freshPlain('porcelain', i), ms: baseMs.porcelain },
    ]);
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
    turn: { ...figures(turnMs.keel, turnMs.plumbing, turnMs.porcelain), changed_files_per_turn: changedPerTurn, keel_git_calls_ms: turnBreakdown },
    baseline: figures(baseMs.keel, baseMs.plumbing, baseMs.porcelain),
    skip_ms: round1(skipMs),
  };
}
