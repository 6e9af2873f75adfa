// Checkpoints on real git repositories (issue 12, I7): a tree of the whole worktree in a hidden
// ref via a temporary index; the user's index, HEAD, branches, stash and files never touched.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointSidecar } from '../src/contract/index.js';
import {
  createCheckpoint,
  listCheckpoints,
  readSidecar,
  type CheckpointCreated,
  type CheckpointResult,
} from '../src/workspace/index.js';
import { busyRepo, git, keelRefs, removeTempDirs, tempDir, userState, worktreeFiles, write } from './fixtures/checkpoint-kit.js';

afterAll(removeTempDirs);

function created(result: CheckpointResult): CheckpointCreated {
  if (result.kind !== 'created') throw new Error(`expected a checkpoint, got skipped: ${result.reason} ${result.detail}`);
  return result;
}

/** The files of a checkpoint's tree (path -> mode + blob id). */
const treeOf = (repo: string, rev: string) =>
  Object.fromEntries(
    git(repo, ['ls-tree', '-r', '-z', rev])
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const [meta, file] = line.split('\t');
        const [mode, , id] = meta!.split(' ');
        return [file!, `${mode} ${id}`];
      }),
  );

describe('createCheckpoint in a git repository', () => {
  it('captures tracked, staged, unstaged and untracked-not-ignored files; touches nothing of the user (byte for byte)', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const before = userState(repo);
    const filesBefore = worktreeFiles(repo);
    const result = created(await createCheckpoint(repo, { dataDir: data, runId: 'run-a', turn: 0 }));
    const after = userState(repo);
    expect(after).toEqual(before);
    expect(after.indexAfter).toBe(before.indexBytes);
    expect(worktreeFiles(repo)).toEqual(filesBefore);

    expect(result.ref).toBe('refs/keel/checkpoints/run-a/0');
    expect(result.repo).toBe('git');
    expect(result.parent).toBeNull();
    expect(keelRefs(repo)).toEqual(['refs/keel/checkpoints/run-a/0']);
    expect(git(repo, ['rev-parse', result.ref]).trim()).toBe(result.commit);
    expect(git(repo, ['rev-parse', `${result.commit}^{tree}`]).trim()).toBe(result.tree);

    const tree = treeOf(repo, result.commit);
    // The worktree's content, not the index's: unstaged edits are in, ignored files are out.
    expect(Object.keys(tree).sort()).toEqual(['.gitignore', 'README.md', 'app-link', 'bin/run.sh', 'notes.txt', 'src/app.ts', 'src/staged.ts', 'src/util.ts']);
    expect(git(repo, ['show', `${result.commit}:README.md`])).toBe('# project\n\nstaged line\nunstaged line\n');
    expect(git(repo, ['show', `${result.commit}:src/app.ts`])).toBe('export const app = 2; // unstaged\n');
    expect(git(repo, ['show', `${result.commit}:src/util.ts`])).toBe('export const util = 1;\n'); // the stash is not the worktree
    expect(tree['bin/run.sh']).toMatch(/^100755 /);
    expect(tree['app-link']).toMatch(/^120000 /);
    // Not a branch, not in the stash, not HEAD's history.
    expect(git(repo, ['branch', '--list', '--all'])).not.toContain('keel');
    expect(git(repo, ['log', '--format=%H', 'HEAD'])).not.toContain(result.commit);
    expect(git(repo, ['log', '-1', '--format=%an <%ae>', result.commit]).trim()).toBe('Keel <keel@localhost>');
  });

  it('chains each turn to the previous checkpoint and describes what changed', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const base = created(await createCheckpoint(repo, { dataDir: data, runId: 'run-b', turn: 0 }));
    write(repo, 'src/app.ts', 'export const app = 3;\nexport const more = 4;\n');
    write(repo, 'src/new.ts', 'export const fresh = 1;\n');
    fs.rmSync(path.join(repo, 'notes.txt'));
    write(repo, 'build/out.js', 'ignored output\n');
    const before = userState(repo);
    const turn1 = created(await createCheckpoint(repo, { dataDir: data, runId: 'run-b', turn: 1 }));
    expect(userState(repo)).toEqual(before);
    expect(turn1.parent).toBe(base.commit);
    expect(git(repo, ['rev-parse', `${turn1.commit}^`]).trim()).toBe(base.commit);
    expect(turn1.filesChanged).toBe(3);
    expect(turn1.files).toEqual([
      { path: 'notes.txt', status: 'deleted', insertions: 0, deletions: 1 },
      { path: 'src/app.ts', status: 'modified', insertions: 2, deletions: 1 },
      { path: 'src/new.ts', status: 'added', insertions: 1, deletions: 0 },
    ]);
    expect(turn1.diffstat).toEqual({ files: 3, insertions: 3, deletions: 2 });
    // A turn that changed nothing still gets its checkpoint (same tree, no files).
    const turn2 = created(await createCheckpoint(repo, { dataDir: data, runId: 'run-b', turn: 2 }));
    expect(turn2.tree).toBe(turn1.tree);
    expect(turn2.filesChanged).toBe(0);
    expect(turn2.parent).toBe(turn1.commit);
    expect(keelRefs(repo)).toEqual(['refs/keel/checkpoints/run-b/0', 'refs/keel/checkpoints/run-b/1', 'refs/keel/checkpoints/run-b/2']);
  });

  it("never runs the user's hooks (git runs post-index-change for any index it writes)", async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const marker = path.join(data, 'hook-ran');
    write(repo, '.git/hooks/post-index-change', `#!/bin/sh\ntouch '${marker}'\n`);
    fs.chmodSync(path.join(repo, '.git/hooks/post-index-change'), 0o755);
    git(repo, ['add', 'notes.txt']); // proves the hook works: git runs it when the user's index is written
    expect(fs.existsSync(marker)).toBe(true);
    fs.rmSync(marker);
    created(await createCheckpoint(repo, { dataDir: data, runId: 'hooks', turn: 0 }));
    write(repo, 'src/app.ts', 'changed\n');
    created(await createCheckpoint(repo, { dataDir: data, runId: 'hooks', turn: 1 }));
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('two runs on one repository keep separate refs and parents', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const a = created(await createCheckpoint(repo, { dataDir: data, runId: 'run-1', turn: 0 }));
    const b = created(await createCheckpoint(repo, { dataDir: data, runId: 'run-2', turn: 0 }));
    write(repo, 'src/app.ts', 'changed\n');
    const a1 = created(await createCheckpoint(repo, { dataDir: data, runId: 'run-1', turn: 1 }));
    expect(a1.parent).toBe(a.commit);
    expect(b.tree).toBe(a.tree);
    expect(keelRefs(repo)).toEqual(['refs/keel/checkpoints/run-1/0', 'refs/keel/checkpoints/run-1/1', 'refs/keel/checkpoints/run-2/0']);
  });

  it('works mid-merge with conflicts in the index, and in a repository without any commit', async () => {
    const repo = tempDir('keel-cp-conflict-');
    git(repo, ['init', '-q', '-b', 'main']);
    write(repo, 'file.txt', 'base\n');
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'base']);
    git(repo, ['checkout', '-q', '-b', 'other']);
    write(repo, 'file.txt', 'other\n');
    git(repo, ['commit', '-q', '-am', 'other']);
    git(repo, ['checkout', '-q', 'main']);
    write(repo, 'file.txt', 'main\n');
    git(repo, ['commit', '-q', '-am', 'main']);
    expect(() => git(repo, ['merge', '-q', 'other'])).toThrow();
    expect(git(repo, ['ls-files', '-u'])).not.toBe(''); // unmerged entries in the real index
    const data = tempDir('keel-cp-data-');
    const before = userState(repo);
    const result = created(await createCheckpoint(repo, { dataDir: data, runId: 'merge', turn: 0 }));
    expect(userState(repo)).toEqual(before);
    expect(git(repo, ['show', `${result.commit}:file.txt`])).toContain('<<<<<<<');
    expect(fs.existsSync(path.join(repo, '.git/MERGE_HEAD'))).toBe(true);

    const empty = tempDir('keel-cp-fresh-');
    git(empty, ['init', '-q']);
    write(empty, 'a.txt', 'a\n');
    const fresh = created(await createCheckpoint(empty, { dataDir: data, runId: 'fresh', turn: 0 }));
    expect(Object.keys(treeOf(empty, fresh.commit))).toEqual(['a.txt']);
    expect(fs.existsSync(path.join(empty, '.git/index'))).toBe(false); // the user has no index; Keel made none
  });

  it('a workspace in a subdirectory checkpoints only that subdirectory', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    write(repo, 'src/deep/inner.ts', 'inner\n');
    const result = created(await createCheckpoint(path.join(repo, 'src'), { dataDir: data, runId: 'sub', turn: 0 }));
    expect(result.repoInfo.prefix).toBe('src/');
    expect(Object.keys(treeOf(repo, result.commit)).sort()).toEqual(['app.ts', 'deep/inner.ts', 'staged.ts', 'util.ts']);
    write(repo, 'README.md', 'outside the workspace\n');
    write(repo, 'src/app.ts', 'inside\n');
    const turn1 = created(await createCheckpoint(path.join(repo, 'src'), { dataDir: data, runId: 'sub', turn: 1 }));
    expect(turn1.files.map((file) => file.path)).toEqual(['app.ts']);
  });
});

describe('createCheckpoint in a folder that is not a git repository', () => {
  it("uses Keel's private repository in the data directory and leaves the folder exactly as it was", async () => {
    const folder = tempDir('keel-cp-plain-');
    write(folder, 'a.txt', 'a\n');
    write(folder, 'dir/b.txt', 'b\n');
    write(folder, 'node_modules/x/index.js', 'x\n');
    const data = tempDir('keel-cp-data-');
    const before = worktreeFiles(folder);
    const result = created(await createCheckpoint(folder, { dataDir: data, runId: 'plain', turn: 0 }));
    expect(worktreeFiles(folder)).toEqual(before);
    expect(fs.readdirSync(folder).sort()).toEqual(['a.txt', 'dir', 'node_modules']); // no .git, nothing added
    expect(result.repo).toBe('private');
    const gitDir = path.join(data, 'runs', 'plain', 'checkpoints.git');
    expect(result.repoInfo.gitDir).toBe(gitDir);
    expect(git(data, ['--git-dir', gitDir, 'for-each-ref', '--format=%(refname)']).trim()).toBe('refs/keel/checkpoints/plain/0');
    const files = git(data, ['--git-dir', gitDir, 'ls-tree', '-r', '--name-only', result.commit]).trim().split('\n');
    expect(files).toEqual(['a.txt', 'dir/b.txt']); // node_modules/ is excluded in private repositories
    expect(fs.statSync(gitDir).mode & 0o777).toBe(0o700);
    write(folder, 'a.txt', 'changed\n');
    const turn1 = created(await createCheckpoint(folder, { dataDir: data, runId: 'plain', turn: 1 }));
    expect(turn1.files).toEqual([{ path: 'a.txt', status: 'modified', insertions: 1, deletions: 1 }]);
    // A `git init` in the folder mid-run does not move the run's checkpoints.
    git(folder, ['init', '-q']);
    const turn2 = created(await createCheckpoint(folder, { dataDir: data, runId: 'plain', turn: 2 }));
    expect(turn2.repo).toBe('private');
    expect(git(folder, ['for-each-ref', 'refs/keel'])).toBe('');
  });
});

describe('the budget', () => {
  it('over the byte budget: skipped with the reason, nothing hashed, no ref', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    write(repo, 'big.bin', Buffer.alloc(300 * 1024, 7));
    const before = userState(repo);
    const objectsBefore = git(repo, ['count-objects', '-v']);
    const result = await createCheckpoint(repo, { dataDir: data, runId: 'big', turn: 0, budget: { maxBytes: 256 * 1024 } });
    expect(result.kind).toBe('skipped');
    if (result.kind !== 'skipped') return;
    expect(result.reason).toBe('over_byte_budget');
    expect(result.skipped).toBe('over_byte_budget');
    expect(result.bytes).toBeGreaterThan(300 * 1024);
    expect(result.detail).toMatch(/over the budget/);
    expect(keelRefs(repo)).toEqual([]);
    expect(git(repo, ['count-objects', '-v'])).toBe(objectsBefore);
    expect(userState(repo)).toEqual(before);
    const sidecar = readSidecar(data, 'big', 0);
    expect(sidecar.ok && sidecar.value.status).toBe('skipped');
  });

  it('over the time budget: the git child is killed and the checkpoint answers skipped, never hangs', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    // A clean filter that takes 20 s (as a slow LFS filter would) on an untracked file.
    git(repo, ['config', 'filter.slow.clean', 'sleep 20; cat']);
    write(repo, '.gitattributes', '*.slow filter=slow\n');
    write(repo, 'data.slow', 'slow content\n');
    const started = Date.now();
    const result = await createCheckpoint(repo, { dataDir: data, runId: 'slow', turn: 0, budget: { timeMs: 800 } });
    const took = Date.now() - started;
    expect(result.kind).toBe('skipped');
    if (result.kind === 'skipped') expect(result.reason).toBe('over_time_budget');
    expect(took).toBeLessThan(800 + 2_500);
    expect(keelRefs(repo)).toEqual([]);
  });

  it('a cancelled checkpoint is skipped as aborted', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const controller = new AbortController();
    controller.abort();
    const result = await createCheckpoint(repo, { dataDir: data, runId: 'cancel', turn: 0, signal: controller.signal });
    expect(result.kind === 'skipped' && result.reason).toBe('aborted');
  });

  it('a missing workspace is skipped with the reason', async () => {
    const data = tempDir('keel-cp-data-');
    const result = await createCheckpoint(path.join(data, 'nope'), { dataDir: data, runId: 'gone', turn: 0 });
    expect(result.kind === 'skipped' && result.reason).toBe('workspace_missing');
  });
});

describe('sidecars', () => {
  it('are versioned, sealed with the sha256 of their content, and a damaged one is reported and ignored', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const result = created(await createCheckpoint(repo, { dataDir: data, runId: 'side', turn: 0 }));
    const file = path.join(data, 'runs', 'side', 'checkpoints', '0.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(json.schema_version).toBe(1);
    expect(json.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(CheckpointSidecar.parse(json).created?.commit).toBe(result.commit);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const read = readSidecar(data, 'side', 0);
    expect(read.ok && read.value.created?.tree).toBe(result.tree);

    // Tamper: a changed commit id with the old seal.
    fs.writeFileSync(file, JSON.stringify({ ...json, created: { ...json.created, filesChanged: 999 } }));
    const damaged = readSidecar(data, 'side', 0);
    expect(damaged.ok).toBe(false);
    if (!damaged.ok) expect(damaged.problem).toBe('checksum');
    const listing = await listCheckpoints({ dataDir: data, runId: 'side', workspace: repo });
    expect(listing.problems.map((problem) => problem.problem)).toEqual(['checksum']);
    expect(listing.checkpoints).toMatchObject([{ turn: 0, status: 'ref_only', commit: result.commit, filesChanged: null }]);

    fs.writeFileSync(file, '{"schema_version": 1, "sha2');
    const torn = readSidecar(data, 'side', 0);
    expect(!torn.ok && torn.problem).toBe('not_json');
    fs.writeFileSync(file, JSON.stringify({ ...json, schema_version: 99 }));
    const newer = readSidecar(data, 'side', 0);
    expect(!newer.ok && newer.problem).toBe('newer_version');
  });

  it('list merges refs and sidecars: created, skipped, and a ref whose sidecar is missing', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    created(await createCheckpoint(repo, { dataDir: data, runId: 'lst', turn: 0 }));
    write(repo, 'huge.bin', Buffer.alloc(64 * 1024, 1));
    const skipped = await createCheckpoint(repo, { dataDir: data, runId: 'lst', turn: 1, budget: { maxBytes: 1024 } });
    expect(skipped.kind).toBe('skipped');
    created(await createCheckpoint(repo, { dataDir: data, runId: 'lst', turn: 2 }));
    fs.rmSync(path.join(data, 'runs', 'lst', 'checkpoints', '2.json'));
    const listing = await listCheckpoints({ dataDir: data, runId: 'lst' });
    expect(listing.repo?.kind).toBe('git');
    expect(listing.checkpoints.map((entry) => [entry.turn, entry.status, entry.skipReason])).toEqual([
      [0, 'created', null],
      [1, 'skipped', 'over_byte_budget'],
      [2, 'ref_only', null],
    ]);
  });
});
