// Run list management (issue 15 point 20) over the contract, with a real workstation, real
// ledgers, a real git repository and the built-in agent: archive is a mark beside the ledger
// (the ledger stays byte for byte), delete keeps the files unless asked, delete with files
// removes the ledger, checkpoints and run folder of that run only; a run in a turn is refused;
// bad ids are answered in plain words; a deletion a killed host left half done is finished.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeelClient, RunListUpdate, RunSummary } from '../src/contract/index.js';
import { ledgerPaths } from '../src/ledger/index.js';
import { runListFile } from '../src/host/run-list-marks.js';
import { busyRepo, git } from './fixtures/checkpoint-kit.js';
import { waitForEvent } from './fixtures/runtime-kit.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { tempDir } from './helpers.js';

const { start } = useWorkstations();
const HELLO = { kind: 'builtin', script: 'hello' } as const;

/**
 * A run that finished one turn of the hello script and recorded that turn's checkpoint (the
 * checkpoint follows `turn.ended`, so waiting on the turn alone leaves an append still to come).
 */
async function finishedRun(client: KeelClient, workstation: Awaited<ReturnType<typeof start>>['workstation'], workspace: string): Promise<RunSummary> {
  const run = await client.invoke('runs.create', { workspace, agent: HELLO });
  const { turn } = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
  await workstation.runs.get(run.id).waitForTurn(turn);
  await waitForEvent(workstation.ledger, run.id, (event) => (event.type === 'checkpoint.created' || event.type === 'checkpoint.skipped') && (event.payload as { turn: number }).turn === turn, { label: `turn ${turn}'s checkpoint` });
  return run;
}

const keelRefsOf = (repo: string, runId: string) =>
  git(repo, ['for-each-ref', '--format=%(refname)', 'refs/keel/'])
    .split('\n')
    .filter((ref) => ref.includes(runId));

/** The types of the records appended to a log after its first `from` bytes. */
const appendedTypes = (log: string, from: number) =>
  fs
    .readFileSync(log)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { type: string }).type);

/** The next `runs.changed` message that satisfies `accept`. */
function nextUpdate(client: KeelClient, accept: (update: RunListUpdate) => boolean): { update: Promise<RunListUpdate>; stop(): void } {
  let stop = () => {};
  const update = new Promise<RunListUpdate>((resolve, reject) => {
    stop = client.subscribe('runs.changed', {}, {
      onEvent(message) {
        if (accept(message)) resolve(message);
      },
      onEnd: (error) => reject(error ?? new Error('stream ended')),
    });
  });
  return { update, stop: () => stop() };
}

describe('run list management', () => {
  it('archive is a mark beside the ledger: listed with archived, the ledger unchanged, kept across a restart, undone by unarchive', async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const run = await finishedRun(first.client, first.workstation, tempDir('keel-ws-'));
    const log = ledgerPaths(dataDir).logOf(run.id);
    const before = fs.readFileSync(log);

    const archivedChange = nextUpdate(first.client, (u) => u.kind === 'changed' && u.runs.some((r) => r.id === run.id && r.archived === true));
    await first.client.invoke('run.archive', { runId: run.id, archived: true });
    await archivedChange.update;
    archivedChange.stop();
    expect((await first.client.invoke('runs.list', {})).find((r) => r.id === run.id)?.archived).toBe(true);
    expect(fs.readFileSync(log).equals(before)).toBe(true);
    expect(JSON.parse(fs.readFileSync(runListFile(dataDir), 'utf8'))).toMatchObject({ schema_version: 1, runs: { [run.id]: { archivedAt: expect.any(String) } } });
    await first.workstation.close();

    const second = await start({ dataDir });
    expect((await second.client.invoke('runs.list', {})).find((r) => r.id === run.id)?.archived).toBe(true);
    await second.client.invoke('run.archive', { runId: run.id, archived: false });
    expect((await second.client.invoke('runs.list', {})).find((r) => r.id === run.id)?.archived).toBe(false);
    expect(JSON.parse(fs.readFileSync(runListFile(dataDir), 'utf8')).runs).toEqual({});
    expect(second.workstation.ledger.verify().ok).toBe(true);
  });

  it('delete keeps the files unless asked: the run leaves the list (a fresh snapshot), every byte of its ledger kept', async () => {
    const dataDir = tempDir();
    const { workstation, client } = await start({ dataDir });
    const workspace = tempDir('keel-ws-');
    const kept = await finishedRun(client, workstation, workspace);
    const other = await finishedRun(client, workstation, workspace);
    const log = ledgerPaths(dataDir).logOf(kept.id);
    const before = fs.readFileSync(log);

    let snapshots = 0;
    const gone = nextUpdate(client, (u) => u.kind === 'snapshot' && ++snapshots === 2);
    const outcome = await client.invoke('run.delete', { runId: kept.id, deleteFiles: false });
    expect(outcome).toEqual({ runId: kept.id, filesDeleted: false, checkpointsRemoved: 0, worktreeRemoved: false, notes: [] });
    const snapshot = await gone.update;
    gone.stop();
    expect(snapshot.runs.map((r) => r.id)).toEqual([other.id]);
    expect((await client.invoke('runs.list', {})).map((r) => r.id)).toEqual([other.id]);
    // Every byte kept; what follows is only the exit of its idle agent, stopped by the delete.
    expect(fs.readFileSync(log).subarray(0, before.length).equals(before)).toBe(true);
    expect(appendedTypes(log, before.length)).toEqual(['runtime.exited']);
    expect(workstation.ledger.run(kept.id)).toBeDefined();
    expect(workstation.ledger.verify().ok).toBe(true);
    // Deleted is deleted: a second delete (unless now with its files) or an archive is answered as for a run not in the list.
    await expect(client.invoke('run.delete', { runId: kept.id, deleteFiles: false })).rejects.toMatchObject({
      code: 'not_found',
      message: `There is no run ${kept.id} in the run list.`,
    });
    expect(fs.existsSync(log)).toBe(true);
  });

  it('delete with files removes that run’s ledger, checkpoint refs and run folder, and nothing of another run', async () => {
    const dataDir = tempDir();
    const { workstation, client } = await start({ dataDir });
    const repo = busyRepo();
    const doomed = await finishedRun(client, workstation, repo);
    const other = await finishedRun(client, workstation, repo);
    const paths = ledgerPaths(dataDir);
    expect(keelRefsOf(repo, doomed.id).length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dataDir, 'runs', doomed.id))).toBe(true);
    await workstation.runs.release(other.id); // its idle agent stopped now, so its log holds still
    const otherLog = fs.readFileSync(paths.logOf(other.id));
    const otherRefs = keelRefsOf(repo, other.id);

    const outcome = await client.invoke('run.delete', { runId: doomed.id, deleteFiles: true });
    expect(outcome).toMatchObject({ runId: doomed.id, filesDeleted: true, worktreeRemoved: false, notes: [] });
    expect(outcome.checkpointsRemoved).toBeGreaterThan(0);
    expect(fs.existsSync(paths.logOf(doomed.id))).toBe(false);
    expect(workstation.ledger.run(doomed.id)).toBeUndefined();
    expect(workstation.ledger.read(doomed.id)).toEqual([]);
    expect(keelRefsOf(repo, doomed.id)).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'runs', doomed.id))).toBe(false);
    // The other run: its log byte for byte, its refs, its list entry; the ledger verifies.
    expect(fs.readFileSync(paths.logOf(other.id)).equals(otherLog)).toBe(true);
    expect(keelRefsOf(repo, other.id)).toEqual(otherRefs);
    expect((await client.invoke('runs.list', {})).map((r) => r.id)).toEqual([other.id]);
    const verified = workstation.ledger.verify();
    expect(verified.ok).toBe(true);
    expect(verified.runs.map((r) => r.runId)).toEqual([other.id]);
    expect(JSON.parse(fs.readFileSync(runListFile(dataDir), 'utf8')).runs[doomed.id]).toMatchObject({ files: 'deleted' });
  });

  it('delete with files removes a run’s clean worktree and keeps its branch', async () => {
    const dataDir = tempDir();
    const { workstation, client } = await start({ dataDir });
    const repo = busyRepo();
    const run = await client.invoke('runs.create', { workspace: repo, agent: HELLO, worktree: true });
    const { turn } = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
    await workstation.runs.get(run.id).waitForTurn(turn);
    const worktree = path.join(dataDir, 'worktrees', run.id);
    expect(fs.existsSync(worktree)).toBe(true);
    const outcome = await client.invoke('run.delete', { runId: run.id, deleteFiles: true });
    expect(outcome).toMatchObject({ filesDeleted: true, worktreeRemoved: true, notes: [] });
    expect(fs.existsSync(worktree)).toBe(false);
    expect(git(repo, ['branch', '--list', `keel/${run.id}`]).trim()).toBe(`keel/${run.id}`);
  });

  it('an imported (read-only) run, which cannot be renamed, can be archived and deleted with its files', async () => {
    const source = await start();
    const run = await finishedRun(source.client, source.workstation, tempDir('keel-ws-'));
    const exported = path.join(tempDir('keel-export-'), 'run.ndjson');
    source.workstation.ledger.export(run.id, exported, { trailer: true });
    const dataDir = tempDir();
    const { workstation, client } = await start({ dataDir });
    workstation.ledger.import(exported, { requireTrailer: true });
    expect(workstation.ledger.run(run.id)).toMatchObject({ readOnly: true, origin: 'imported' });
    await expect(client.invoke('run.rename', { runId: run.id, title: 'Mine' })).rejects.toMatchObject({ code: 'forbidden' });
    await client.invoke('run.archive', { runId: run.id, archived: true });
    expect((await client.invoke('runs.list', {}))[0]).toMatchObject({ id: run.id, archived: true, readOnly: true });
    expect(await client.invoke('run.delete', { runId: run.id, deleteFiles: true })).toMatchObject({ filesDeleted: true, notes: [] });
    expect(fs.existsSync(ledgerPaths(dataDir).logOf(run.id))).toBe(false);
    expect(await client.invoke('runs.list', {})).toEqual([]);
    expect(workstation.ledger.verify().ok).toBe(true);
  });

  it('a run waiting for an approval is refused in plain words, its files untouched', async () => {
    const dataDir = tempDir();
    const { workstation, client } = await start({ dataDir });
    const run = await client.invoke('runs.create', { workspace: tempDir('keel-ws-'), agent: { kind: 'builtin', script: 'edit-and-test' } });
    await client.invoke('run.prompt', { runId: run.id, text: 'go' });
    await workstation.runs.get(run.id).waitForState((state) => state === 'awaiting_approval');
    const refusal = { code: 'conflict', message: 'This run is waiting for an approval. Cancel it (or let the turn end), then delete it.' };
    await expect(client.invoke('run.delete', { runId: run.id, deleteFiles: true })).rejects.toMatchObject(refusal);
    await expect(client.invoke('run.archive', { runId: run.id, archived: true })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('then archive it'),
    });
    expect(fs.existsSync(ledgerPaths(dataDir).logOf(run.id))).toBe(true);
    expect((await client.invoke('runs.list', {})).find((r) => r.id === run.id)).toMatchObject({ archived: false, state: 'awaiting_approval' });
    expect(fs.existsSync(runListFile(dataDir))).toBe(false);
  });

  it('bad and unknown ids are answered in plain words', async () => {
    const { client } = await start();
    await expect(client.invoke('run.delete', { runId: '../keel.db', deleteFiles: true })).rejects.toMatchObject({
      code: 'invalid_input',
      issues: [{ path: 'runId', message: 'a run id is 1-64 letters, digits, "_" or "-"' }],
    });
    await expect(client.invoke('run.archive', { runId: 'NOPE123', archived: true })).rejects.toMatchObject({
      code: 'not_found',
      message: 'There is no run NOPE123 in the run list.',
    });
  });

  it('a deletion of files a killed host left pending is finished on the next open; a broken run-list.json is set aside', async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const run = await finishedRun(first.client, first.workstation, tempDir('keel-ws-'));
    const survivor = await finishedRun(first.client, first.workstation, tempDir('keel-ws-'));
    await first.workstation.close();
    // As a host killed right after recording the intent would leave it.
    fs.writeFileSync(runListFile(dataDir), JSON.stringify({ schema_version: 1, runs: { [run.id]: { deletedAt: new Date().toISOString(), files: 'pending' } } }));

    const second = await start({ dataDir });
    expect(fs.existsSync(ledgerPaths(dataDir).logOf(run.id))).toBe(false);
    expect(second.workstation.ledger.run(run.id)).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(runListFile(dataDir), 'utf8')).runs[run.id].files).toBe('deleted');
    expect((await second.client.invoke('runs.list', {})).map((r) => r.id)).toEqual([survivor.id]);
    await second.client.invoke('run.archive', { runId: survivor.id, archived: true });
    await second.workstation.close();

    fs.writeFileSync(runListFile(dataDir), '{ not json');
    const third = await start({ dataDir });
    expect((await third.client.invoke('runs.list', {})).map((r) => [r.id, r.archived])).toEqual([[survivor.id, false]]);
    expect(fs.readFileSync(`${runListFile(dataDir)}.broken`, 'utf8')).toBe('{ not json');
  });
});
