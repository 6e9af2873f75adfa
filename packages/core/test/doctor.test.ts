// `keel doctor` (issue 12): each check ok | warn | fail with a fix, on a real data directory with
// a real ledger, real git repositories and real processes; and the CLI's --json and exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../src/contract/index.js';
import { runDoctor } from '../src/host/index.js';
import { openLedger } from '../src/ledger/index.js';
import { createCheckpoint } from '../src/workspace/index.js';
import { busyRepo, removeTempDirs, write } from './fixtures/checkpoint-kit.js';
import { requireBuilt, runKeel, tempDir } from './fixtures/runtime-kit.js';

const children: ChildProcess[] = [];
beforeAll(requireBuilt);
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  removeTempDirs();
});

const check = (report: DoctorReport, id: string, subject?: string) => {
  const found = report.checks.filter((entry) => entry.id === id && (subject === undefined || entry.subject === subject));
  expect(found, `${id} ${subject ?? ''}: ${JSON.stringify(report.checks.map((entry) => [entry.id, entry.subject]))}`).toHaveLength(1);
  return found[0]!;
};

/** A data dir with one recorded run on a repository (a baseline checkpoint), closed again. */
async function dataDirWithRun(): Promise<{ dataDir: string; repo: string; runId: string }> {
  const dataDir = tempDir('keel-doctor-data-');
  fs.chmodSync(dataDir, 0o700);
  const repo = busyRepo();
  const ledger = await openLedger({ dataDir });
  const runId = ledger.newRunId();
  await ledger.append(runId, { type: 'run.created', payload: { workspace: repo, agent: { kind: 'builtin' }, approvalMode: 'interactive' } });
  await ledger.close();
  await createCheckpoint(repo, { dataDir, runId, turn: 0 });
  return { dataDir, repo, runId };
}

describe('keel doctor', () => {
  it('a healthy data directory: every check ok, the ledger verified, the workspace seen as a dirty git repository', async () => {
    const { dataDir, repo } = await dataDirWithRun();
    const report = await runDoctor({ dataDir });
    const bad = report.checks.filter((entry) => entry.status !== 'ok');
    expect(bad).toEqual([]);
    expect(report.status).toBe('ok');
    expect(check(report, 'sqlite.integrity').summary).toBe('SQLite integrity_check: ok.');
    expect(check(report, 'ledger.verify').summary).toMatch(/^1 run\(s\) verified: 1 agree/);
    expect(check(report, 'ledger.lock').summary).toMatch(/free/);
    expect(check(report, 'git.version').summary).toMatch(/^git \d+\.\d+/);
    expect(check(report, 'workspace.git', repo).status).toBe('ok');
    expect(check(report, 'workspace.clean', repo).summary).toMatch(/^Dirty: \d+ uncommitted change/);
    expect(check(report, 'workspace.orphaned_refs', repo).summary).toMatch(/1 run\(s\) with checkpoints here, all known/);
    expect(check(report, 'processes.orphaned').status).toBe('ok');
  }, 60_000);

  it('finds loose modes, refs of unknown runs, an unignored .keel file, a stale index.lock, a killed host and an orphaned agent process — each with a fix', async () => {
    const { dataDir, repo, runId } = await dataDirWithRun();
    fs.chmodSync(path.join(dataDir, 'keel.db'), 0o644);
    await createCheckpoint(repo, { dataDir, runId: 'run-gone', turn: 0 });
    write(repo, '.keel/policy.yaml', 'schema_version: 1\n');
    write(repo, '.keel/scratch.txt', 'not meant for git\n');
    const lock = path.join(repo, '.git', 'index.lock');
    fs.writeFileSync(lock, '');
    const old = new Date(Date.now() - 60 * 60_000);
    fs.utimesSync(lock, old, old);
    fs.writeFileSync(path.join(dataDir, 'ledger.lock.owner'), '999999\n'); // a host killed -9 leaves this
    // An agent process with Keel's generation tag and no Keel running.
    const orphan = spawn('sleep', ['60'], { env: { ...process.env, KEEL_GENERATION_TAG: `${runId}.1.0123456789abcdef` }, stdio: 'ignore' });
    children.push(orphan);
    await new Promise((resolve) => orphan.once('spawn', resolve));

    const report = await runDoctor({ dataDir });
    expect(report.status).toBe('fail');
    const mode = check(report, 'data_dir.mode');
    expect(mode.status).toBe('warn');
    expect(mode.summary).toContain('keel.db');
    expect(mode.fix).toContain('chmod -R go-rwx');
    const refs = check(report, 'workspace.orphaned_refs', repo);
    expect([refs.status, refs.summary]).toEqual(['warn', expect.stringContaining('run-gone')]);
    expect(refs.fix).toContain('keel gc --workspace');
    const ignored = check(report, 'workspace.keel_ignored', repo);
    expect(ignored.status).toBe('warn');
    expect(ignored.summary).toContain('.keel/scratch.txt');
    expect(ignored.summary).not.toContain('policy.yaml');
    expect(check(report, 'workspace.stale_lock', repo).fix).toContain(`rm '${lock}'`);
    const owner = check(report, 'ledger.lock');
    expect([owner.status, owner.summary]).toEqual(['warn', expect.stringContaining('pid 999999')]);
    const processes = check(report, 'processes.orphaned');
    expect(processes.status).toBe('fail');
    expect(processes.summary).toContain(String(orphan.pid));
    expect(processes.fix).toContain(`kill`);
    for (const entry of report.checks.filter((item) => item.status !== 'ok')) expect(entry.fix, entry.id).toBeTruthy();
  }, 60_000);

  it('a running Keel holds the lock: its agent processes are not orphans; a damaged keel.db fails integrity_check', async () => {
    const { dataDir, runId } = await dataDirWithRun();
    const ledger = await openLedger({ dataDir });
    try {
      const orphan = spawn('sleep', ['60'], { env: { ...process.env, KEEL_GENERATION_TAG: `${runId}.1.0123456789abcdef` }, stdio: 'ignore' });
      children.push(orphan);
      await new Promise((resolve) => orphan.once('spawn', resolve));
      const report = await runDoctor({ dataDir, ledger });
      expect(check(report, 'ledger.lock').summary).toMatch(/in use by a running Keel \(pid \d+\)/);
      const processes = check(report, 'processes.orphaned');
      expect([processes.status, processes.summary]).toEqual(['ok', '1 agent process(es) belong to the running Keel.']);
    } finally {
      await ledger.close();
    }
    // Overwrite a page in the middle of keel.db: SQLite's own check must say so.
    const db = path.join(dataDir, 'keel.db');
    const size = fs.statSync(db).size;
    const fd = fs.openSync(db, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, Math.max(4096, Math.floor(size / 4096 / 2) * 4096));
    fs.closeSync(fd);
    const damaged = await runDoctor({ dataDir });
    const integrity = check(damaged, 'sqlite.integrity');
    expect(integrity.status).toBe('fail');
    expect(integrity.fix).toContain('keel ledger backfill');
  }, 60_000);

  it('the CLI: --json is the report; a missing data directory fails with exit code 1 and a fix', async () => {
    const { dataDir } = await dataDirWithRun();
    const json = await runKeel(['doctor', '--data', dataDir, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(report.schema_version).toBe(1);
    expect(report.counts.fail).toBe(0);
    const text = await runKeel(['doctor', '--data', dataDir]);
    expect(text.stdout).toMatch(/\[ok {2}\] sqlite\.integrity/);
    const missing = await runKeel(['doctor', '--data', path.join(dataDir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('fix: Start Keel once');
  }, 60_000);
});
