// The changes view's core (issue 15, point 19): a run's changes between checkpoints, or to the
// working tree now, on real git repositories (the user's, and Keel's private one for a plain
// folder); one file's texts on demand, capped, binary detected, and only for a listed file.
// The user's index, HEAD, branches and stash stay byte-identical (I7).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunChangeFile, RunChanges } from '../src/contract/index.js';
import { ChangeFileRefusedError, ChangesRangeError, createCheckpoint, runChangeFile, runChanges } from '../src/workspace/index.js';
import { busyRepo, git, removeTempDirs, tempDir, userState, write } from './fixtures/checkpoint-kit.js';

afterAll(removeTempDirs);

async function checkpoint(workspace: string, dataDir: string, runId: string, turn: number): Promise<void> {
  const result = await createCheckpoint(workspace, { dataDir, runId, turn });
  if (result.kind !== 'created') throw new Error(result.detail);
}

const lines = (count: number, tag = 'line') => Array.from({ length: count }, (_, i) => `${tag} ${i + 1}`).join('\n') + '\n';

describe('runChanges', () => {
  it('lists added, modified, deleted, renamed and binary files with line counts, and never touches the index or HEAD', async () => {
    const repo = busyRepo();
    const dataDir = tempDir('keel-changes-data-');
    write(repo, 'docs/guide.md', lines(40));
    write(repo, 'logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
    await checkpoint(repo, dataDir, 'ch1', 0);
    // Turn 1: modify, add, delete, rename with an edit, change a binary file.
    write(repo, 'src/app.ts', 'export const app = 3;\nexport const more = true;\n');
    write(repo, 'src/new.ts', 'export const fresh = 1;\n');
    fs.rmSync(path.join(repo, 'notes.txt'));
    fs.renameSync(path.join(repo, 'docs/guide.md'), path.join(repo, 'docs/manual.md'));
    fs.appendFileSync(path.join(repo, 'docs/manual.md'), 'one more line\n');
    write(repo, 'logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 9, 9, 9, 9]));
    await checkpoint(repo, dataDir, 'ch1', 1);
    // Turn 2: one more edit.
    write(repo, 'src/new.ts', 'export const fresh = 2;\n');
    await checkpoint(repo, dataDir, 'ch1', 2);

    const before = userState(repo);
    const whole = RunChanges.parse(await runChanges(repo, { dataDir, runId: 'ch1' }));
    expect(whole.from).toBe(0);
    expect(whole.to).toBe(2);
    expect(whole.checkpoints.map((entry) => entry.turn)).toEqual([0, 1, 2]);
    expect(whole.note).toBeNull();
    const byPath = Object.fromEntries(whole.files.map((file) => [file.path, file]));
    expect(Object.keys(byPath)).toEqual(['docs/manual.md', 'logo.png', 'notes.txt', 'src/app.ts', 'src/new.ts']);
    expect(byPath['src/app.ts']).toMatchObject({ status: 'modified', added: 2, removed: 1, binary: false, oldPath: null });
    expect(byPath['src/new.ts']).toMatchObject({ status: 'added', added: 1, removed: 0, oldKind: null, newKind: 'file' });
    expect(byPath['notes.txt']).toMatchObject({ status: 'deleted', added: 0, removed: 1, newKind: null });
    expect(byPath['docs/manual.md']).toMatchObject({ status: 'renamed', oldPath: 'docs/guide.md', added: 1, removed: 0 });
    expect(byPath['docs/manual.md']!.similarity).toBeGreaterThan(50);
    expect(byPath['logo.png']).toMatchObject({ status: 'modified', binary: true, added: null, removed: null });
    expect(whole.totals).toEqual({ files: 5, added: 4, removed: 2 });

    // A single turn: turn 1 -> turn 2.
    const turn2 = await runChanges(repo, { dataDir, runId: 'ch1', from: 1, to: 2 });
    expect(turn2.files.map((file) => [file.path, file.status, file.added, file.removed])).toEqual([['src/new.ts', 'modified', 1, 1]]);

    // Old and new texts of one file; a binary file comes without text.
    const app = RunChangeFile.parse(await runChangeFile(repo, { dataDir, runId: 'ch1', file: 'src/app.ts' }));
    expect(app.old).toMatchObject({ text: 'export const app = 2; // unstaged\n', omitted: null, kind: 'file' });
    expect(app.new).toMatchObject({ text: 'export const app = 3;\nexport const more = true;\n', omitted: null });
    const renamed = await runChangeFile(repo, { dataDir, runId: 'ch1', file: 'docs/manual.md' });
    expect(renamed.oldPath).toBe('docs/guide.md');
    expect(renamed.old!.text).toBe(lines(40));
    expect(renamed.new!.text).toBe(`${lines(40)}one more line\n`);
    const added = await runChangeFile(repo, { dataDir, runId: 'ch1', file: 'src/new.ts' });
    expect(added.old).toBeNull();
    const deleted = await runChangeFile(repo, { dataDir, runId: 'ch1', file: 'notes.txt' });
    expect(deleted.new).toBeNull();
    expect(deleted.old!.text).toBe('untracked notes\n');
    const logo = await runChangeFile(repo, { dataDir, runId: 'ch1', file: 'logo.png' });
    expect(logo.old).toMatchObject({ text: null, omitted: 'binary', size: 8 });
    expect(logo.new).toMatchObject({ text: null, omitted: 'binary', size: 9 });

    expect(userState(repo)).toEqual(before);
  });

  it('compares with the working tree now, leaving the user index, HEAD and the run index cache as they were', async () => {
    const repo = busyRepo();
    const dataDir = tempDir('keel-changes-data-');
    await checkpoint(repo, dataDir, 'live', 0);
    write(repo, 'src/app.ts', 'export const app = 4; // mid-turn\n');
    write(repo, 'scratch.txt', 'not checkpointed yet\n');
    const before = userState(repo);
    const cache = path.join(dataDir, 'runs', 'live', 'checkpoints.index');
    const cacheBefore = fs.readFileSync(cache);

    const latest = await runChanges(repo, { dataDir, runId: 'live' });
    expect(latest.files).toEqual([]);
    expect(latest.to).toBe(0);
    const now = await runChanges(repo, { dataDir, runId: 'live', to: 'now' });
    expect(now.to).toBe('now');
    expect(now.files.map((file) => [file.path, file.status])).toEqual([
      ['scratch.txt', 'added'],
      ['src/app.ts', 'modified'],
    ]);
    const scratch = await runChangeFile(repo, { dataDir, runId: 'live', to: 'now', file: 'scratch.txt' });
    expect(scratch.new!.text).toBe('not checkpointed yet\n');

    expect(userState(repo)).toEqual(before);
    expect(fs.readFileSync(cache).equals(cacheBefore)).toBe(true);
    expect(fs.readdirSync(path.join(dataDir, 'runs', 'live', 'checkpoints.tmp'))).toEqual([]);
  });

  it("works for a folder that is not a git repository, through Keel's private repository, and writes nothing into it", async () => {
    const folder = tempDir('keel-changes-plain-');
    const dataDir = tempDir('keel-changes-data-');
    write(folder, 'a.txt', 'one\ntwo\n');
    write(folder, 'old-name.txt', lines(20, 'row'));
    await checkpoint(folder, dataDir, 'plain', 0);
    write(folder, 'a.txt', 'one\n2\n');
    fs.renameSync(path.join(folder, 'old-name.txt'), path.join(folder, 'new-name.txt'));
    write(folder, 'b.txt', 'bee\n');
    await checkpoint(folder, dataDir, 'plain', 1);
    const listing = fs.readdirSync(folder).sort();

    const changes = await runChanges(folder, { dataDir, runId: 'plain' });
    expect(changes.files.map((file) => [file.path, file.status, file.oldPath])).toEqual([
      ['a.txt', 'modified', null],
      ['b.txt', 'added', null],
      ['new-name.txt', 'renamed', 'old-name.txt'],
    ]);
    const a = await runChangeFile(folder, { dataDir, runId: 'plain', file: 'a.txt' });
    expect([a.old!.text, a.new!.text]).toEqual(['one\ntwo\n', 'one\n2\n']);
    expect(fs.readdirSync(folder).sort()).toEqual(listing);
    expect(fs.existsSync(path.join(folder, '.git'))).toBe(false);
  });

  it('caps a side over the size limit and says how large it is', async () => {
    const repo = busyRepo();
    const dataDir = tempDir('keel-changes-data-');
    await checkpoint(repo, dataDir, 'big', 0);
    write(repo, 'big.txt', 'x'.repeat(5000) + '\n');
    await checkpoint(repo, dataDir, 'big', 1);
    const file = await runChangeFile(repo, { dataDir, runId: 'big', file: 'big.txt', maxBytes: 4096 });
    expect(file.new).toMatchObject({ text: null, omitted: 'too_large', size: 5001 });
    expect(file.maxBytes).toBe(4096);
  });

  it('refuses a file the range does not list, and bad ranges, in plain words', async () => {
    const repo = busyRepo();
    const dataDir = tempDir('keel-changes-data-');
    await checkpoint(repo, dataDir, 'refuse', 0);
    write(repo, 'src/app.ts', 'export const app = 9;\n');
    await checkpoint(repo, dataDir, 'refuse', 1);
    const refused = runChangeFile(repo, { dataDir, runId: 'refuse', file: 'README.md' });
    await expect(refused).rejects.toBeInstanceOf(ChangeFileRefusedError);
    await expect(refused).rejects.toThrow('"README.md" is not one of the files this run changed between the baseline (turn 0) and turn 1; only those can be shown.');
    // Outside the workspace, or the git directory: refused the same way (nothing is read from disk by path).
    await expect(runChangeFile(repo, { dataDir, runId: 'refuse', file: '../../etc/passwd' })).rejects.toBeInstanceOf(ChangeFileRefusedError);
    await expect(runChangeFile(repo, { dataDir, runId: 'refuse', file: '.git/config' })).rejects.toBeInstanceOf(ChangeFileRefusedError);
    // A file of the whole run is not a file of turn 0 -> 0.
    await expect(runChangeFile(repo, { dataDir, runId: 'refuse', file: 'src/app.ts', from: 0, to: 0 })).rejects.toBeInstanceOf(ChangeFileRefusedError);

    await expect(runChanges(repo, { dataDir, runId: 'refuse', to: 7 })).rejects.toThrow('This run has no checkpoint for turn 7: it was skipped or not taken yet.');
    await expect(runChanges(repo, { dataDir, runId: 'refuse', from: 1, to: 0 })).rejects.toBeInstanceOf(ChangesRangeError);
    await expect(runChanges(repo, { dataDir, runId: 'refuse', from: 1, to: 0 })).rejects.toThrow('The range goes backwards: turn 1 comes after the baseline (turn 0).');
  });

  it('answers an empty list with the reason when the run has no checkpoint yet, or its workspace is gone', async () => {
    const repo = busyRepo();
    const dataDir = tempDir('keel-changes-data-');
    const none = await runChanges(repo, { dataDir, runId: 'fresh' });
    expect(none).toMatchObject({ files: [], from: null, to: null, checkpoints: [] });
    expect(none.note).toMatch(/no checkpoint yet/);
    const gone = await runChanges(path.join(repo, 'missing'), { dataDir, runId: 'fresh' });
    expect(gone.note).toMatch(/does not exist/);
    // No private repository was made for a read.
    expect(fs.existsSync(path.join(dataDir, 'runs', 'fresh', 'checkpoints.git'))).toBe(false);
    expect(git(repo, ['for-each-ref', 'refs/keel'])).toBe('');
  });
});
