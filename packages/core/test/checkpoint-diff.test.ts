// Diffs between checkpoints, drift since a checkpoint, and lockfile forensics (issue 12).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DepsChangedPayload, WorkspaceDriftPayload } from '../src/contract/index.js';
import {
  comparePackages,
  createCheckpoint,
  depsChangedInTurn,
  diffBetween,
  diffTurn,
  driftSince,
  lockfileChanges,
  parseLockfile,
  resolveCheckpointRepo,
  splitPatch,
  type CheckpointCreated,
} from '../src/workspace/index.js';
import { busyRepo, git, removeTempDirs, tempDir, write } from './fixtures/checkpoint-kit.js';

afterAll(removeTempDirs);

async function checkpoint(workspace: string, data: string, runId: string, turn: number): Promise<CheckpointCreated> {
  const result = await createCheckpoint(workspace, { dataDir: data, runId, turn });
  if (result.kind !== 'created') throw new Error(result.detail);
  return result;
}

describe('diffBetween and diffTurn', () => {
  it('lists the files a turn changed with unified diffs from its two checkpoints', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const base = await checkpoint(repo, data, 'diff', 0);
    write(repo, 'src/app.ts', 'export const app = 3;\n');
    write(repo, 'weird name "quoted"\tand tab.txt', 'odd\n');
    write(repo, 'image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0, 0]));
    fs.rmSync(path.join(repo, 'notes.txt'));
    fs.rmSync(path.join(repo, 'app-link'));
    write(repo, 'app-link', 'now a regular file\n');
    const turn1 = await checkpoint(repo, data, 'diff', 1);
    const repoInfo = await resolveCheckpointRepo(repo, { dataDir: data, runId: 'diff' });
    const diff = await diffBetween(repoInfo, base.commit, turn1.commit);
    const byPath = Object.fromEntries(diff.files.map((file) => [file.path, file]));
    expect(Object.keys(byPath).sort()).toEqual(['app-link', 'image.png', 'notes.txt', 'src/app.ts', 'weird name "quoted"\tand tab.txt']);
    expect(byPath['src/app.ts']).toMatchObject({ status: 'modified', insertions: 1, deletions: 1, binary: false, patchTruncated: false });
    expect(byPath['src/app.ts']!.patch).toContain('-export const app = 2; // unstaged\n+export const app = 3;\n');
    expect(byPath['src/app.ts']!.patch.startsWith('diff --git a/src/app.ts b/src/app.ts\n')).toBe(true);
    expect(byPath['image.png']).toMatchObject({ status: 'added', binary: true, insertions: null });
    expect(byPath['image.png']!.patch).toMatch(/Binary files/);
    expect(byPath['notes.txt']).toMatchObject({ status: 'deleted', deletions: 1 });
    expect(byPath['app-link']).toMatchObject({ status: 'type_changed' });
    expect(byPath['app-link']!.patch).toContain('now a regular file');
    expect(byPath['weird name "quoted"\tand tab.txt']!.patch).toContain('+odd');
    expect(diff.diffstat.files).toBe(5);

    const viaTurn = await diffTurn(repo, { dataDir: data, runId: 'diff', turn: 1 });
    expect(viaTurn.fromTurn).toBe(0);
    expect(viaTurn.files.map((file) => file.path)).toEqual(diff.files.map((file) => file.path));
    const baseline = await diffTurn(repo, { dataDir: data, runId: 'diff', turn: 0 });
    expect(baseline.fromTurn).toBeNull();
    expect(baseline.files.every((file) => file.status === 'added')).toBe(true);
    await expect(diffTurn(repo, { dataDir: data, runId: 'diff', turn: 7 })).rejects.toThrow(/no checkpoint for turn 7/);
  });

  it('caps patches: per file bytes and number of files with a patch', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const base = await checkpoint(repo, data, 'cap', 0);
    write(repo, 'big.txt', `${'line\n'.repeat(5000)}`);
    for (let i = 0; i < 5; i++) write(repo, `many/f${i}.txt`, `${i}\n`);
    const turn1 = await checkpoint(repo, data, 'cap', 1);
    const repoInfo = await resolveCheckpointRepo(repo, { dataDir: data, runId: 'cap' });
    const diff = await diffBetween(repoInfo, base.commit, turn1.commit, { maxPatchBytes: 1000, maxPatchFiles: 3 });
    expect(diff.files).toHaveLength(6);
    const big = diff.files.find((file) => file.path === 'big.txt')!;
    expect(big.patch.length).toBe(1000);
    expect(big.patchTruncated).toBe(true);
    expect(big.insertions).toBe(5000);
    expect(diff.files.filter((file) => file.patch === '')).toHaveLength(3);
  });

  it('splitPatch names every section by its path, quoted ones included', () => {
    const out = [
      'diff --git a/a b/a\nindex 1..2\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-diff --git a/x b/x\n+y\n',
      'diff --git "a/t\\tab" "b/t\\tab"\nnew file mode 100644\n',
      'diff --git a/\xe4 b/\xe4\n',
    ].join('');
    expect(splitPatch(out).map(([file]) => file)).toEqual(['a', 't\tab', '\xe4']);
  });
});

describe('driftSince', () => {
  it('reports files changed outside the run since its last checkpoint, and nothing when nothing changed', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    expect(await driftSince(repo, { dataDir: data, runId: 'drift' })).toMatchObject({ kind: 'no_checkpoint' });
    await checkpoint(repo, data, 'drift', 0);
    const turn1 = await checkpoint(repo, data, 'drift', 1);
    const none = await driftSince(repo, { dataDir: data, runId: 'drift' });
    expect(none).toMatchObject({ kind: 'drift', count: 0, files: [], sinceTurn: 1, sinceCommit: turn1.commit });
    const before = fs.readFileSync(path.join(repo, '.git/index'));
    write(repo, 'src/app.ts', 'edited by the user while Keel was closed\n');
    write(repo, 'scratch.txt', 'new\n');
    fs.rmSync(path.join(repo, 'src/util.ts'));
    write(repo, 'debug.log', 'ignored: not drift\n');
    const drift = await driftSince(repo, { dataDir: data, runId: 'drift' });
    expect(drift.kind).toBe('drift');
    if (drift.kind !== 'drift') return;
    expect(drift.files).toEqual([
      { path: 'scratch.txt', status: 'added' },
      { path: 'src/app.ts', status: 'modified' },
      { path: 'src/util.ts', status: 'deleted' },
    ]);
    expect(drift.count).toBe(3);
    const { kind: _kind, ...payload } = drift;
    expect(WorkspaceDriftPayload.parse(payload)).toEqual(payload);
    expect(fs.readFileSync(path.join(repo, '.git/index')).equals(before)).toBe(true);
    // Since an older turn, by number.
    const sinceBase = await driftSince(repo, { dataDir: data, runId: 'drift', since: { turn: 0 } });
    expect(sinceBase.kind === 'drift' && sinceBase.sinceTurn).toBe(0);
  });

  it('is bounded by the same budget as a checkpoint', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    await checkpoint(repo, data, 'drift-big', 0);
    write(repo, 'blob.bin', Buffer.alloc(50_000, 9));
    expect(await driftSince(repo, { dataDir: data, runId: 'drift-big', budget: { maxBytes: 10_000 } })).toMatchObject({ kind: 'skipped', reason: 'over_byte_budget' });
  });
});

describe('readers', () => {
  it('create nothing in the data directory for a run without checkpoints', async () => {
    const data = tempDir('keel-cp-data-');
    const folder = tempDir('keel-cp-plain-');
    write(folder, 'a.txt', 'a\n');
    const { listCheckpoints, restoreCheckpoint } = await import('../src/workspace/index.js');
    expect((await listCheckpoints({ dataDir: data, runId: 'none', workspace: folder })).checkpoints).toEqual([]);
    await expect(diffTurn(folder, { dataDir: data, runId: 'none', turn: 1 })).rejects.toThrow(/no checkpoint for turn 1/);
    expect(await driftSince(folder, { dataDir: data, runId: 'none' })).toMatchObject({ kind: 'no_checkpoint' });
    expect(await restoreCheckpoint(folder, { turn: 0 }, { dataDir: data, runId: 'none' })).toMatchObject({ kind: 'failed', reason: 'target_missing' });
    expect(fs.readdirSync(data)).toEqual([]);
  });
});

// ---- lockfiles ------------------------------------------------------------------------------

const npmV3 = (deps: Record<string, string>, nested: Record<string, string> = {}) =>
  JSON.stringify(
    {
      name: 'app',
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0' },
        'packages/lib': { name: '@app/lib', version: '0.1.0' },
        'node_modules/@app/lib': { resolved: 'packages/lib', link: true },
        ...Object.fromEntries(Object.entries(deps).map(([name, version]) => [`node_modules/${name}`, { version }])),
        ...Object.fromEntries(Object.entries(nested).map(([key, version]) => [key, { version }])),
      },
    },
    null,
    2,
  );

describe('lockfile parsers', () => {
  it('npm package-lock v2/v3 (nested copies, links and workspaces skipped) and v1', () => {
    const v3 = parseLockfile('package-lock.json', npmV3({ lodash: '4.17.21', '@scope/pkg': '1.0.0' }, { 'node_modules/a/node_modules/lodash': '3.10.1' }));
    expect(Object.fromEntries([...v3.packages].map(([name, versions]) => [name, [...versions].sort()]))).toEqual({
      lodash: ['3.10.1', '4.17.21'],
      '@scope/pkg': ['1.0.0'],
    });
    const v1 = parseLockfile('package-lock.json', JSON.stringify({ lockfileVersion: 1, dependencies: { a: { version: '1.0.0', dependencies: { b: { version: '2.0.0' } } } } }));
    expect([...v1.packages.keys()].sort()).toEqual(['a', 'b']);
  });

  it('pnpm-lock.yaml v9, v6 and v5 keys', () => {
    const v9 = parseLockfile('pnpm-lock.yaml', "lockfileVersion: '9.0'\npackages:\n  lodash@4.17.21:\n    resolution: {integrity: x}\n  '@babel/core@7.24.0':\n    resolution: {integrity: y}\n");
    expect([...v9.packages].map(([name, v]) => `${name}@${[...v]}`)).toEqual(['lodash@4.17.21', '@babel/core@7.24.0']);
    const v6 = parseLockfile('pnpm-lock.yaml', "lockfileVersion: '6.0'\npackages:\n  /react-dom@18.2.0(react@18.2.0):\n    resolution: {integrity: x}\n");
    expect([...v6.packages].map(([name, v]) => `${name}@${[...v]}`)).toEqual(['react-dom@18.2.0']);
    const v5 = parseLockfile('pnpm-lock.yaml', 'lockfileVersion: 5.4\npackages:\n  /@types/node/20.1.0:\n    resolution: {integrity: x}\n  /ws/8.0.0_bufferutil@4.0.0:\n    resolution: {integrity: y}\n');
    expect([...v5.packages].map(([name, v]) => `${name}@${[...v]}`)).toEqual(['@types/node@20.1.0', 'ws@8.0.0']);
  });

  it('yarn.lock v1 and berry; Cargo.lock and poetry.lock', () => {
    const v1 = parseLockfile(
      'yarn.lock',
      '# yarn lockfile v1\n\n"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":\n  version "7.12.13"\n  resolved "https://x"\n\nlodash@^4.17.0:\n  version "4.17.21"\n',
    );
    expect(v1.kind).toBe('yarn');
    expect([...v1.packages].map(([name, v]) => `${name}@${[...v]}`)).toEqual(['@babel/code-frame@7.12.13', 'lodash@4.17.21']);
    const berry = parseLockfile(
      'yarn.lock',
      '__metadata:\n  version: 6\n\n"lodash@npm:^4.17.0":\n  version: 4.17.21\n  resolution: "lodash@npm:4.17.21"\n\n"app@workspace:.":\n  version: 0.0.0-use.local\n  resolution: "app@workspace:."\n',
    );
    expect(berry.kind).toBe('yarn-berry');
    expect([...berry.packages].map(([name, v]) => `${name}@${[...v]}`)).toEqual(['lodash@4.17.21']);
    const cargo = parseLockfile('Cargo.lock', 'version = 3\n\n[[package]]\nname = "serde"\nversion = "1.0.190"\n\n[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = [\n "serde",\n]\n');
    expect([...cargo.packages].map(([name, v]) => `${name}@${[...v]}`)).toEqual(['serde@1.0.190', 'app@0.1.0']);
    const poetry = parseLockfile('poetry.lock', '[[package]]\nname = "requests"\nversion = "2.31.0"\n\n[package.dependencies]\nurllib3 = ">=1.21"\n\n[metadata]\nlock-version = "2.0"\n');
    expect([...poetry.packages].map(([name, v]) => `${name}@${[...v]}`)).toEqual(['requests@2.31.0']);
  });

  it('compares: added, removed, updated (version sets)', () => {
    const before = new Map([
      ['a', new Set(['1.0.0'])],
      ['b', new Set(['2.0.0'])],
      ['c', new Set(['1.0.0', '2.0.0'])],
    ]);
    const after = new Map([
      ['a', new Set(['1.1.0'])],
      ['c', new Set(['2.0.0', '1.0.0'])],
      ['d', new Set(['0.1.0'])],
    ]);
    expect(comparePackages(before, after)).toEqual({
      added: [{ name: 'd', versions: ['0.1.0'] }],
      removed: [{ name: 'b', versions: ['2.0.0'] }],
      updated: [{ name: 'a', from: ['1.0.0'], to: ['1.1.0'] }],
    });
  });
});

describe('lockfile forensics between checkpoints', () => {
  it('reports packages added, removed and updated per lockfile, with totals and diffstat', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    write(repo, 'package-lock.json', npmV3({ lodash: '4.17.20', left: '1.0.0' }));
    write(repo, 'packages/web/yarn.lock', '# yarn lockfile v1\n\nreact@^18.0.0:\n  version "18.2.0"\n');
    await checkpoint(repo, data, 'deps', 0);
    write(repo, 'src/app.ts', 'not a lockfile\n');
    expect(await depsChangedInTurn(repo, { dataDir: data, runId: 'deps', turn: 0 })).not.toBeNull(); // the baseline adds them
    await checkpoint(repo, data, 'deps', 1);
    expect(await depsChangedInTurn(repo, { dataDir: data, runId: 'deps', turn: 1 })).toBeNull();
    write(repo, 'package-lock.json', npmV3({ lodash: '4.17.21', 'evil-pkg': '0.0.1', '@types/node': '20.0.0' }));
    write(repo, 'packages/web/yarn.lock', '# yarn lockfile v1\n\nreact@^18.0.0:\n  version "18.3.1"\n');
    write(repo, 'Cargo.lock', 'broken = [\n');
    await checkpoint(repo, data, 'deps', 2);
    const payload = await depsChangedInTurn(repo, { dataDir: data, runId: 'deps', turn: 2 });
    expect(payload).not.toBeNull();
    expect(DepsChangedPayload.parse(payload)).toEqual(payload);
    expect(payload!.turn).toBe(2);
    expect(payload!.fromTurn).toBe(1);
    const npm = payload!.lockfiles.find((file) => file.path === 'package-lock.json')!;
    expect(npm).toMatchObject({
      kind: 'npm',
      status: 'modified',
      added: [
        { name: '@types/node', versions: ['20.0.0'] },
        { name: 'evil-pkg', versions: ['0.0.1'] },
      ],
      removed: [{ name: 'left', versions: ['1.0.0'] }],
      updated: [{ name: 'lodash', from: ['4.17.20'], to: ['4.17.21'] }],
      parseError: null,
    });
    expect(npm.diffstat.insertions).toBeGreaterThan(0);
    const yarn = payload!.lockfiles.find((file) => file.path === 'packages/web/yarn.lock')!;
    expect(yarn.updated).toEqual([{ name: 'react', from: ['18.2.0'], to: ['18.3.1'] }]);
    const cargo = payload!.lockfiles.find((file) => file.path === 'Cargo.lock')!;
    expect(cargo.status).toBe('added');
    expect(cargo.added).toEqual([]); // "broken" parses as no packages: an empty table list
    expect(payload!.totals).toEqual({ added: 2, removed: 1, updated: 2 });
    expect(payload!.diffstat.files).toBe(3);

    const repoInfo = await resolveCheckpointRepo(repo, { dataDir: data, runId: 'deps' });
    const direct = await lockfileChanges(repoInfo, 'refs/keel/checkpoints/deps/1', 'refs/keel/checkpoints/deps/2');
    expect(direct.totals).toEqual(payload!.totals);
  });

  it('a lockfile that does not parse is reported with parseError, never guessed', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    write(repo, 'package-lock.json', npmV3({ a: '1.0.0' }));
    await checkpoint(repo, data, 'bad-lock', 0);
    write(repo, 'package-lock.json', '{ "lockfileVersion": 3, "packages": { oops');
    await checkpoint(repo, data, 'bad-lock', 1);
    const payload = await depsChangedInTurn(repo, { dataDir: data, runId: 'bad-lock', turn: 1 });
    const npm = payload!.lockfiles[0]!;
    expect(npm.parseError).toMatch(/package-lock.json at [0-9a-f]{12}/);
    expect(npm.added).toEqual([]);
    expect(npm.diffstat.files).toBe(1);
    expect(git(repo, ['status', '--porcelain', '--', 'package-lock.json'], { env: { GIT_OPTIONAL_LOCKS: '0' } })).toContain('package-lock.json');
  });
});
