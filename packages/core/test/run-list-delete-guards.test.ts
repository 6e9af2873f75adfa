// The guards around deleting a run (issue 15 point 20, ADR 0019), with a real workstation, real
// ledgers and the built-in agent: a prompt that lands while a delete stops the idle agent is
// refused (no second controller, no writes to a run being deleted); a run deleted with its files
// kept is never opened again, here or after a restart, and its files can still be deleted later;
// replay does not serve a run whose files went from what it indexed before; run-list.json that
// this build cannot read (not there is fine; a folder, a newer Keel's) is left as it is and never
// replaced; a pending deletion is finished before any run is opened, in the app and in the CLI.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeelClient, RunSummary } from '../src/contract/index.js';
import { ledgerPaths } from '../src/ledger/index.js';
import { runListFile } from '../src/host/run-list-marks.js';
import { recordStorageFailure } from '../src/runs/storage-failure.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { tempDir } from './helpers.js';

const { start } = useWorkstations();
const HELLO = { kind: 'builtin', script: 'hello' } as const;
const DELETED = { code: 'not_found', message: 'This run was deleted.' };

async function finishedRun(client: KeelClient, workstation: Awaited<ReturnType<typeof start>>['workstation']): Promise<RunSummary> {
  const run = await client.invoke('runs.create', { workspace: tempDir('keel-ws-'), agent: HELLO });
  const { turn } = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
  await workstation.runs.get(run.id).waitForTurn(turn);
  return run;
}

const openRunIds = (workstation: Awaited<ReturnType<typeof start>>['workstation']) => workstation.runs.open().map((controller) => controller.runId);

describe('run delete guards', () => {
  it('a prompt sent while a delete stops the run’s idle agent is refused: no new controller, the files go, nothing recreates them', async () => {
    const dataDir = tempDir();
    const { workstation, client } = await start({ dataDir });
    const run = await finishedRun(client, workstation);
    const other = await finishedRun(client, workstation);
    expect(openRunIds(workstation)).toContain(run.id); // its agent idles between turns

    // Sent together: the prompt arrives while the delete awaits the agent's stop.
    const deleting = client.invoke('run.delete', { runId: run.id, deleteFiles: true });
    const prompting = client.invoke('run.prompt', { runId: run.id, text: 'Say hello again' });
    await expect(prompting).rejects.toMatchObject(DELETED);
    expect(await deleting).toMatchObject({ runId: run.id, filesDeleted: true, notes: [] });

    expect(openRunIds(workstation)).not.toContain(run.id);
    expect(workstation.ledger.run(run.id)).toBeUndefined();
    expect(fs.existsSync(ledgerPaths(dataDir).logOf(run.id))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'runs', run.id))).toBe(false);
    await expect(client.invoke('run.prompt', { runId: run.id, text: 'again' })).rejects.toMatchObject(DELETED);
    // The other run is untouched and still answers.
    const { turn } = await client.invoke('run.prompt', { runId: other.id, text: 'Say hello' });
    await workstation.runs.get(other.id).waitForTurn(turn);
    expect(workstation.ledger.verify()).toMatchObject({ ok: true });
  });

  it('a run deleted with its files kept is never opened again, even after a restart, and its files can be deleted later', async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const run = await finishedRun(first.client, first.workstation);
    expect(await first.client.invoke('run.delete', { runId: run.id, deleteFiles: false })).toMatchObject({ filesDeleted: false });
    await expect(first.client.invoke('run.prompt', { runId: run.id, text: 'hi' })).rejects.toMatchObject(DELETED);
    await expect(first.client.invoke('runtime.restart', { runId: run.id })).rejects.toMatchObject(DELETED);
    expect(openRunIds(first.workstation)).not.toContain(run.id);
    const log = fs.readFileSync(ledgerPaths(dataDir).logOf(run.id));
    await first.workstation.close();

    const second = await start({ dataDir });
    await expect(second.client.invoke('run.prompt', { runId: run.id, text: 'hi' })).rejects.toMatchObject(DELETED);
    expect(fs.readFileSync(ledgerPaths(dataDir).logOf(run.id)).equals(log)).toBe(true);
    // Asking again without the files is still "not in the list"; with the files, they go.
    await expect(second.client.invoke('run.delete', { runId: run.id, deleteFiles: false })).rejects.toMatchObject({ code: 'not_found' });
    expect(await second.client.invoke('run.delete', { runId: run.id, deleteFiles: true })).toMatchObject({ runId: run.id, filesDeleted: true, notes: [] });
    expect(fs.existsSync(ledgerPaths(dataDir).logOf(run.id))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'runs', run.id))).toBe(false);
    expect(JSON.parse(fs.readFileSync(runListFile(dataDir), 'utf8')).runs[run.id]).toMatchObject({ files: 'deleted' });
    await expect(second.client.invoke('run.delete', { runId: run.id, deleteFiles: true })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('replay does not serve a run whose files were deleted from what it had indexed', async () => {
    const { workstation, client } = await start();
    const run = await finishedRun(client, workstation);
    const timeline = await client.invoke('replay.open', { runId: run.id });
    expect(timeline.events).toBeGreaterThan(0);
    expect((await client.invoke('replay.stateAt', { runId: run.id, seq: 1 })).view.runId).toBe(run.id);
    await client.invoke('run.delete', { runId: run.id, deleteFiles: true });
    await expect(client.invoke('replay.open', { runId: run.id })).rejects.toMatchObject({ code: 'not_found' });
    await expect(client.invoke('replay.stateAt', { runId: run.id, seq: 1 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(client.invoke('replay.events', { runId: run.id, fromSeq: 1 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(client.invoke('run.view', { runId: run.id })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('run-list.json that cannot be read (a folder in its place) is left alone: every run listed, changes refused in plain words', async () => {
    const dataDir = tempDir();
    fs.mkdirSync(runListFile(dataDir), { recursive: true });
    const { workstation, client } = await start({ dataDir });
    const run = await finishedRun(client, workstation);
    expect((await client.invoke('runs.list', {})).map((r) => r.id)).toEqual([run.id]);
    await expect(client.invoke('run.archive', { runId: run.id, archived: true })).rejects.toMatchObject({
      code: 'unavailable',
      message: `Keel could not read ${runListFile(dataDir)} (EISDIR), so it does not replace it: archived and deleted runs in it would be lost. Fix the file's permissions (or move it away), then try again.`,
    });
    await expect(client.invoke('run.delete', { runId: run.id, deleteFiles: true })).rejects.toMatchObject({ code: 'unavailable' });
    // Refused before anything went: the run is listed, answers, and its files are there.
    expect(fs.statSync(runListFile(dataDir)).isDirectory()).toBe(true);
    expect(fs.existsSync(`${runListFile(dataDir)}.broken`)).toBe(false);
    expect(fs.existsSync(ledgerPaths(dataDir).logOf(run.id))).toBe(true);
    const { turn } = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
    await workstation.runs.get(run.id).waitForTurn(turn);
  });

  it('run-list.json from a newer Keel is read as far as this build can and never renamed or replaced', async () => {
    const source = await start();
    const archived = await finishedRun(source.client, source.workstation);
    const deleted = await finishedRun(source.client, source.workstation);
    const listed = await finishedRun(source.client, source.workstation);
    await source.workstation.close();
    const dataDir = source.workstation.dataDir;
    const newer = `${JSON.stringify({
      schema_version: 2,
      runs: {
        [archived.id]: { archivedAt: '2026-11-30T10:00:00.000Z', pinnedAt: '2026-11-30T10:00:00.000Z' },
        [deleted.id]: { deletedAt: '2026-11-30T10:00:00.000Z', files: 'pending', reason: 'tidy' },
      },
      folders: ['later'],
    })}\n`;
    fs.writeFileSync(runListFile(dataDir), newer);

    const { client } = await start({ dataDir });
    expect((await client.invoke('runs.list', {})).map((r) => [r.id, r.archived])).toEqual([
      [archived.id, true],
      [listed.id, false],
    ]);
    // Its pending deletion is not finished by a build that could not record it done.
    expect(fs.existsSync(ledgerPaths(dataDir).logOf(deleted.id))).toBe(true);
    await expect(client.invoke('run.archive', { runId: listed.id, archived: true })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('was written by a newer Keel (schema_version 2); this Keel does not change it.'),
    });
    expect(fs.readFileSync(runListFile(dataDir), 'utf8')).toBe(newer);
    expect(fs.existsSync(`${runListFile(dataDir)}.broken`)).toBe(false);
  });

  it('a pending deletion is finished before any run opens: a run the killed host left live gets no controller', async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const run = await finishedRun(first.client, first.workstation);
    const survivor = await finishedRun(first.client, first.workstation);
    await first.workstation.close();
    // As a killed host may leave it: a storage failure recorded (so the next open reconciles the
    // run) and its deletion asked for and not done.
    recordStorageFailure(path.join(dataDir, 'runs', run.id), 'disk full');
    fs.writeFileSync(runListFile(dataDir), JSON.stringify({ schema_version: 1, runs: { [run.id]: { deletedAt: new Date().toISOString(), files: 'pending' } } }));

    const second = await start({ dataDir });
    expect(openRunIds(second.workstation)).not.toContain(run.id);
    expect(second.workstation.ledger.run(run.id)).toBeUndefined();
    expect(fs.existsSync(ledgerPaths(dataDir).logOf(run.id))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'runs', run.id))).toBe(false);
    expect(JSON.parse(fs.readFileSync(runListFile(dataDir), 'utf8')).runs[run.id].files).toBe('deleted');
    expect((await second.client.invoke('runs.list', {})).map((r) => r.id)).toEqual([survivor.id]);
  });
});
