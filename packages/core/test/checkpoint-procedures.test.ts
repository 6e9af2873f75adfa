// The checkpoint procedures over the contract (issue 12): checkpoints.list / checkpoints.diff /
// checkpoints.restore through a real Workstation, the real built-in agent and a real repository.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, KeelRpcError } from '../src/contract/index.js';
import { memoryTransport } from '../src/host/router.js';
import { openWorkstation, type Workstation } from '../src/host/workstation.js';
import { busyRepo, removeTempDirs, userState, worktreeFiles } from './fixtures/checkpoint-kit.js';
import { requireBuilt, tempDir, waitForEvent } from './fixtures/runtime-kit.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/checkpoint-turns.json', import.meta.url));
const opened: Workstation[] = [];
beforeAll(requireBuilt);
afterEach(async () => {
  for (const workstation of opened.splice(0)) await workstation.close();
  removeTempDirs();
});

describe('checkpoint procedures', () => {
  it('list and diff a run of two turns, restore one file, then the whole baseline; bad input is refused in plain words', async () => {
    const workstation = await openWorkstation({ dataDir: tempDir('keel-cpp-data-'), mode: 'headless', heartbeatMs: 60_000 });
    opened.push(workstation);
    const client = createClient(memoryTransport(workstation.router));
    const repo = busyRepo();
    const before = userState(repo);
    const files = worktreeFiles(repo);
    const run = await client.invoke('runs.create', { workspace: repo, agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all' });
    for (let turn = 1; turn <= 2; turn++) {
      await client.invoke('run.prompt', { runId: run.id, text: `turn ${turn}` });
      await waitForEvent(workstation.ledger, run.id, (event) => event.type === 'checkpoint.created' && (event.payload as { turn: number }).turn === turn);
    }

    const listing = await client.invoke('checkpoints.list', { runId: run.id });
    expect(listing.checkpoints.map((entry) => [entry.turn, entry.status, entry.filesChanged])).toEqual([
      [0, 'created', 8],
      [1, 'created', 1],
      [2, 'created', 1],
    ]);
    const diff = await client.invoke('checkpoints.diff', { runId: run.id, turn: 2 });
    expect(diff.fromTurn).toBe(1);
    expect(diff.files.map((file) => file.path)).toEqual(['src/app.ts']);
    expect(diff.files[0]!.patch).toContain("+export const app = 3; // the agent's edit");
    await expect(client.invoke('checkpoints.diff', { runId: run.id, turn: 2, file: 'nope.txt' })).rejects.toThrow(/did not change nope\.txt/);
    await expect(client.invoke('checkpoints.diff', { runId: run.id, turn: 9 })).rejects.toThrow(/no checkpoint for turn 9/);

    const one = await client.invoke('checkpoints.restore', { runId: run.id, turn: 1, files: ['src/app.ts'] });
    expect(one.kind).toBe('completed');
    expect(fs.readFileSync(path.join(repo, 'src/app.ts'), 'utf8')).toBe('export const app = 2; // unstaged\n');
    expect(fs.existsSync(path.join(repo, 'hello.txt'))).toBe(true);

    const all = await client.invoke('checkpoints.restore', { runId: run.id, turn: 0 });
    expect(all.kind).toBe('completed');
    expect(worktreeFiles(repo)).toEqual(files);
    expect(userState(repo)).toEqual(before);

    const error = await client.invoke('checkpoints.restore', { runId: run.id, turn: -1 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeelRpcError);
    expect((error as KeelRpcError).code).toBe('invalid_input');
  }, 90_000);
});
