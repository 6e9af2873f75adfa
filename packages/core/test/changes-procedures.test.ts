// run.changes / run.changeFile over the contract (issue 15, point 19): a real Workstation, the
// real built-in agent editing a real repository across two turns. A file the range does not list
// is refused in plain words (I11); the workspace is always the run's own.
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, KeelRpcError } from '../src/contract/index.js';
import { memoryTransport } from '../src/host/router.js';
import { openWorkstation, type Workstation } from '../src/host/workstation.js';
import { busyRepo, removeTempDirs, userState } from './fixtures/checkpoint-kit.js';
import { requireBuilt, tempDir, waitForEvent } from './fixtures/runtime-kit.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/checkpoint-turns.json', import.meta.url));
const opened: Workstation[] = [];
beforeAll(requireBuilt);
afterEach(async () => {
  for (const workstation of opened.splice(0)) await workstation.close();
  removeTempDirs();
});

const refusal = (promise: Promise<unknown>) => promise.then(() => null, (caught: unknown) => caught as KeelRpcError);

describe('changes procedures', () => {
  it("list a run's changes, show one file, and refuse a path the diff does not list", async () => {
    const workstation = await openWorkstation({ dataDir: tempDir('keel-chp-data-'), mode: 'headless', heartbeatMs: 60_000 });
    opened.push(workstation);
    const client = createClient(memoryTransport(workstation.router));
    const repo = busyRepo();
    const run = await client.invoke('runs.create', { workspace: repo, agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all' });

    const before = await client.invoke('run.changes', { runId: run.id });
    expect(before.files).toEqual([]);
    expect(before.note).toMatch(/no checkpoint yet/);

    for (let turn = 1; turn <= 2; turn++) {
      await client.invoke('run.prompt', { runId: run.id, text: `turn ${turn}` });
      await waitForEvent(workstation.ledger, run.id, (event) => event.type === 'checkpoint.created' && (event.payload as { turn: number }).turn === turn);
    }
    const state = userState(repo);

    const whole = await client.invoke('run.changes', { runId: run.id });
    expect([whole.from, whole.to]).toEqual([0, 2]);
    expect(whole.files.map((file) => [file.path, file.status, file.added, file.removed])).toEqual([
      ['hello.txt', 'added', 1, 0],
      ['src/app.ts', 'modified', 1, 1],
    ]);
    const turn1 = await client.invoke('run.changes', { runId: run.id, from: 0, to: 1 });
    expect(turn1.files.map((file) => file.path)).toEqual(['hello.txt']);

    const app = await client.invoke('run.changeFile', { runId: run.id, path: 'src/app.ts' });
    expect(app.old?.text).toBe('export const app = 2; // unstaged\n');
    expect(app.new?.text).toBe("export const app = 3; // the agent's edit\n");

    // Confinement: a file the range does not list, a path outside the workspace, a file of
    // another turn: refused in plain words, nothing read.
    const notListed = await refusal(client.invoke('run.changeFile', { runId: run.id, path: 'README.md' }));
    expect(notListed).toBeInstanceOf(KeelRpcError);
    expect(notListed!.code).toBe('forbidden');
    expect(notListed!.message).toBe('"README.md" is not one of the files this run changed between the baseline (turn 0) and turn 2; only those can be shown.');
    const outside = await refusal(client.invoke('run.changeFile', { runId: run.id, path: '/etc/passwd' }));
    expect(outside!.code).toBe('forbidden');
    const otherTurn = await refusal(client.invoke('run.changeFile', { runId: run.id, path: 'src/app.ts', from: 0, to: 1 }));
    expect(otherTurn!.message).toMatch(/^"src\/app\.ts" is not one of the files this run changed between the baseline \(turn 0\) and turn 1/);

    const noTurn = await refusal(client.invoke('run.changes', { runId: run.id, to: 9 }));
    expect(noTurn!.code).toBe('not_found');
    expect(noTurn!.message).toBe('This run has no checkpoint for turn 9: it was skipped or not taken yet.');
    const badInput = await refusal(client.invoke('run.changeFile', { runId: run.id, path: '' }));
    expect(badInput!.code).toBe('invalid_input');
    const badEnd = await refusal(client.invoke('run.changes', { runId: run.id, to: 'later' as never }));
    expect(badEnd!.code).toBe('invalid_input');
    const noRun = await refusal(client.invoke('run.changes', { runId: 'r-nope' }));
    expect(noRun!.code).toBe('not_found');

    expect(userState(repo)).toEqual(state);

    // A run with no controller open (a host restarted, a run only looked at): its changes and
    // checkpoints are listed without opening one (the workspace comes from the runs projection).
    await workstation.runs.release(run.id);
    expect(workstation.runs.open().map((controller) => controller.runId)).not.toContain(run.id);
    expect((await client.invoke('run.changes', { runId: run.id })).files.map((file) => file.path)).toEqual(['hello.txt', 'src/app.ts']);
    expect((await client.invoke('checkpoints.list', { runId: run.id })).checkpoints.map((entry) => entry.turn)).toEqual([0, 1, 2]);
    expect(workstation.runs.open().map((controller) => controller.runId)).not.toContain(run.id);
  }, 90_000);
});
