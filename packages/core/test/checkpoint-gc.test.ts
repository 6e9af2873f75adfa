// Retention of checkpoints (issue 12, `keel gc`): refs, sidecars and private repositories of old
// or deleted runs; never the ledger, never a run with an unfinished restore; dry-run removes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchCheckpoints, createCheckpoint, gcCheckpoints, listCheckpoints } from '../src/workspace/index.js';
import { busyRepo, git, keelRefs, removeTempDirs, tempDir, userState, write } from './fixtures/checkpoint-kit.js';

afterAll(removeTempDirs);

const DAY = 86_400_000;

/** Every file under a directory with its bytes (to prove a dry run changed nothing). */
function bytesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.isFile()) out[path.relative(dir, full)] = fs.readFileSync(full).toString('base64');
  }
  return out;
}

/** A data dir with ledger logs for `known` runs, and checkpoints (turns 0..n) of several runs. */
async function setup() {
  const data = tempDir('keel-gc-data-');
  const repo = busyRepo();
  const folder = tempDir('keel-gc-plain-');
  write(folder, 'a.txt', 'a\n');
  fs.mkdirSync(path.join(data, 'ledger'), { recursive: true });
  for (const run of ['recent', 'old', 'plain-old']) fs.writeFileSync(path.join(data, 'ledger', `${run}.ndjson`), '{"seq":1}\n');
  const at = (daysAgo: number) => () => new Date(Date.now() - daysAgo * DAY);
  for (const turn of [0, 1, 2]) {
    write(repo, 'src/app.ts', `turn ${turn}\n`);
    await createCheckpoint(repo, { dataDir: data, runId: 'recent', turn, now: at(1) });
    await createCheckpoint(repo, { dataDir: data, runId: 'old', turn, now: at(30) });
    await createCheckpoint(repo, { dataDir: data, runId: 'deleted', turn, now: at(2) });
  }
  await createCheckpoint(folder, { dataDir: data, runId: 'plain-old', turn: 0, now: at(40) });
  return { data, repo, folder };
}

describe('gcCheckpoints', () => {
  it('--dry-run lists what would go and removes nothing (refs, sidecars, private repositories, ledger)', async () => {
    const { data, repo } = await setup();
    const refsBefore = keelRefs(repo);
    const filesBefore = bytesUnder(data);
    const result = await gcCheckpoints({ dataDir: data, dryRun: true, olderThanMs: 7 * DAY });
    expect(result.dryRun).toBe(true);
    expect(result.runsCleared.sort()).toEqual(['deleted', 'old', 'plain-old']);
    expect(result.removed.filter((entry) => entry.runId === 'deleted').every((entry) => entry.reason === 'deleted_run')).toBe(true);
    expect(result.removed.filter((entry) => entry.runId === 'old').map((entry) => entry.ref)).toEqual([
      'refs/keel/checkpoints/old/0',
      'refs/keel/checkpoints/old/1',
      'refs/keel/checkpoints/old/2',
    ]);
    expect(result.bytesFreed).toBeGreaterThan(0);
    expect(keelRefs(repo)).toEqual(refsBefore);
    expect(bytesUnder(data)).toEqual(filesBefore);
  });

  it('without limits prunes only runs the ledger no longer has; the ledger and the user repository stay', async () => {
    const { data, repo } = await setup();
    const before = userState(repo);
    const ledgerBefore = bytesUnder(path.join(data, 'ledger'));
    const result = await gcCheckpoints({ dataDir: data });
    expect(result.runsCleared).toEqual(['deleted']);
    expect(keelRefs(repo).filter((ref) => ref.includes('/deleted/'))).toEqual([]);
    expect(keelRefs(repo).filter((ref) => ref.includes('/old/'))).toHaveLength(3);
    expect(fs.existsSync(path.join(data, 'runs', 'deleted', 'checkpoints'))).toBe(false);
    expect(fs.existsSync(path.join(data, 'runs', 'deleted', 'checkpoints.index'))).toBe(false);
    expect(bytesUnder(path.join(data, 'ledger'))).toEqual(ledgerBefore);
    expect(userState(repo)).toEqual(before);
  });

  it('--older-than prunes whole runs whose newest checkpoint is older; --keep-last protects the most recent runs', async () => {
    const { data, repo } = await setup();
    const known = new Set(['recent', 'old', 'plain-old', 'deleted']);
    // Newest first: recent (1 day), deleted (2), old (30), plain-old (40). Three kept, even though "old" is old.
    const kept = await gcCheckpoints({ dataDir: data, olderThanMs: 7 * DAY, keepLast: 3, knownRuns: known });
    expect(kept.runsCleared).toEqual(['plain-old']);
    expect(keelRefs(repo).filter((ref) => ref.includes('/old/'))).toHaveLength(3);
    // --older-than alone: every run older than 10 days.
    const aged = await gcCheckpoints({ dataDir: data, olderThanMs: 10 * DAY, knownRuns: known });
    expect(aged.runsCleared).toEqual(['old']);
    expect(keelRefs(repo).filter((ref) => ref.includes('/recent/') || ref.includes('/deleted/'))).toHaveLength(6);
  });

  it('--older-than with --keep-last: old runs beyond the newest N go, private repositories with them', async () => {
    const { data, repo } = await setup();
    const privateRepo = path.join(data, 'runs', 'plain-old', 'checkpoints.git');
    expect(fs.existsSync(privateRepo)).toBe(true);
    const result = await gcCheckpoints({ dataDir: data, olderThanMs: 7 * DAY, keepLast: 2, knownRuns: new Set(['recent', 'old', 'plain-old', 'deleted']) });
    // Newest first: recent (1 day), deleted (2 days, known here), old (30), plain-old (40): the two newest are kept.
    expect(result.runsCleared.sort()).toEqual(['old', 'plain-old']);
    expect(fs.existsSync(privateRepo)).toBe(false);
    expect(keelRefs(repo).filter((ref) => ref.includes('/old/'))).toEqual([]);
    expect((await listCheckpoints({ dataDir: data, runId: 'recent' })).checkpoints).toHaveLength(3);
    expect(result.bytesReclaimable).toBeGreaterThanOrEqual(0);
    // Nothing left to do the second time.
    const again = await gcCheckpoints({ dataDir: data, olderThanMs: 7 * DAY, keepLast: 2, knownRuns: new Set(['recent', 'old', 'plain-old', 'deleted']) });
    expect(again.removed).toEqual([]);
  });

  it('never prunes a run with an unfinished restore, and treats no run as deleted when the ledger is missing', async () => {
    const { data, repo } = await setup();
    fs.writeFileSync(path.join(data, 'runs', 'deleted', 'restore-journal.json'), '{}');
    const result = await gcCheckpoints({ dataDir: data });
    expect(result.skippedRuns.map((run) => run.runId)).toEqual(['deleted']);
    expect(keelRefs(repo).filter((ref) => ref.includes('/deleted/'))).toHaveLength(3);
    fs.rmSync(path.join(data, 'ledger'), { recursive: true });
    fs.rmSync(path.join(data, 'runs', 'deleted', 'restore-journal.json'));
    const noLedger = await gcCheckpoints({ dataDir: data });
    expect(noLedger.removed).toEqual([]);
    expect(noLedger.problems.join('\n')).toMatch(/no run is treated as deleted/);
  });

  it('finds refs whose sidecars are gone through --workspace, and reports reclaimable bytes in the user repository', async () => {
    const { data, repo } = await setup();
    write(repo, 'big-unique.txt', 'x'.repeat(50_000));
    await createCheckpoint(repo, { dataDir: data, runId: 'orphan', turn: 0 });
    fs.rmSync(path.join(data, 'runs', 'orphan'), { recursive: true });
    fs.rmSync(path.join(repo, 'big-unique.txt'));
    const blind = await gcCheckpoints({ dataDir: data, dryRun: true });
    expect(blind.removed.some((entry) => entry.runId === 'orphan')).toBe(false);
    const result = await gcCheckpoints({ dataDir: data, workspaces: [repo] });
    expect(result.runsCleared.sort()).toEqual(['deleted', 'orphan']);
    expect(result.bytesReclaimable).toBeGreaterThan(0);
    expect(keelRefs(repo).some((ref) => ref.includes('/orphan/'))).toBe(false);
    expect(git(repo, ['stash', 'list'])).toContain('work in progress');
  });
});

describe('benchCheckpoints (small scale smoke test; `keel bench checkpoints` runs 20,000 files)', () => {
  it('measures Keel and plain git on the same work and reports a ratio', async () => {
    const dir = tempDir('keel-bench-');
    const result = await benchCheckpoints({ dir, files: 200, rounds: 2 });
    expect(result.files).toBe(200);
    expect(result.turn.keel_ms).toHaveLength(3);
    expect(result.turn.plumbing_ms).toHaveLength(3);
    expect(result.turn.porcelain_ms).toHaveLength(3);
    expect(result.turn.ratio).toBeGreaterThan(0);
    expect(result.baseline.ratio).toBeGreaterThan(0);
    expect(Object.keys(result.turn.keel_git_calls_ms)).toEqual(expect.arrayContaining(['ls-files', 'update-index', 'write-tree', 'commit-tree', 'update-ref']));
  }, 120_000);
});
