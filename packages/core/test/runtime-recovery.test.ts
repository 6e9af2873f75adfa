// What a dead generation leaves behind is ended visibly and for good (issue 9): its open tool
// calls, the processes it started wherever they moved, and the turn it was running.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fold } from '../src/replay/index.js';
import { createRun, fixturesDir, ofType, processAlive, useRuntimeSuite } from './fixtures/runtime-kit.js';

/** Polls a condition on the file system or the process table (no event exists for either), bounded. */
async function untilValue<T>(probe: () => T | null, guardMs = 10_000): Promise<T> {
  const deadline = Date.now() + guardMs;
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

useRuntimeSuite();

describe('a killed generation leaves nothing open', () => {
  it('its open tool call ends interrupted, with the generation and how it died, right after its exit; the fold and verify agree', async () => {
    const harness = await createRun({ script: path.join(fixturesDir, 'runtime-slow-command.json'), approvalMode: 'all' });
    const { controller } = harness;
    await controller.start();
    const { turn } = await controller.prompt('Run the long command');
    await harness.waitForType('terminal.output', (event) => event.payload.text.includes('started'));
    const started = harness.of('tool.started');
    expect(started).toHaveLength(1);
    controller.killAgent();
    const interrupted = await harness.waitForType('tool.interrupted');
    const exited = await harness.waitForType('runtime.exited');
    expect(interrupted.payload).toEqual({ generation: 1, toolCallIds: [started[0]!.payload.toolCallId], reason: 'the agent process was killed by SIGKILL' });
    expect(interrupted.seq).toBeGreaterThan(exited.seq);
    expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
    const view = fold(harness.events(), controller.runId);
    const tools = view.items.filter((item) => item.kind === 'tool');
    expect(tools.map((item) => [item.status, item.interruption])).toEqual([['interrupted', { generation: 1, reason: 'the agent process was killed by SIGKILL' }]]);
    expect(controller.view.openTools.size).toBe(0);
    expect(harness.ledger.verify().ok).toBe(true);
  });

  it('a turn that ended normally leaves no tool call to interrupt when the agent later exits', async () => {
    const harness = await createRun({ script: 'edit-and-test', approvalMode: 'all' });
    const { controller } = harness;
    await controller.start();
    const { turn } = await controller.prompt('Write hello.txt and check it');
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    await controller.close();
    expect(ofType(harness.events(), 'tool.interrupted')).toEqual([]);
    expect(fold(harness.events(), controller.runId).items.filter((item) => item.kind === 'tool' && item.status !== 'completed')).toEqual([]);
  });
});

describe('processes a generation started are swept with it, wherever they moved (ADR 0005)', () => {
  it('a command that detached itself (setsid) is found by the generation tag, killed, and recorded with the exit', async () => {
    const harness = await createRun({ script: path.join(fixturesDir, 'runtime-detached-command.json'), approvalMode: 'all' });
    const { controller } = harness;
    await controller.start();
    const { turn } = await controller.prompt('Start the server');
    await harness.waitForType('terminal.output', (event) => event.payload.text.includes('started'));
    const pidFile = path.join(controller.view.workspace, 'detached.pid');
    const pid = await untilValue(() => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) || null : null));
    expect(processAlive(pid)).toBe(true);
    controller.killAgent();
    const swept = await harness.waitForType('runtime.swept');
    const exited = await harness.waitForType('runtime.exited');
    expect(swept.seq).toBeGreaterThan(exited.seq);
    expect(swept.payload.generation).toBe(1);
    expect(swept.payload.processes.map((process) => process.pid)).toContain(pid);
    expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
    await untilValue(() => (processAlive(pid) ? null : true));
    const view = fold(harness.events(), controller.runId);
    expect(view.items.some((item) => item.kind === 'recovery' && item.recovery === 'swept' && item.detail?.includes(String(pid)))).toBe(true);
  });
});

describe('a fresh session gets the run so far (handoff)', () => {
  it('mid-turn: the agent lost its session, so the fresh one gets a handoff built from the ledger and the open turn once; the turn finishes', async () => {
    const harness = await createRun({ script: 'edit-and-test' });
    const { controller } = harness;
    await controller.start();
    const { turn, request } = await harness.promptToFirstApproval('Write hello.txt and check it');
    fs.rmSync(harness.agentStateDir, { recursive: true, force: true });
    controller.killAgent();
    const bound = await harness.waitForType('session.bound', (event) => event.payload.generation === 2);
    expect(bound.payload).toMatchObject({ outcome: 'fresh', remapped: true });
    const handoff = await harness.waitForType('session.handoff');
    expect(handoff.payload).toMatchObject({ generation: 2, turn, truncated: false });
    expect(handoff.payload.text).toContain('your previous session of this task was lost');
    expect(handoff.payload.text).toContain('Asked for approval to Write hello.txt: orphaned');
    expect(handoff.payload.text).toContain(`The request in progress (turn ${turn})`);
    // The same action is asked again by the fresh session; the user allows it this time.
    const answering = harness.answerApprovals('allow_once');
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    answering.stop();
    expect(answering.answered.length).toBeGreaterThan(0);
    expect(answering.answered).not.toContain(request.payload.approvalId);
    // The fresh session got the prompt once, after the handoff.
    const protocol = fs.readFileSync(path.join(controller.runDir, 'agent-2.protocol.log'), 'utf8');
    const prompts = protocol.split('\n').filter((line) => line.includes(' out ') && line.includes('session/prompt'));
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain('your previous session of this task was lost');
    expect(prompts[0]).toContain('Write hello.txt and check it');
    const view = fold(harness.events(), controller.runId);
    expect(view.items.some((item) => item.kind === 'recovery' && item.recovery === 'handoff')).toBe(true);
    expect(harness.ledger.verify().ok).toBe(true);
  });

  it('between turns: the handoff is recorded at binding and carried by the next prompt only', async () => {
    const harness = await createRun({ script: 'hello' });
    const { controller } = harness;
    await controller.start();
    const first = await controller.prompt('Say hello');
    expect(await controller.waitForTurn(first.turn)).toBe('end_turn');
    fs.rmSync(harness.agentStateDir, { recursive: true, force: true });
    controller.killAgent();
    const handoff = await harness.waitForType('session.handoff');
    expect(handoff.payload.turn).toBe(first.turn + 1);
    expect(handoff.payload.text).toContain('The user asked (turn 1): Say hello');
    await controller.waitForState((state) => state === 'idle');
    const second = await controller.prompt('Say hello again');
    expect(await controller.waitForTurn(second.turn)).toBe('end_turn');
    const third = await controller.prompt('Once more');
    expect(await controller.waitForTurn(third.turn)).toBe('end_turn');
    const protocol = fs.readFileSync(path.join(controller.runDir, 'agent-2.protocol.log'), 'utf8');
    const prompts = protocol.split('\n').filter((line) => line.includes(' out ') && line.includes('session/prompt'));
    expect(prompts.map((line) => line.includes('your previous session of this task was lost'))).toEqual([true, false]);
  });
});

describe('receipts prove what did not happen', () => {
  it('a late decision on a dead generation\'s request reaches no process; the carried-over answer reaches the new one', async () => {
    const harness = await createRun({ script: 'edit-and-test' });
    const { controller } = harness;
    await controller.start();
    const { turn, request } = await harness.promptToFirstApproval('Write hello.txt and check it');
    controller.killAgent();
    expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
    const answered: string[] = [];
    controller.receipts.on((receipt) => {
      if (receipt.kind === 'approval.answered') answered.push(receipt.approvalId);
    });
    await controller.decide(request.payload.approvalId, 'allow_once');
    // The next generation asks the same action: its carried-over answer is the later receipt we wait for.
    const carried = controller.receipts.next('approval.answered', (receipt) => receipt.approvalId !== request.payload.approvalId);
    const answering = harness.answerApprovals('allow_once');
    const next = await controller.prompt('Continue.');
    const receipt = await carried;
    expect(receipt.answer).toBe('allow_once');
    expect(harness.of('approval.decided').find((event) => event.payload.approvalId === receipt.approvalId)?.payload).toMatchObject({ by: 'carryover', ref: request.payload.approvalId });
    expect(answered).not.toContain(request.payload.approvalId);
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
    answering.stop();
  });
});

