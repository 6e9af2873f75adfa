// A restore is a diff boundary (issue 12 point 5): the turn after a restore is measured from the
// restored tree, not from the checkpoint taken before the restore. Real git repository, the
// real built-in agent, restores through the run, the real ledger.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLedger } from '../src/ledger/index.js';
import { RunManager } from '../src/runs/index.js';
import { diffTurn } from '../src/workspace/index.js';
import { busyRepo, write } from './fixtures/checkpoint-kit.js';
import { createRun, FAST_RESTART, ofType, tempDir, useRuntimeSuite, waitForEvent } from './fixtures/runtime-kit.js';

useRuntimeSuite();

const edit = (file: string, content: string) => [
  { permission: { kind: 'edit', title: `Write ${file}`, paths: [file] } },
  { write: { path: file, content } },
];

/** Turn 1 writes a.txt and b.txt; turn 2 changes a.txt and adds c.txt; turn 3 changes `third` only. */
function script(third: string): string {
  const file = path.join(tempDir('keel-boundary-script-'), 'boundary.json');
  const turns = [
    { steps: [...edit('a.txt', 'a1\n'), ...edit('b.txt', 'b1\n'), { message: 'turn 1' }] },
    { steps: [...edit('a.txt', 'a2\n'), ...edit('c.txt', 'c2\n'), { message: 'turn 2' }] },
    { steps: [...edit(third, `${third} 3\n`), { message: 'turn 3' }] },
  ];
  fs.writeFileSync(file, JSON.stringify({ name: 'boundary', description: 'three turns around a restore', turns }));
  return file;
}

async function twoTurnsThenRestore(third: string, files: string[] | null) {
  const repo = busyRepo();
  const harness = await createRun({ workspace: repo, agent: { kind: 'builtin', script: script(third) }, approvalMode: 'all' });
  const { controller } = harness;
  await controller.start();
  for (let turn = 1; turn <= 2; turn++) {
    await controller.prompt(`turn ${turn}`);
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    await harness.waitForType('checkpoint.created', (event) => event.payload.turn === turn);
  }
  const restored = await controller.checkpoints.restore(1, files);
  expect(restored.kind).toBe('completed');
  await controller.prompt('turn 3');
  expect(await controller.waitForTurn(3)).toBe('end_turn');
  const created = await harness.waitForType('checkpoint.created', (event) => event.payload.turn === 3);
  return { repo, harness, created, restored: ofType(harness.events(), 'checkpoint.restore_completed').at(-1)! };
}

describe('after a restore, the next turn is measured from the restored tree', () => {
  it('restore to turn 1, turn 3 edits one file: its checkpoint, its diff and its commit parent name only that file', async () => {
    const { repo, harness, created, restored } = await twoTurnsThenRestore('b.txt', null);
    expect(fs.existsSync(path.join(repo, 'c.txt'))).toBe(false); // the restore removed turn 2's file
    expect(created.payload.files.map((file) => [file.path, file.status])).toEqual([['b.txt', 'modified']]);
    expect(created.payload.filesChanged).toBe(1);
    // A whole restore leaves the worktree exactly at turn 1's checkpoint: that is the boundary.
    expect(restored.payload.restoredCommit).toBe(restored.payload.targetCommit);
    const diff = await diffTurn(repo, { dataDir: harness.dataDir, runId: harness.runId, turn: 3 });
    expect(diff.files.map((file) => file.path)).toEqual(['b.txt']);
    expect(diff.files[0]!.patch).toContain('+b.txt 3');
    expect([diff.fromTurn, diff.afterRestore, diff.from]).toEqual([1, true, restored.payload.targetCommit]);
    // Turn 2's own diff is unchanged by the restore.
    const turn2 = await diffTurn(repo, { dataDir: harness.dataDir, runId: harness.runId, turn: 2 });
    expect(turn2.files.map((file) => file.path).sort()).toEqual(['a.txt', 'c.txt']);
    expect([turn2.fromTurn, turn2.afterRestore]).toEqual([1, false]);
    await harness.close();
  }, 90_000);

  it('a per-file restore (a.txt to turn 1) is a boundary too: turn 3 adding d.txt lists only d.txt', async () => {
    const { repo, harness, created, restored } = await twoTurnsThenRestore('d.txt', ['a.txt']);
    expect(fs.readFileSync(path.join(repo, 'a.txt'), 'utf8')).toBe('a1\n');
    expect(fs.existsSync(path.join(repo, 'c.txt'))).toBe(true); // not restored: left as turn 2 made it
    // The restored worktree is neither turn 1 nor turn 2: its own commit.
    expect(restored.payload.restoredCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(restored.payload.restoredCommit).not.toBe(restored.payload.targetCommit);
    expect(created.payload.files.map((file) => [file.path, file.status])).toEqual([['d.txt', 'added']]);
    const diff = await diffTurn(repo, { dataDir: harness.dataDir, runId: harness.runId, turn: 3 });
    expect(diff.files.map((file) => file.path)).toEqual(['d.txt']);
    expect([diff.fromTurn, diff.afterRestore, diff.from]).toEqual([null, true, restored.payload.restoredCommit]);
    await harness.close();
  }, 90_000);

  it('drift on resume after a restore (no turn since) is measured from the restored tree: only the hand edit counts', async () => {
    const repo = busyRepo();
    const harness = await createRun({ workspace: repo, agent: { kind: 'builtin', script: script('b.txt') }, approvalMode: 'all' });
    await harness.controller.start();
    for (let turn = 1; turn <= 2; turn++) {
      await harness.controller.prompt(`turn ${turn}`);
      expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
      await harness.waitForType('checkpoint.created', (event) => event.payload.turn === turn);
    }
    expect((await harness.controller.checkpoints.restore(1, null)).kind).toBe('completed');
    const { dataDir, runId } = harness;
    await harness.close();

    write(repo, 'b.txt', 'edited by hand\n');
    const ledger = await openLedger({ dataDir });
    const manager = await RunManager.open({ ledger, dataDir, tuning: { restart: FAST_RESTART } });
    try {
      await manager.get(runId).start();
      const drift = await waitForEvent(ledger, runId, (event) => event.type === 'workspace.drift');
      const payload = drift.payload as { count: number; files: Array<{ path: string; status: string }> };
      expect(payload.files.map((file) => `${file.status} ${file.path}`)).toEqual(['modified b.txt']);
      expect(payload.count).toBe(1);
    } finally {
      await manager.close();
      await ledger.close();
    }
  }, 90_000);
});
