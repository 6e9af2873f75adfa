// `keel run` takes checkpoints and `keel checkpoints restore` undoes a turn, end to end: real CLI
// processes, the built-in agent's edit-and-test on a repository with uncommitted work (issue 12,
// "Done means"): the repository, index and stash too, is exactly as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../../packages/core/src/ledger/index.js';
import { readRunEvents } from '../../../packages/core/src/runs/index.js';
import { closed, spawnFixture, stderrOf, waitForLine } from '../../../packages/core/test/fixtures/ledger-kit.js';
import { requireBuilt, runKeel } from '../../../packages/core/test/fixtures/runtime-kit.js';
import { busyRepo, keelRefs, removeTempDirs, tempDir, userState, worktreeFiles } from '../../../packages/core/test/fixtures/checkpoint-kit.js';

beforeAll(requireBuilt);
afterAll(removeTempDirs);

describe('keel checkpoints restore', () => {
  it('restores the baseline after `keel run` edit-and-test; refs under refs/keel, branches, stash, index and status as before', async () => {
    const data = tempDir('keel-cli-cpr-data-');
    const repo = busyRepo();
    const before = userState(repo);
    const files = worktreeFiles(repo);
    const ran = await runKeel(['run', '--data', data, '--workspace', repo, '--script', 'edit-and-test', '--approve', 'all', '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    const events = ran.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { run_id: string; type: string; payload: { turn?: number; files?: Array<{ path: string }> } });
    const runId = events[0]!.run_id;
    const created = events.filter((event) => event.type === 'checkpoint.created');
    expect(created.map((event) => event.payload.turn)).toEqual([0, 1]);
    expect(created[1]!.payload.files!.map((file) => file.path)).toEqual(['hello.txt']);
    expect(keelRefs(repo)).toEqual([`refs/keel/checkpoints/${runId}/0`, `refs/keel/checkpoints/${runId}/1`]);

    const diff = await runKeel(['checkpoints', 'diff', '--data', data, '--run', runId, '--turn', '1']);
    expect(diff.stdout).toContain("+Hello from Keel's built-in agent.");

    const restored = await runKeel(['checkpoints', 'restore', '--data', data, '--run', runId, '--turn', '0']);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/restored the baseline: 1 file\(s\)/);
    expect(restored.stdout).toMatch(/removed\s+hello\.txt/);
    expect(worktreeFiles(repo)).toEqual(files);
    expect(userState(repo)).toEqual(before);

    // A file-level restore of a file the checkpoint does not hold fails in plain words, changing nothing.
    const missing = await runKeel(['checkpoints', 'restore', '--data', data, '--run', runId, '--turn', '7']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/restore failed \(target_missing\)/);
    expect(userState(repo)).toEqual(before);
  }, 90_000);

  it('refuses in plain words while another Keel process holds the data directory (pointing at the app), touching nothing; restores once it is closed', async () => {
    const data = tempDir('keel-cli-cpr-lock-data-');
    const repo = busyRepo();
    const ran = await runKeel(['run', '--data', data, '--workspace', repo, '--script', 'edit-and-test', '--approve', 'all', '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    const runId = (JSON.parse(ran.stdout.split('\n')[0]!) as { run_id: string }).run_id;
    const edited = worktreeFiles(repo);
    expect(Object.keys(edited)).toContain('hello.txt');

    // A real second process takes the ledger's writer lock, as a running app or `keel serve` does.
    const holder = spawnFixture('ledger-holder.mjs', [data, 'hold']);
    const exited = closed(holder);
    await waitForLine(holder, (line) => line === 'READY', stderrOf(holder));
    const refused = await runKeel(['checkpoints', 'restore', '--data', data, '--run', runId, '--turn', '0']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`in use by another Keel process (pid ${holder.pid})`);
    expect(refused.stderr).toContain('nothing was restored');
    expect(refused.stderr).toContain("Restore from the app instead (the Restore button on the run header's checkpoint timeline)");
    expect(worktreeFiles(repo)).toEqual(edited);
    holder.stdin!.end();
    await exited;

    // Nothing of the refused restore reached the ledger: the one restore recorded is the next one.
    const restored = await runKeel(['checkpoints', 'restore', '--data', data, '--run', runId, '--turn', '0']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(Object.keys(worktreeFiles(repo))).not.toContain('hello.txt');
    const ledger = await openLedger({ dataDir: data, readOnly: true });
    try {
      const types = readRunEvents(ledger, runId).map((event) => event.type);
      expect(types.filter((type) => type === 'checkpoint.restore_requested')).toHaveLength(1);
      expect(types.filter((type) => type === 'checkpoint.restore_completed')).toHaveLength(1);
    } finally {
      await ledger.close();
    }
  }, 120_000);
});
