// `keel gc` and run worktrees (issue 12 point 9): abandoned worktrees (their run gone from the
// ledger, or pruned for age) are removed with `git worktree remove`; a dirty one never is; the
// run's branch stays; a dry run removes nothing. Real git repositories and worktrees.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunWorktree } from '../src/workspace/index.js';
import { gcWorktrees } from '../src/workspace/worktree-gc.js';
import { busyRepo, git, tempDir, userState, write } from './fixtures/checkpoint-kit.js';

const RUN_A = '01J00000000000000000000AAA';
const RUN_B = '01J00000000000000000000BBB';
const RUN_C = '01J00000000000000000000CCC';

async function setup() {
  const repo = busyRepo();
  const dataDir = tempDir('keel-wt-gc-data-');
  const trees = {
    a: await createRunWorktree(repo, { dataDir, runId: RUN_A }),
    b: await createRunWorktree(repo, { dataDir, runId: RUN_B }),
    c: await createRunWorktree(repo, { dataDir, runId: RUN_C }),
  };
  return { repo, dataDir, trees };
}

describe('gc of run worktrees', () => {
  it('removes the clean worktrees of deleted and expired runs, keeps a dirty one and every live one, and never a branch', async () => {
    const { repo, dataDir, trees } = await setup();
    write(trees.c.path, 'agent-work.txt', 'not in any checkpoint\n');
    // `git branch -v` marks a branch checked out in another worktree; the tips (heads) are what must not move.
    const userStateOf = (dir: string) => {
      const { branches: _marks, ...rest } = userState(dir);
      return rest;
    };
    const before = userStateOf(repo);
    // A is live; B was deleted from the ledger; C was deleted too but is dirty.
    const dry = await gcWorktrees({ dataDir, knownRuns: new Set([RUN_A]), dryRun: true });
    expect(dry.removed.map((entry) => [entry.runId, entry.reason])).toEqual([[RUN_B, 'deleted_run']]);
    expect(fs.existsSync(trees.b.path)).toBe(true); // a dry run removes nothing

    const result = await gcWorktrees({ dataDir, knownRuns: new Set([RUN_A]) });
    expect(result.removed.map((entry) => entry.runId)).toEqual([RUN_B]);
    expect(result.removed[0]!.bytes).toBeGreaterThan(0);
    expect(result.kept).toEqual([{ runId: RUN_C, path: path.join(dataDir, 'worktrees', RUN_C), why: expect.stringContaining('1 uncommitted change') }]);
    expect(fs.existsSync(trees.a.path)).toBe(true);
    expect(fs.existsSync(trees.b.path)).toBe(false);
    expect(fs.readFileSync(path.join(trees.c.path, 'agent-work.txt'), 'utf8')).toBe('not in any checkpoint\n');
    // git forgot B's worktree; every keel/ branch is still there; the user's repository is as it was.
    expect(git(repo, ['worktree', 'list', '--porcelain'])).not.toContain(RUN_B);
    expect(git(repo, ['branch', '--list', 'keel/*']).split('\n').map((line) => line.replace(/^[*+ ]+/, '').trim()).filter(Boolean).sort()).toEqual(
      [`keel/${RUN_A}`, `keel/${RUN_B}`, `keel/${RUN_C}`].sort(),
    );
    expect(userStateOf(repo)).toEqual(before);
  });

  it('removes the worktree of a run pruned for age, and leaves a folder git does not know, with the reason', async () => {
    const { dataDir, trees } = await setup();
    const stray = path.join(dataDir, 'worktrees', '01J00000000000000000000DDD');
    fs.mkdirSync(stray);
    const result = await gcWorktrees({ dataDir, knownRuns: new Set([RUN_A, RUN_B, RUN_C, '01J00000000000000000000DDD']), expiredRuns: new Set([RUN_A, '01J00000000000000000000DDD']) });
    expect(result.removed.map((entry) => [entry.runId, entry.reason])).toEqual([[RUN_A, 'older_than']]);
    expect(fs.existsSync(trees.a.path)).toBe(false);
    expect(fs.existsSync(stray)).toBe(true);
    expect(result.problems).toEqual([expect.stringContaining('is not a git worktree any more')]);
  });

  it('with no ledger found, treats no run as deleted and removes nothing', async () => {
    const { dataDir, trees } = await setup();
    const result = await gcWorktrees({ dataDir, knownRuns: null });
    expect(result.removed).toEqual([]);
    for (const tree of Object.values(trees)) expect(fs.existsSync(tree.path)).toBe(true);
  });
});
