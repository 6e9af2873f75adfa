// Interactive turns against the real built-in agent: approvals as persisted state (I5),
// intent before effect (I1), Keel-executed writes and commands, denial and timeout.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRun, ofType, runKeel, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';

const HELLO = "Hello from Keel's built-in agent.\n";
const CHECK_ARGS = ['-c', 'cat hello.txt && echo tests passed'];

useRuntimeSuite();

describe('an interactive turn with the built-in agent', () => {
  it('asks with normalised actions, waits in awaiting_approval, writes and runs only after allow_once, ends end_turn and verifies', async () => {
    // The workspace is reached through a symlink: actions must carry real paths.
    const real = tempDir('keel-rt-real-ws-');
    const link = path.join(tempDir('keel-rt-links-'), 'ws-link');
    fs.symlinkSync(real, link);
    const realWorkspace = fs.realpathSync(real);
    const harness = await createRun({ script: 'edit-and-test', workspace: link });
    const { controller } = harness;
    await controller.start();
    expect(controller.runState).toBe('idle');
    const { turn } = await controller.prompt('Write hello.txt and check it');

    // 1. The write request: normalised to the realpath of hello.txt, pending, the run waits.
    const write = await harness.waitForType('approval.requested');
    expect(write.payload.action.kind).toBe('write');
    expect(write.payload.action.paths).toEqual([path.join(realWorkspace, 'hello.txt')]);
    expect(write.payload.source).toBe('agent');
    expect(write.payload.generation).toBe(1);
    expect(write.payload.turn).toBe(turn);
    await harness.waitForType('run.state', (event) => event.payload.state === 'awaiting_approval', { after: write.seq });
    expect(controller.runState).toBe('awaiting_approval');
    expect(fs.existsSync(path.join(realWorkspace, 'hello.txt'))).toBe(false);
    expect(harness.of('fs.written')).toEqual([]);
    await controller.decide(write.payload.approvalId, 'allow_once');

    // 2. The command request: exec with command, args and the real cwd.
    const exec = await harness.waitForType('approval.requested', (event) => event.payload.action.kind === 'exec');
    expect(exec.payload.action).toMatchObject({ kind: 'exec', command: 'sh', args: CHECK_ARGS, cwd: realWorkspace });
    await harness.waitForType('run.state', (event) => event.payload.state === 'awaiting_approval', { after: exec.seq });
    expect(harness.of('terminal.started')).toEqual([]);
    await controller.decide(exec.payload.approvalId, 'allow_once');

    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    await controller.waitForState((state) => state === 'idle');
    const events = harness.events();

    // Decisions are the user's, recorded before their effects.
    const decided = ofType(events, 'approval.decided');
    expect(decided.map((event) => [event.payload.approvalId, event.payload.decision, event.payload.by])).toEqual([
      [write.payload.approvalId, 'allow_once', 'user'],
      [exec.payload.approvalId, 'allow_once', 'user'],
    ]);
    const [written] = ofType(events, 'fs.written');
    expect(written).toBeDefined();
    expect(written!.payload).toMatchObject({
      path: path.join(realWorkspace, 'hello.txt'),
      bytes: Buffer.byteLength(HELLO),
      sha256: createHash('sha256').update(HELLO).digest('hex'),
      created: true,
    });
    expect(written!.seq).toBeGreaterThan(decided[0]!.seq);
    expect(fs.readFileSync(path.join(realWorkspace, 'hello.txt'), 'utf8')).toBe(HELLO);

    const started = ofType(events, 'terminal.started');
    expect(started).toHaveLength(1);
    expect(started[0]!.payload).toMatchObject({ command: 'sh', args: CHECK_ARGS, cwd: realWorkspace });
    expect(started[0]!.seq).toBeGreaterThan(decided[1]!.seq);
    const terminalId = started[0]!.payload.terminalId;
    const output = ofType(events, 'terminal.output')
      .filter((event) => event.payload.terminalId === terminalId)
      .map((event) => event.payload.text)
      .join('');
    expect(output).toBe(`${HELLO}tests passed\n`);
    const exited = ofType(events, 'terminal.exited');
    expect(exited.map((event) => event.payload)).toEqual([{ terminalId, exitCode: 0, signal: null }]);

    const ended = ofType(events, 'turn.ended');
    expect(ended.map((event) => event.payload)).toEqual([{ turn, stopReason: 'end_turn' }]);
    const states = ofType(events, 'run.state').map((event) => event.payload.state);
    expect(states).toContain('awaiting_approval');
    expect(states.at(-1)).toBe('idle');
    // Nothing runs or waits any more.
    expect(harness.unsettledApprovals()).toEqual([]);

    expect(harness.ledger.verify().ok).toBe(true);
    await harness.close();
    const cli = await runKeel(['ledger', 'verify', '--data', harness.dataDir]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('1 of 1 runs verified');
  });

  it('deny: the agent stops the turn, nothing is written, the decision is the user\'s deny', async () => {
    const harness = await createRun({ script: 'edit-and-test' });
    const { controller } = harness;
    await controller.start();
    const { turn, request: write } = await harness.promptToFirstApproval('Write hello.txt and check it');
    await controller.decide(write.payload.approvalId, 'deny');
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    await controller.waitForState((state) => state === 'idle');

    const events = harness.events();
    expect(ofType(events, 'approval.decided').map((event) => event.payload)).toEqual([
      { approvalId: write.payload.approvalId, decision: 'deny', by: 'user' },
    ]);
    // Only the one request: the agent stopped instead of going on to the command.
    expect(ofType(events, 'approval.requested')).toHaveLength(1);
    expect(ofType(events, 'fs.written')).toEqual([]);
    expect(ofType(events, 'terminal.started')).toEqual([]);
    expect(fs.existsSync(path.join(harness.workspace, 'hello.txt'))).toBe(false);
    const said = ofType(events, 'message.chunk').map((event) => event.payload.text).join('');
    expect(said).toContain('was denied, so I am stopping this turn');
    expect(harness.ledger.verify().ok).toBe(true);
  });

  it('an interactive approval that times out is recorded as timed_out (never as a denial) and the agent ends its turn', async () => {
    const harness = await createRun({ script: 'edit-and-test', tuning: { approvalTimeoutMs: 150 } });
    const { controller } = harness;
    await controller.start();
    const { turn } = await controller.prompt('Write hello.txt and check it');
    const write = await harness.waitForType('approval.requested');
    expect(write.payload.timeoutMs).toBe(150);
    const timedOut = await harness.waitForType('approval.timed_out');
    expect(timedOut.payload.approvalId).toBe(write.payload.approvalId);
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    await controller.waitForState((state) => state === 'idle');

    const events = harness.events();
    // Not a decision of any kind, so in particular not a deny.
    expect(ofType(events, 'approval.decided')).toEqual([]);
    expect(harness.unsettledApprovals()).toEqual([]);
    // The agent was told "cancelled" (no option chosen), not "rejected".
    const said = ofType(events, 'message.chunk').map((event) => event.payload.text).join('');
    expect(said).toContain('was cancelled, so I am stopping this turn');
    expect(said).not.toContain('denied');
    expect(ofType(events, 'fs.written')).toEqual([]);
    // Deciding it afterwards is refused: it is settled.
    await expect(controller.decide(write.payload.approvalId, 'allow_once')).rejects.toMatchObject({ code: 'conflict' });
  });
});
