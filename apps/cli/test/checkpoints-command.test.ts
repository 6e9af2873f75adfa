// `keel checkpoints list|diff` and `keel gc` end to end: the real CLI process on real repositories.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint, createRunWorktree } from '@keel/core';
import { requireBuilt, runKeel } from '../../../packages/core/test/fixtures/runtime-kit.js';
import { busyRepo, keelRefs, removeTempDirs, tempDir, write } from '../../../packages/core/test/fixtures/checkpoint-kit.js';

let data: string;
let repo: string;

beforeAll(async () => {
  requireBuilt();
  data = tempDir('keel-cli-cp-data-');
  repo = busyRepo();
  fs.mkdirSync(path.join(data, 'ledger'), { recursive: true });
  fs.writeFileSync(path.join(data, 'ledger', 'run-cli.ndjson'), '');
  await createCheckpoint(repo, { dataDir: data, runId: 'run-cli', turn: 0 });
  write(repo, 'src/app.ts', 'export const app = "from the agent";\n');
  write(repo, 'src/added.ts', 'export const added = 1;\n');
  await createCheckpoint(repo, { dataDir: data, runId: 'run-cli', turn: 1 });
  write(repo, 'huge.bin', Buffer.alloc(32 * 1024, 1));
  await createCheckpoint(repo, { dataDir: data, runId: 'run-cli', turn: 2, budget: { maxBytes: 1024 } });
  // A run the ledger does not know (deleted): gc prunes it.
  await createCheckpoint(repo, { dataDir: data, runId: 'run-gone', turn: 0 });
  // ...and its worktree, clean: gc removes it (the branch stays).
  await createRunWorktree(repo, { dataDir: data, runId: 'run-gone' });
});
afterAll(removeTempDirs);

describe('keel checkpoints', () => {
  it('list --json: refs and sidecars of a run', async () => {
    const result = await runKeel(['checkpoints', 'list', '--data', data, '--run', 'run-cli', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const listing = JSON.parse(result.stdout);
    expect(listing.repo.kind).toBe('git');
    expect(listing.checkpoints.map((entry: { turn: number; status: string }) => [entry.turn, entry.status])).toEqual([
      [0, 'created'],
      [1, 'created'],
      [2, 'skipped'],
    ]);
    expect(listing.checkpoints[1].filesChanged).toBe(2);
  });

  it('list: one line per checkpoint, a skipped one with its reason', async () => {
    const result = await runKeel(['checkpoints', 'list', '--data', data, '--run', 'run-cli']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/baseline\s+[0-9a-f]{12}/);
    expect(result.stdout).toMatch(/turn 1\s+[0-9a-f]{12} .* 2 file\(s\), \+2 -1/);
    expect(result.stdout).toMatch(/turn 2\s+SKIPPED .* over_byte_budget/);
  });

  it('diff --turn N: the files and unified diffs of that turn', async () => {
    const result = await runKeel(['checkpoints', 'diff', '--data', data, '--run', 'run-cli', '--turn', '1']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('turn 1 against the baseline: 2 file(s), +2 -1');
    expect(result.stdout).toMatch(/added\s+src\/added.ts/);
    expect(result.stdout).toContain('+export const app = "from the agent";');
    const json = JSON.parse((await runKeel(['checkpoints', 'diff', '--data', data, '--run', 'run-cli', '--turn', '1', '--json'])).stdout);
    expect(json.files.map((file: { path: string }) => file.path)).toEqual(['src/added.ts', 'src/app.ts']);
  });

  it('diff of a turn without a checkpoint fails with a message', async () => {
    const result = await runKeel(['checkpoints', 'diff', '--data', data, '--run', 'run-cli', '--turn', '5']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no checkpoint for turn 5');
  });
});

describe('keel gc', () => {
  it('--dry-run --json removes nothing and says what would go', async () => {
    const before = keelRefs(repo);
    const result = await runKeel(['gc', '--data', data, '--dry-run', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.dryRun).toBe(true);
    expect(report.runsCleared).toEqual(['run-gone']);
    expect(report.worktrees.removed.map((entry: { runId: string }) => entry.runId)).toEqual(['run-gone']);
    expect(keelRefs(repo)).toEqual(before);
    expect(fs.existsSync(path.join(data, 'worktrees', 'run-gone'))).toBe(true);
  });

  it('prunes the run the ledger does not know, prints what it removed and the space', async () => {
    const result = await runKeel(['gc', '--data', data]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('removed refs/keel/checkpoints/run-gone/0 and its sidecar (run run-gone, deleted run)');
    expect(result.stdout).toMatch(/1 checkpoint\(s\) of 1 run\(s\) removed; .* freed in the data directory/);
    expect(keelRefs(repo).some((ref) => ref.includes('run-gone'))).toBe(false);
    expect(keelRefs(repo).filter((ref) => ref.includes('run-cli'))).toHaveLength(2);
    expect(result.stdout).toContain(`removed worktree ${path.join(data, 'worktrees', 'run-gone')} (run run-gone, deleted run;`);
    expect(fs.existsSync(path.join(data, 'worktrees', 'run-gone'))).toBe(false);
  });

  it('rejects a malformed --older-than', async () => {
    const result = await runKeel(['gc', '--data', data, '--older-than', 'soon']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--older-than takes an age');
  });
});
