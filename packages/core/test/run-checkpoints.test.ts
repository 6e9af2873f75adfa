// Checkpoints taken by runs (issue 12): a baseline before turn 1 and one at every turn end
// (also when the turn ended by a crash or host-crash reconciliation), recorded in the ledger with
// sidecars and deps.changed; drift on resume; the policy's deps section; restore through the run,
// byte for byte back to the user's repository as it was (I7). Real git, the real built-in agent.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openLedger } from '../src/ledger/index.js';
import { readRunEvents, RunManager } from '../src/runs/index.js';
import { listCheckpoints, pendingRestore } from '../src/workspace/index.js';
import { busyRepo, git, keelRefs, userState, worktreeFiles, write } from './fixtures/checkpoint-kit.js';
import { createRun, FAST_RESTART, ofType, tempDir, useRuntimeSuite, waitForEvent } from './fixtures/runtime-kit.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/checkpoint-turns.json', import.meta.url));
const RESTORER = fileURLToPath(new URL('./fixtures/run-restorer.mjs', import.meta.url));

useRuntimeSuite();

describe('a run takes checkpoints at its turn boundaries', () => {
  it('records the baseline before turn 1 and a checkpoint after each turn; a restore to the baseline puts back exactly the repository as it was', async () => {
    const repo = busyRepo();
    const before = userState(repo);
    const filesBefore = worktreeFiles(repo);
    const harness = await createRun({ workspace: repo, agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all' });
    const { controller } = harness;
    await controller.start();
    const baseline = await harness.waitForType('checkpoint.created', (event) => event.payload.turn === 0);

    for (let turn = 1; turn <= 3; turn++) {
      const sent = await controller.prompt(`turn ${turn}`);
      expect(sent.turn).toBe(turn);
      expect(await controller.waitForTurn(turn)).toBe('end_turn');
      await harness.waitForType('checkpoint.created', (event) => event.payload.turn === turn);
    }
    const events = harness.events();
    // The baseline is durable before the first prompt; each turn's checkpoint after its end.
    const prompt1 = ofType(events, 'prompt.sent')[0]!;
    expect(baseline.seq).toBeLessThan(prompt1.seq);
    for (const created of ofType(events, 'checkpoint.created').slice(1)) {
      const ended = ofType(events, 'turn.ended').find((event) => event.payload.turn === created.payload.turn)!;
      expect(created.seq).toBeGreaterThan(ended.seq);
      const next = ofType(events, 'prompt.sent').find((event) => event.payload.turn === created.payload.turn + 1);
      if (next) expect(created.seq).toBeLessThan(next.seq); // the next prompt waited for it
    }
    const created = ofType(events, 'checkpoint.created');
    expect(created.map((event) => event.payload.turn)).toEqual([0, 1, 2, 3]);
    expect(created[1]!.payload.files.map((file) => [file.path, file.status])).toEqual([['hello.txt', 'added']]);
    expect(created[2]!.payload.files.map((file) => [file.path, file.status])).toEqual([['src/app.ts', 'modified']]);
    expect(created[3]!.payload.files.map((file) => file.path)).toEqual(['package-lock.json']);
    // deps.changed for the turn that changed a lockfile, with the packages
    const deps = ofType(events, 'deps.changed');
    expect(deps).toHaveLength(1);
    expect(deps[0]!.payload.turn).toBe(3);
    expect(deps[0]!.payload.lockfiles[0]!.added.map((entry) => entry.name).sort()).toEqual(['@acme/widgets', 'left-pad']);
    // Hidden refs and sidecars; the user's index, HEAD, branches and stash untouched
    expect(keelRefs(repo)).toEqual([0, 1, 2, 3].map((turn) => `refs/keel/checkpoints/${harness.runId}/${turn}`));
    const listing = await listCheckpoints({ dataDir: harness.dataDir, runId: harness.runId });
    expect(listing.checkpoints.map((entry) => [entry.turn, entry.status])).toEqual([0, 1, 2, 3].map((turn) => [turn, 'created']));
    const during = userState(repo);
    expect([during.indexBytes, during.head, during.branches, during.heads, during.stash, during.stashLog, during.staged]).toEqual([
      before.indexBytes,
      before.head,
      before.branches,
      before.heads,
      before.stash,
      before.stashLog,
      before.staged,
    ]);

    // Restore to the baseline through the run: recorded as requested, then completed.
    const result = await controller.checkpoints.restore(0, null);
    expect(result.kind).toBe('completed');
    const after = harness.events();
    const requested = ofType(after, 'checkpoint.restore_requested').at(-1)!;
    const completed = ofType(after, 'checkpoint.restore_completed').at(-1)!;
    expect(requested.payload).toMatchObject({ targetTurn: 0, files: null });
    expect(completed.seq).toBeGreaterThan(requested.seq);
    expect(completed.payload.files.map((file) => `${file.action} ${file.path}`).sort()).toEqual(['removed hello.txt', 'removed package-lock.json', 'restored src/app.ts']);
    expect(worktreeFiles(repo)).toEqual(filesBefore);
    expect(userState(repo)).toEqual(before);
  }, 60_000);

  it('restores a single file of a turn and refuses while a turn runs', async () => {
    const repo = busyRepo();
    const harness = await createRun({ workspace: repo, agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all' });
    const { controller } = harness;
    await controller.start();
    for (let turn = 1; turn <= 2; turn++) {
      await controller.prompt(`turn ${turn}`);
      await controller.waitForTurn(turn);
    }
    await harness.waitForType('checkpoint.created', (event) => event.payload.turn === 2);
    const result = await controller.checkpoints.restore(1, ['src/app.ts']);
    expect(result.kind).toBe('completed');
    expect(fs.readFileSync(path.join(repo, 'src/app.ts'), 'utf8')).toBe('export const app = 2; // unstaged\n');
    expect(fs.existsSync(path.join(repo, 'hello.txt'))).toBe(true); // not in the file list: left alone

    // A turn that waits for a person is active: a restore is refused, nothing recorded.
    const interactive = await createRun({ workspace: busyRepo(), agent: { kind: 'builtin', script: SCRIPT } });
    await interactive.controller.start();
    await interactive.waitForType('checkpoint.created', (event) => event.payload.turn === 0);
    await interactive.promptToFirstApproval('turn 1');
    await expect(interactive.controller.checkpoints.restore(0, null)).rejects.toThrow(/Turn 1 is running/);
    expect(interactive.of('checkpoint.restore_requested')).toEqual([]);
  }, 60_000);

  it('checkpoints a turn the agent crashed in, and one ended by host-crash reconciliation', async () => {
    const repo = busyRepo();
    const harness = await createRun({ workspace: repo, agent: { kind: 'builtin', script: SCRIPT, faults: ['exit-at-step=3'] }, approvalMode: 'all' });
    const { controller } = harness;
    await controller.start();
    await controller.prompt('turn 1');
    const ended = await harness.waitForType('turn.ended', (event) => event.payload.turn === 1);
    expect(ended.payload.stopReason).not.toBe('end_turn');
    const created = await harness.waitForType('checkpoint.created', (event) => event.payload.turn === 1);
    // The agent wrote hello.txt before it died at step 3: the checkpoint has it.
    expect(created.payload.files.map((file) => file.path)).toEqual(['hello.txt']);

    // A host that died mid-turn: the next host ends the turn and checkpoints it.
    const dataDir = tempDir('keel-rcp-host-');
    const ledger = await openLedger({ dataDir });
    const runId = ledger.newRunId();
    await ledger.append(runId, { type: 'run.created', payload: { workspace: fs.realpathSync(repo), agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all' } });
    await ledger.append(runId, { type: 'run.state', payload: { state: 'running' } });
    await ledger.append(runId, { type: 'prompt.sent', generation: 1, payload: { turn: 1, text: 'turn 1', ik: 'ik:test' } } as never);
    const manager = await RunManager.open({ ledger, dataDir, tuning: { restart: FAST_RESTART } });
    try {
      const checkpoint = await waitForEvent(ledger, runId, (event) => event.type === 'checkpoint.created' || event.type === 'checkpoint.skipped');
      expect(checkpoint.type).toBe('checkpoint.created');
      expect((checkpoint.payload as { turn: number }).turn).toBe(1);
      const turnEnded = ledger.read(runId, { fromSeq: 1, limit: 100 }).find((event) => event.type === 'turn.ended')!;
      expect((turnEnded.payload as { stopReason: string }).stopReason).toBe('host_interrupted');
      expect(checkpoint.seq).toBeGreaterThan(turnEnded.seq);
    } finally {
      await manager.close();
      await ledger.close();
    }
  }, 60_000);
});

describe('a checkpoint over its budget', () => {
  it('is recorded as skipped with the reason and never holds up the next turn', async () => {
    const repo = busyRepo();
    const harness = await createRun({ workspace: repo, agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all', tuning: { checkpoints: { budget: { maxBytes: 1 } } } });
    const { controller } = harness;
    await controller.start();
    await controller.prompt('turn 1');
    expect(await controller.waitForTurn(1)).toBe('end_turn');
    const skipped = await harness.waitForType('checkpoint.skipped', (event) => event.payload.turn === 1);
    expect(skipped.payload).toMatchObject({ reason: 'over_byte_budget', budget: { maxBytes: 1 } });
    expect(skipped.payload.detail).toMatch(/over the budget/);
    // The next turn runs; its own checkpoint is skipped the same way.
    await controller.prompt('turn 2');
    expect(await controller.waitForTurn(2)).toBe('end_turn');
    await harness.waitForType('checkpoint.skipped', (event) => event.payload.turn === 2);
    // The repository's uncommitted files are over one byte too: every boundary skipped, no turn held up.
    expect(harness.of('checkpoint.skipped').map((event) => event.payload.turn)).toEqual([0, 1, 2]);
    expect(harness.of('checkpoint.created')).toEqual([]);
  }, 60_000);
});

describe('drift on resume', () => {
  it('a run reopened after files changed outside it records workspace.drift with the files, since its last checkpoint', async () => {
    const repo = busyRepo();
    const harness = await createRun({ workspace: repo, agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all' });
    await harness.controller.start();
    await harness.controller.prompt('turn 1');
    await harness.controller.waitForTurn(1);
    await harness.waitForType('checkpoint.created', (event) => event.payload.turn === 1);
    const { dataDir, runId } = harness;
    await harness.close();

    // Days later, someone edits three files.
    write(repo, 'hello.txt', 'edited by hand\n');
    write(repo, 'src/new.ts', 'export {};\n');
    fs.rmSync(path.join(repo, 'notes.txt'));

    const ledger = await openLedger({ dataDir });
    const manager = await RunManager.open({ ledger, dataDir, tuning: { restart: FAST_RESTART } });
    try {
      const controller = manager.get(runId);
      await controller.start();
      const drift = await waitForEvent(ledger, runId, (event) => event.type === 'workspace.drift');
      const payload = drift.payload as { sinceTurn: number; count: number; files: Array<{ path: string; status: string }> };
      expect(payload.sinceTurn).toBe(1);
      expect(payload.count).toBe(3);
      expect(payload.files.map((file) => `${file.status} ${file.path}`).sort()).toEqual(['added src/new.ts', 'deleted notes.txt', 'modified hello.txt']);
    } finally {
      await manager.close();
      await ledger.close();
    }
  }, 60_000);
});

describe("the policy's deps section", () => {
  const policy = (dataDir: string, deps: string) => fs.writeFileSync(path.join(dataDir, 'policy.yaml'), `schema_version: 1\ndeps:\n${deps}`);

  async function runToLockfileTurn(approvalMode: 'all' | 'interactive', deps: string) {
    const dataDir = tempDir('keel-rcp-deps-');
    policy(dataDir, deps);
    const harness = await createRun({ dataDir, workspace: busyRepo(), agent: { kind: 'builtin', script: SCRIPT }, approvalMode });
    const answering = approvalMode === 'interactive' ? harness.answerApprovals('allow_once') : null;
    await harness.controller.start();
    for (let turn = 1; turn <= 3; turn++) {
      await harness.controller.prompt(`turn ${turn}`);
      await harness.controller.waitForTurn(turn);
    }
    answering?.stop();
    await harness.waitForType('deps.changed');
    return harness;
  }

  it('unattended: a lockfile change outside the allowlist stops the run with lockfile_violation', async () => {
    const harness = await runToLockfileTurn('all', '  mode: allowlist\n  allow: ["@acme/*"]\n');
    const stopped = await harness.waitForType('run.state', (event) => event.payload.state === 'stopped');
    expect(stopped.payload.stopReason).toBe('lockfile_violation');
    const note = harness.of('note').find((event) => event.payload.text.includes('left-pad'));
    expect(note?.payload.text).toMatch(/left-pad@1\.3\.0/);
    expect(note?.payload.text).not.toMatch(/@acme\/widgets@/); // @acme/* is allowed
    await expect(harness.controller.prompt('turn 4')).rejects.toThrow(/stopped/);
  }, 60_000);

  it('interactive: the violation is asked; the next prompt waits for the answer and deny stops the run', async () => {
    const harness = await runToLockfileTurn('interactive', '  mode: strict\n');
    const asked = await harness.waitForType('approval.requested', (event) => event.payload.source === 'keel');
    expect(asked.payload.action.source).toBe('keel.lockfile');
    expect(asked.payload.reason).toMatch(/left-pad@1\.3\.0.*@acme\/widgets@2\.0\.0|@acme\/widgets@2\.0\.0.*left-pad@1\.3\.0/);
    await expect(harness.controller.prompt('turn 4')).rejects.toThrow(/dependency change/);
    await harness.controller.decide(asked.payload.approvalId, 'deny');
    const stopped = await harness.waitForType('run.state', (event) => event.payload.state === 'stopped');
    expect(stopped.payload.stopReason).toBe('lockfile_violation');
  }, 60_000);

  it('no deps section: the change is recorded and nothing is asked', async () => {
    const harness = await runToLockfileTurn('all', '  warn_above: 1\n');
    expect(harness.of('deps.changed')[0]!.payload.totals.added).toBe(2);
    expect(harness.of('note').some((event) => /over the policy's warn_above of 1/.test(event.payload.text))).toBe(true);
    expect(harness.controller.runState).toBe('idle');
  }, 60_000);
});

describe('a host killed with SIGKILL in the middle of a restore', () => {
  it('leaves a journal; the next start finishes the restore and records it as resumed', async () => {
    const repo = busyRepo();
    const before = userState(repo);
    const filesBefore = worktreeFiles(repo);
    const harness = await createRun({ workspace: repo, agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all' });
    await harness.controller.start();
    for (let turn = 1; turn <= 3; turn++) {
      await harness.controller.prompt(`turn ${turn}`);
      await harness.controller.waitForTurn(turn);
    }
    await harness.waitForType('checkpoint.created', (event) => event.payload.turn === 3);
    const { dataDir, runId } = harness;
    await harness.close();

    // A real host process, killed -9 after the safety checkpoint, with one of three paths moved.
    const child = spawn(process.execPath, [RESTORER, dataDir, runId, '0', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    expect(exit.signal, output).toBe('SIGKILL');
    expect(pendingRestore(dataDir, runId)).not.toBeNull();
    expect(worktreeFiles(repo)).not.toEqual(filesBefore); // half done

    const ledger = await openLedger({ dataDir });
    const manager = await RunManager.open({ ledger, dataDir, tuning: { restart: FAST_RESTART } });
    try {
      expect(pendingRestore(dataDir, runId)).toBeNull();
      const events = readRunEvents(ledger, runId);
      const requested = ofType(events, 'checkpoint.restore_requested');
      const completed = ofType(events, 'checkpoint.restore_completed');
      expect(requested).toHaveLength(1); // recorded by the killed host before it touched a file
      expect(completed).toHaveLength(1);
      expect(completed[0]!.payload).toMatchObject({ targetTurn: 0, resumed: true });
      expect(completed[0]!.seq).toBeGreaterThan(requested[0]!.seq);
      expect(worktreeFiles(repo)).toEqual(filesBefore);
      expect(userState(repo)).toEqual(before);
    } finally {
      await manager.close();
      await ledger.close();
    }
  }, 90_000);
});

describe('a run in its own worktree (--worktree)', () => {
  it('works on keel/<run> under the data directory; after a crash a missing worktree is recreated, one on another branch reported', async () => {
    const repo = busyRepo();
    const before = userState(repo);
    const harness = await createRun({ workspace: repo, agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all', worktree: true });
    const { controller, dataDir, runId } = harness;
    const created = await harness.waitForType('workspace.worktree');
    // Every start checks it: the first finds it in place.
    const where = path.join(fs.realpathSync(dataDir), 'worktrees', runId);
    expect(created.payload).toMatchObject({ action: 'created', path: where, branch: `keel/${runId}`, source: repo });
    expect(harness.of('run.created')[0]!.payload.workspace).toBe(where);
    await controller.start();
    expect((await harness.waitForType('workspace.worktree', undefined, { after: created.seq })).payload.action).toBe('reused');
    await controller.prompt('turn 1');
    expect(await controller.waitForTurn(1)).toBe('end_turn');
    await harness.waitForType('checkpoint.created', (event) => event.payload.turn === 1);
    // The agent's file is in the worktree, not in the user's checkout; the user's state is untouched.
    expect(fs.readFileSync(path.join(where, 'hello.txt'), 'utf8')).toBe("Hello from Keel's built-in agent.\n");
    expect(fs.existsSync(path.join(repo, 'hello.txt'))).toBe(false);
    const after = userState(repo);
    expect([after.indexBytes, after.head, after.stash, after.staged]).toEqual([before.indexBytes, before.head, before.stash, before.staged]);
    await harness.close();

    // The worktree folder is lost: the next start recreates it on its branch, with the agent's commit-less work gone.
    fs.rmSync(where, { recursive: true, force: true });
    let ledger = await openLedger({ dataDir });
    let manager = await RunManager.open({ ledger, dataDir, tuning: { restart: FAST_RESTART } });
    try {
      const mark = readRunEvents(ledger, runId).at(-1)!.seq;
      await manager.get(runId).start();
      const recreated = await waitForEvent(ledger, runId, (event) => event.type === 'workspace.worktree', { after: mark });
      expect(recreated.payload).toMatchObject({ action: 'recreated', path: where, branch: `keel/${runId}` });
      expect(fs.existsSync(path.join(where, 'src', 'app.ts'))).toBe(true);
      expect(manager.get(runId).runState).toBe('idle');
    } finally {
      await manager.close();
      await ledger.close();
    }

    // Someone switched the worktree to another branch: reported, left alone.
    git(where, ['checkout', '-q', '-b', 'elsewhere']);
    ledger = await openLedger({ dataDir });
    manager = await RunManager.open({ ledger, dataDir, tuning: { restart: FAST_RESTART } });
    try {
      const mark = readRunEvents(ledger, runId).at(-1)!.seq;
      await manager.get(runId).start();
      const mismatch = await waitForEvent(ledger, runId, (event) => event.type === 'workspace.worktree', { after: mark });
      expect(mismatch.payload).toMatchObject({ action: 'mismatch', detail: expect.stringContaining('branch elsewhere') });
      expect(git(where, ['rev-parse', '--abbrev-ref', 'HEAD']).trim()).toBe('elsewhere');
    } finally {
      await manager.close();
      await ledger.close();
    }
  }, 120_000);

  it('refuses a folder that is not a git repository, in plain words, creating nothing', async () => {
    await expect(createRun({ workspace: tempDir('keel-rcp-plain-'), agent: { kind: 'builtin', script: SCRIPT }, worktree: true })).rejects.toThrow(/--worktree needs a git repository/);
  });
});
