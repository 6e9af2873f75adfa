// Transactional restore on real git repositories (issue 12, I4, I7): a safety checkpoint first,
// only the agent's changes move, all or nothing, and a kill -9 half way is finished or rolled
// back from the journal on the next start.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCheckpoint,
  findRestoreJournals,
  pendingRestore,
  readRestoreJournal,
  restoreCheckpoint,
  resumeRestore,
  type RestoreResult,
} from '../src/workspace/index.js';
import { busyRepo, exists, git, keelRefs, read, removeTempDirs, tempDir, userState, worktreeFiles, write } from './fixtures/checkpoint-kit.js';

const fixture = fileURLToPath(new URL('./fixtures/checkpoint-restorer.mjs', import.meta.url));
const compiled = fileURLToPath(new URL('../dist/workspace/index.js', import.meta.url));

beforeAll(() => {
  if (!fs.existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npx tsc -b\` first (npm test does).`);
});
afterAll(removeTempDirs);

/** What the agent does in a run of three turns; returns the state after each checkpoint. */
async function runThreeTurns(repo: string, data: string, runId: string) {
  const states: Array<Record<string, string>> = [];
  const checkpoint = async (turn: number) => {
    const result = await createCheckpoint(repo, { dataDir: data, runId, turn });
    if (result.kind !== 'created') throw new Error(result.detail);
    states.push(worktreeFiles(repo));
  };
  await checkpoint(0);
  // turn 1: edit, create, delete (an untracked file and a tracked one), chmod, a new directory
  write(repo, 'src/app.ts', 'export const app = "agent";\n');
  write(repo, 'src/feature/a.ts', 'export const a = 1;\n');
  write(repo, 'src/feature/b.ts', 'export const b = 1;\n');
  fs.rmSync(path.join(repo, 'notes.txt'));
  fs.rmSync(path.join(repo, 'src/util.ts'));
  fs.chmodSync(path.join(repo, 'bin/run.sh'), 0o644);
  write(repo, 'node_modules/dep/index.js', 'module.exports = "agent installed";\n'); // ignored
  await checkpoint(1);
  // turn 2: more edits, a symlink retargeted, a file replaced by a directory
  write(repo, 'src/app.ts', 'export const app = "agent, turn 2";\n');
  fs.rmSync(path.join(repo, 'app-link'));
  fs.symlinkSync('README.md', path.join(repo, 'app-link'));
  fs.rmSync(path.join(repo, 'src/staged.ts'));
  write(repo, 'src/staged.ts/inner.ts', 'now a directory\n');
  await checkpoint(2);
  return states;
}

const completed = (result: RestoreResult) => {
  if (result.kind !== 'completed') throw new Error(`restore failed: ${result.reason}: ${result.detail}`);
  return result;
};

/** Files a checkpoint covers: everything but ignored paths and .git. */
const covered = (files: Record<string, string>) =>
  Object.fromEntries(Object.entries(files).filter(([file]) => !file.startsWith('node_modules/') && !file.startsWith('build/') && !file.endsWith('.log')));

describe('restoreCheckpoint', () => {
  it('back to the baseline: only the agent changes move; index, stash, branches, HEAD, status exactly as before', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const before = userState(repo);
    const filesBefore = worktreeFiles(repo);
    const states = await runThreeTurns(repo, data, 'undo');
    const result = completed(await restoreCheckpoint(repo, { turn: 0 }, { dataDir: data, runId: 'undo' }));
    // Everything a checkpoint covers is back; the ignored file the agent changed is left alone.
    expect(covered(worktreeFiles(repo))).toEqual(covered(filesBefore));
    expect(read(repo, 'node_modules/dep/index.js')).toBe('module.exports = "agent installed";\n');
    expect(read(repo, 'debug.log')).toBe('ignored log\n');
    expect(userState(repo)).toEqual(before);
    expect(result.targetTurn).toBe(0);
    expect(result.files.map((file) => `${file.action} ${file.path}`).sort()).toEqual([
      'removed src/feature/a.ts',
      'removed src/feature/b.ts',
      'removed src/staged.ts/inner.ts',
      'restored app-link',
      'restored bin/run.sh',
      'restored notes.txt',
      'restored src/app.ts',
      'restored src/staged.ts',
      'restored src/util.ts',
    ]);
    expect(result.filesTouched).toBe(9);
    expect(exists(repo, 'src/feature')).toBe(false); // emptied directories go too
    // The safety checkpoint holds the state before the restore: restoring it undoes the restore.
    expect(result.safetyRef).toBe('refs/keel/safety/undo/1');
    expect(keelRefs(repo)).toContain('refs/keel/safety/undo/1');
    completed(await restoreCheckpoint(repo, { ref: result.safetyRef }, { dataDir: data, runId: 'undo' }));
    expect(covered(worktreeFiles(repo))).toEqual(covered(states[2]!));
    expect(pendingRestore(data, 'undo')).toBeNull();
    expect(userState(repo)).toMatchObject({ indexBytes: before.indexBytes, stash: before.stash, heads: before.heads, headFile: before.headFile });
  });

  it('to a middle turn, and a file never in any checkpoint (created after, ignored) is left alone', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const states = await runThreeTurns(repo, data, 'mid');
    write(repo, 'build/artifact.bin', 'ignored, created after the last checkpoint\n');
    completed(await restoreCheckpoint(repo, { turn: 1 }, { dataDir: data, runId: 'mid' }));
    expect(covered(worktreeFiles(repo))).toEqual(covered(states[1]!));
    expect(read(repo, 'build/artifact.bin')).toContain('ignored');
    expect(fs.statSync(path.join(repo, 'bin/run.sh')).mode & 0o111).toBe(0);
  });

  it('restores single files: a path or a directory; everything else stays', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const states = await runThreeTurns(repo, data, 'one');
    const result = completed(await restoreCheckpoint(repo, { turn: 0 }, { dataDir: data, runId: 'one', files: ['src/app.ts', 'src/feature'] }));
    expect(result.files.map((file) => `${file.action} ${file.path}`).sort()).toEqual(['removed src/feature/a.ts', 'removed src/feature/b.ts', 'restored src/app.ts']);
    expect(read(repo, 'src/app.ts')).toBe('export const app = 2; // unstaged\n');
    const now = worktreeFiles(repo);
    const expected = { ...states[2]! };
    delete expected['src/feature/a.ts'];
    delete expected['src/feature/b.ts'];
    expected['src/app.ts'] = now['src/app.ts']!;
    expect(now).toEqual(expected);
  });

  it('in a folder that is not a git repository, through the private repository', async () => {
    const folder = tempDir('keel-cp-plain-');
    write(folder, 'a.txt', 'original\n');
    const data = tempDir('keel-cp-data-');
    const before = worktreeFiles(folder);
    expect((await createCheckpoint(folder, { dataDir: data, runId: 'plain', turn: 0 })).kind).toBe('created');
    write(folder, 'a.txt', 'agent\n');
    write(folder, 'b/c.txt', 'created\n');
    completed(await restoreCheckpoint(folder, { turn: 0 }, { dataDir: data, runId: 'plain' }));
    expect(worktreeFiles(folder)).toEqual(before);
    expect(fs.readdirSync(folder)).toEqual(['a.txt']);
  });

  it('all or nothing: a failure half way rolls every touched file back to the safety checkpoint', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const states = await runThreeTurns(repo, data, 'fail');
    const before = userState(repo);
    const result = await restoreCheckpoint(repo, { turn: 0 }, {
      dataDir: data,
      runId: 'fail',
      batchSize: 1,
      onStep: (step) => {
        if (step.phase === 'applying' && step.done === 4) throw new Error('disk on fire');
      },
    });
    expect(result).toMatchObject({ kind: 'failed', reason: 'apply_failed', rolledBack: true, safetyRef: 'refs/keel/safety/fail/1' });
    expect(result.kind === 'failed' && result.detail).toContain('disk on fire');
    expect(worktreeFiles(repo)).toEqual(states[2]);
    expect(userState(repo)).toEqual(before);
    expect(pendingRestore(data, 'fail')).toBeNull();
  });

  it('refuses without a safety checkpoint (over its budget): nothing touched', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const states = await runThreeTurns(repo, data, 'nosafety');
    write(repo, 'large.bin', Buffer.alloc(128 * 1024, 3));
    const filesNow = worktreeFiles(repo);
    const result = await restoreCheckpoint(repo, { turn: 0 }, { dataDir: data, runId: 'nosafety', safety: { budget: { maxBytes: 1024 } } });
    expect(result).toMatchObject({ kind: 'failed', reason: 'safety_checkpoint_skipped', rolledBack: true, safetyRef: null });
    expect(worktreeFiles(repo)).toEqual(filesNow);
    expect(states.length).toBe(3);
  });

  it('an unknown target fails before anything happens', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    await runThreeTurns(repo, data, 'unknown');
    const result = await restoreCheckpoint(repo, { turn: 9 }, { dataDir: data, runId: 'unknown' });
    expect(result).toMatchObject({ kind: 'failed', reason: 'target_missing' });
    expect(keelRefs(repo).filter((ref) => ref.includes('safety'))).toEqual([]);
  });
});

// ---- kill -9 in the middle of a restore ----------------------------------------------------

function killDuringRestore(repo: string, data: string, runId: string, turn: number, pauseAt: number, phase = 'applying'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, repo, data, runId, String(turn), String(pauseAt), phase], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the restorer never paused\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 60_000);
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (/^PAUSED /m.test(stdout)) child.kill('SIGKILL');
    });
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      if (process.env.KEEL_TEST_DEBUG) console.log(stdout, stderr);
      if (signal === 'SIGKILL' && /^PAUSED /m.test(stdout)) resolve(stdout.trim());
      else reject(new Error(`the restorer exited (${code ?? signal}) without pausing\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

describe('a restore killed with SIGKILL half way', () => {
  it('is finished on the next start from its journal', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const before = userState(repo);
    const filesBefore = worktreeFiles(repo);
    const states = await runThreeTurns(repo, data, 'crash');
    const paused = await killDuringRestore(repo, data, 'crash', 0, 5);
    expect(paused).toMatch(/^PAUSED applying 5 9$/);
    // Half done: some files restored, some not — neither the old state nor the new one.
    const half = worktreeFiles(repo);
    expect(covered(half)).not.toEqual(covered(filesBefore));
    expect(covered(half)).not.toEqual(covered(states[2]!));
    const journal = pendingRestore(data, 'crash');
    expect(journal).not.toBeNull();
    expect(findRestoreJournals(data)).toEqual([{ runId: 'crash', journal }]);
    const read = readRestoreJournal(journal!);
    expect(read.ok && read.value).toMatchObject({ schema_version: 1, phase: 'applying', targetTurn: 0 });

    const resumed = await resumeRestore(journal!, { dataDir: data });
    expect(resumed).toMatchObject({ kind: 'completed', resumed: true, targetTurn: 0, filesTouched: 9 });
    expect(covered(worktreeFiles(repo))).toEqual(covered(filesBefore));
    expect(userState(repo)).toEqual(before);
    expect(pendingRestore(data, 'crash')).toBeNull();
  });

  it('or rolled back to the safety checkpoint when asked', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const states = await runThreeTurns(repo, data, 'crash-rb');
    await killDuringRestore(repo, data, 'crash-rb', 0, 3);
    const journal = pendingRestore(data, 'crash-rb')!;
    const resumed = await resumeRestore(journal, { dataDir: data, mode: 'rollback' });
    expect(resumed).toMatchObject({ kind: 'failed', reason: 'interrupted', rolledBack: true });
    expect(worktreeFiles(repo)).toEqual(states[2]);
    expect(pendingRestore(data, 'crash-rb')).toBeNull();
  });

  it('killed during its rollback: the rollback is finished, never the restore', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const states = await runThreeTurns(repo, data, 'crash-rb2');
    const paused = await killDuringRestore(repo, data, 'crash-rb2', 0, 2, 'rolling_back');
    expect(paused).toMatch(/^PAUSED rolling_back 2 /);
    const journal = pendingRestore(data, 'crash-rb2')!;
    const read = readRestoreJournal(journal);
    expect(read.ok && read.value.phase).toBe('rolling_back');
    expect(read.ok && read.value.failure).toContain('injected failure');
    const resumed = await resumeRestore(journal, { dataDir: data }); // "finish" cannot override a rollback
    expect(resumed).toMatchObject({ kind: 'failed', rolledBack: true });
    expect(worktreeFiles(repo)).toEqual(states[2]);
  });

  it('killed after the journal and before the first file: resuming finishes it', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    const filesBefore = worktreeFiles(repo);
    await runThreeTurns(repo, data, 'crash0');
    await killDuringRestore(repo, data, 'crash0', 0, 0);
    const resumed = await resumeRestore(pendingRestore(data, 'crash0')!, { dataDir: data });
    expect(resumed.kind).toBe('completed');
    expect(covered(worktreeFiles(repo))).toEqual(covered(filesBefore));
  });

  it('a journal that fails its checksum is reported and left in place; a new restore refuses to start', async () => {
    const repo = busyRepo();
    const data = tempDir('keel-cp-data-');
    await runThreeTurns(repo, data, 'bad');
    await killDuringRestore(repo, data, 'bad', 0, 2);
    const journal = pendingRestore(data, 'bad')!;
    const text = fs.readFileSync(journal, 'utf8').replace('"applying"', '"rolling_back"');
    fs.writeFileSync(journal, text);
    const half = worktreeFiles(repo);
    const resumed = await resumeRestore(journal, { dataDir: data });
    expect(resumed).toMatchObject({ kind: 'unreadable', problem: 'checksum' });
    expect(fs.existsSync(journal)).toBe(true);
    expect(worktreeFiles(repo)).toEqual(half);
    const again = await restoreCheckpoint(repo, { turn: 0 }, { dataDir: data, runId: 'bad' });
    expect(again).toMatchObject({ kind: 'failed', reason: 'interrupted', rolledBack: false });
    expect(git(repo, ['stash', 'list'])).toContain('work in progress');
  });
});
