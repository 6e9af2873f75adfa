// A storage failure mid-turn (issue 10.1): the ledger stops (fail stop, I1), the run's activity
// ends in memory — agent stopped, turn settled as storage_failed, `keel run` exits non-zero —
// and the next open records what happened. A small tmpfs is the full disk (Linux, root).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STOP_REASONS } from '../src/contract/index.js';
import { openLedger } from '../src/ledger/index.js';
import { readRunEvents, RunManager } from '../src/runs/index.js';
import { keelBin, ofType, processAlive, requireBuilt, tempDir } from './fixtures/runtime-kit.js';
import { mountTmpfs, probeTmpfs, remountTmpfs, unmountAll } from './fixtures/tmpfs-kit.js';

const root = tempDir('keel-storage-');
const tmpfs = probeTmpfs(root);
if (!tmpfs.ok) console.log(`[storage-failure] skipping: ${tmpfs.reason}`);
afterAll(unmountAll);

describe.skipIf(!tmpfs.ok)('a full disk mid-turn', () => {
  it('ends the turn storage_failed in memory and stops the agent; the next open records storage_failed; nothing acknowledged is lost', async () => {
    requireBuilt();
    const dataDir = mountTmpfs(root, 'data-1', '3m');
    const workspace = tempDir('keel-storage-ws-');
    const ledger = await openLedger({ dataDir });
    const manager = await RunManager.open({ ledger, dataDir, tuning: { hangTimeoutMs: 0 } });
    const controller = await manager.create({ workspace, agent: { kind: 'builtin', script: 'long-stream' }, approvalMode: 'all' });
    await controller.start();
    const agentPid = controller.agentPid!;
    const acknowledged: number[] = [];
    const stop = ledger.onCommit((event) => event.run_id === controller.runId && acknowledged.push(event.seq));
    const { turn } = await controller.prompt('Stream a lot');
    expect(await controller.waitForTurn(turn)).toBe('storage_failed');
    expect(controller.runState).toBe('failed');
    await expect(controller.prompt('again')).rejects.toMatchObject({ code: 'unavailable' });
    await controller.supervisor.generation?.exitRecorded.catch(() => {});
    expect(processAlive(agentPid)).toBe(false);
    stop();
    await manager.close();
    await ledger.close().catch(() => {});

    // Space is back: the next open records what happened, and keeps every acknowledged event.
    remountTmpfs(dataDir, '64m');
    const reopened = await openLedger({ dataDir });
    const next = await RunManager.open({ ledger: reopened, dataDir });
    const events = readRunEvents(reopened, controller.runId);
    const seqs = new Set(events.map((event) => event.seq));
    expect(acknowledged.every((seq) => seqs.has(seq))).toBe(true);
    expect(ofType(events, 'run.recovered').map((event) => event.payload.reason)).toEqual(['storage_failed']);
    expect(ofType(events, 'turn.ended').map((event) => event.payload)).toEqual([{ turn, stopReason: 'storage_failed' }]);
    expect(ofType(events, 'run.state').at(-1)!.payload).toMatchObject({ state: 'interrupted', stopReason: 'storage_failed', detail: expect.stringMatching(/ENOSPC|space|full/i) });
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'runs', controller.runId, 'storage-failure.json'), 'utf8')).failure).toBeNull();
    expect(reopened.verify().ok).toBe(true);
    await next.close();
    await reopened.close();
  });

  it('keel run exits with storage_failed\'s own exit code', async () => {
    requireBuilt();
    const dataDir = mountTmpfs(root, 'data-2', '3m');
    const workspace = tempDir('keel-storage-ws-');
    const child = spawn(process.execPath, [keelBin, 'run', '--data', dataDir, '--workspace', workspace, '--script', 'long-stream'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(STOP_REASONS.storage_failed.exitCode);
  });
});
