// kill -9 of the agent (I4, I5, I6): a run outlives its agent processes. Each death is
// recorded, the next generation re-binds the session, pending approvals are reset visibly and
// carried over, a stale generation records nothing, and a prompt is never sent twice.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRun, fixturesDir, fromGenerationAfter, ofType, processAlive, type RunHarness, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

/** The built-in agent's stored session (its own record of what it received). */
function agentSession(h: RunHarness, sessionId: string): { history: Array<{ role: string; text: string }> } {
  return JSON.parse(fs.readFileSync(path.join(h.agentStateDir, `${sessionId}.json`), 'utf8'));
}

describe('kill -9 of the agent', () => {
  it('mid-turn: runtime.exited -> runtime.restarting -> generation 2 -> session replayed -> turn ended agent_restarted -> idle; nothing from generation 1 after its exit; the next prompt completes', async () => {
    const harness = await createRun({ script: 'edit-and-test' });
    const { controller } = harness;
    const first = await harness.startBound();
    expect(first.payload).toMatchObject({ generation: 1, outcome: 'new', remapped: false });
    const { turn, request: write } = await harness.promptToFirstApproval('Write hello.txt and check it');
    const pid = controller.agentPid!;
    expect(processAlive(pid)).toBe(true);
    await controller.decide(write.payload.approvalId, 'allow_once');
    controller.killAgent();

    const exited = await harness.waitForType('runtime.exited');
    expect(exited.payload).toMatchObject({ generation: 1, expected: false, signal: 'SIGKILL', code: null });
    const restarting = await harness.waitForType('runtime.restarting', undefined, { after: exited.seq });
    expect(restarting.payload).toMatchObject({ nextGeneration: 2, attempt: 1, reason: 'agent_restarted' });
    expect(restarting.payload.delayMs).toBeGreaterThanOrEqual(0);
    expect(restarting.payload.delayMs).toBeLessThanOrEqual(20); // attempt 1: [0, baseMs]
    const started = await harness.waitForType('runtime.started', (event) => event.payload.generation === 2);
    expect(started.payload.pid).not.toBe(pid);
    const bound = await harness.waitForType('session.bound', (event) => event.payload.generation === 2);
    expect(bound.payload).toMatchObject({ outcome: 'replayed', method: 'session/load', remapped: false, sessionId: first.payload.sessionId });
    expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
    expect(await controller.waitForState((state) => state === 'idle')).toBe('idle');
    const ended = harness.of('turn.ended').find((event) => event.payload.turn === turn)!;
    expect([exited.seq, restarting.seq, started.seq, bound.seq]).toEqual([...[exited.seq, restarting.seq, started.seq, bound.seq]].sort((a, b) => a - b));
    expect(ended.seq).toBeGreaterThan(bound.seq);
    expect(processAlive(pid)).toBe(false);

    // The next prompt continues the run on generation 2 (approvals answered as they come).
    const answerer = harness.answerApprovals('allow_once');
    const next = await controller.prompt('Continue where you stopped');
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
    answerer.stop();
    expect(fs.readFileSync(path.join(harness.workspace, 'hello.txt'), 'utf8')).toBe("Hello from Keel's built-in agent.\n");
    const events = harness.events();
    // I6: generation 1 recorded nothing after its runtime.exited, not even late.
    expect(fromGenerationAfter(events, 1, exited.seq)).toEqual([]);
    const secondPrompt = ofType(events, 'prompt.sent').find((event) => event.payload.turn === next.turn)!;
    expect(secondPrompt.generation).toBe(2);
    expect(events.filter((event) => event.seq > secondPrompt.seq && event.generation !== undefined).every((event) => event.generation === 2)).toBe(true);
    expect(harness.ledger.verify().ok).toBe(true);
  });

  it('while Keel runs a command for it: the command is killed with its generation and nothing of generation 1 is recorded after runtime.exited', async () => {
    const harness = await createRun({ script: path.join(fixturesDir, 'runtime-slow-command.json'), approvalMode: 'all' });
    const { controller } = harness;
    await controller.start();
    const { turn } = await controller.prompt('Run the long command');
    await harness.waitForType('terminal.output', (event) => event.payload.text.includes('started'));
    controller.killAgent();
    const exited = await harness.waitForType('runtime.exited');
    // The command's end is recorded (its completion record, I1: a started command is never left
    // open in the ledger), and it was killed, not finished…
    const terminalExit = await harness.waitForType('terminal.exited', undefined, { guardMs: 5_000 });
    expect(terminalExit.payload.signal).toBe('SIGKILL');
    expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
    await controller.waitForState((state) => state === 'idle');
    const events = harness.events();
    expect(ofType(events, 'terminal.output').map((event) => event.payload.text).join('')).not.toContain('finished');
    // …but before the generation's exit: after it, generation 1 is stale (I6).
    expect(fromGenerationAfter(events, 1, exited.seq).map((event) => `${event.seq} ${event.type}`)).toEqual([]);
  });

  it('mid-approval: the pending approval is reset (orphaned), the run goes idle, the user\'s late decision is carried over when the next generation asks the same action', async () => {
    const harness = await createRun({ script: 'edit-and-test' });
    const { controller } = harness;
    await controller.start();
    const { turn, request: write } = await harness.promptToFirstApproval('Write hello.txt and check it');
    controller.killAgent();

    const exited = await harness.waitForType('runtime.exited');
    const reset = await harness.waitForType('approval.reset');
    expect(reset.payload).toMatchObject({ generation: 1, approvalIds: [write.payload.approvalId] });
    expect(reset.seq).toBeGreaterThan(exited.seq);
    await harness.waitForType('session.bound', (event) => event.payload.generation === 2);
    expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
    expect(await controller.waitForState((state) => state === 'idle')).toBe('idle');
    expect(harness.unsettledApprovals()).toEqual([]);

    // The user answers the orphaned card: recorded, with a note, applied to nobody yet.
    await controller.decide(write.payload.approvalId, 'allow_once');
    const late = harness.of('approval.decided').find((event) => event.payload.approvalId === write.payload.approvalId)!;
    expect(late.payload).toMatchObject({ decision: 'allow_once', by: 'user' });
    expect(late.payload.note).toMatch(/gone/);
    expect(fs.existsSync(path.join(harness.workspace, 'hello.txt'))).toBe(false);

    const mark = harness.events().at(-1)!.seq;
    const next = await controller.prompt('Continue where you stopped');
    // Generation 2 asks the same action again: decided by carry-over, the test answers nothing.
    const again = await harness.waitForType('approval.requested', undefined, { after: mark });
    expect(again.payload).toMatchObject({ generation: 2, actionKey: write.payload.actionKey });
    expect(again.payload.action.paths).toEqual(write.payload.action.paths);
    const carried = await harness.waitForType('approval.decided', (event) => event.payload.approvalId === again.payload.approvalId);
    expect(carried.payload).toMatchObject({ decision: 'allow_once', by: 'carryover', ref: write.payload.approvalId });
    const written = await harness.waitForType('fs.written', undefined, { after: carried.seq });
    expect(written.generation).toBe(2);

    // The command is a different action: it waits for a person, who allows it.
    const answerer = harness.answerApprovals('allow_once');
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
    answerer.stop();
    expect(answerer.answered).not.toContain(again.payload.approvalId);
    const userDecisions = harness.of('approval.decided').filter((event) => event.payload.by === 'user');
    expect(userDecisions.map((event) => event.payload.approvalId)).toEqual([write.payload.approvalId, ...answerer.answered]);
    expect(fs.existsSync(path.join(harness.workspace, 'hello.txt'))).toBe(true);
    expect(fromGenerationAfter(harness.events(), 1, exited.seq)).toEqual([]);
    expect(harness.ledger.verify().ok).toBe(true);
  });
});

describe('a prompt is never sent twice (I6)', () => {
  it('after a kill mid-turn the prompt is in the replayed history: no re-send, no note, the agent holds it exactly once', async () => {
    const harness = await createRun({ script: 'hello', faults: ['slow-stream=40'] });
    const { controller } = harness;
    await controller.start();
    const text = 'Say hello slowly (turn one)';
    const { turn } = await controller.prompt(text);
    await harness.waitForType('message.chunk');
    controller.killAgent();
    const bound = await harness.waitForType('session.bound', (event) => event.payload.generation === 2);
    expect(bound.payload.outcome).toBe('replayed');
    expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
    await controller.waitForState((state) => state === 'idle');
    const sessionId = bound.payload.sessionId!;
    const notes = harness.of('note').map((event) => event.payload.text);
    expect(notes.filter((note) => /re-sent/.test(note))).toEqual([]);
    expect(agentSession(harness, sessionId).history.filter((entry) => entry.role === 'user').map((entry) => entry.text)).toEqual([text]);

    const next = await controller.prompt('Go on (turn two)');
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
    expect(agentSession(harness, sessionId).history.filter((entry) => entry.role === 'user').map((entry) => entry.text)).toEqual([text, 'Go on (turn two)']);
    expect(harness.of('prompt.sent').map((event) => event.payload.text)).toEqual([text, 'Go on (turn two)']);
  });

  it('two prompts in a row that each died before any agent output are both found in the replayed history: neither is re-sent', async () => {
    // exit-at-step=1 fires after the agent stored the prompt, before it says anything, so its
    // history holds two user messages back to back (distinct messageIds).
    const harness = await createRun({ script: 'hello', faults: ['exit-at-step=1:always'] });
    const { controller } = harness;
    await controller.start();
    const texts = ['First prompt', 'Second prompt'];
    const reasons: string[] = [];
    for (const text of texts) {
      const { turn } = await controller.prompt(text);
      reasons.push(await controller.waitForTurn(turn));
      await controller.waitForState((state) => state === 'idle' || state === 'stopped');
    }
    const sessionId = harness.of('session.bound')[0]!.payload.sessionId!;
    const users = agentSession(harness, sessionId).history.filter((entry) => entry.role === 'user').map((entry) => entry.text);
    expect({
      reasons,
      resends: harness.of('note').filter((event) => /re-sent/.test(event.payload.text)).map((event) => event.payload.text),
      agentReceived: users,
    }).toEqual({ reasons: ['agent_restarted', 'agent_restarted'], resends: [], agentReceived: texts });
  });

  it('an agent that died before receiving the prompt gets it once more, with a note, and the turn completes', async () => {
    const stateDir = tempDir('keel-rt-forgetful-');
    const harness = await createRun({
      agent: { kind: 'acp', command: [process.execPath, path.join(fixturesDir, 'runtime-forgetful-agent.mjs'), '--state', stateDir] },
    });
    const { controller } = harness;
    await controller.start();
    const text = 'Say hi to the forgetful agent';
    const { turn } = await controller.prompt(text);
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    await controller.waitForState((state) => state === 'idle');

    const events = harness.events();
    const exited = ofType(events, 'runtime.exited');
    expect(exited.map((event) => event.payload)).toMatchObject([{ generation: 1, code: 1, expected: false }]);
    expect(ofType(events, 'session.bound').map((event) => [event.payload.generation, event.payload.outcome])).toEqual([
      [1, 'new'],
      [2, 'replayed'],
    ]);
    const resent = ofType(events, 'note').filter((event) => /re-sent/.test(event.payload.text));
    expect(resent).toHaveLength(1);
    expect(resent[0]!.payload.text).toContain(`Turn ${turn} re-sent to generation 2`);
    // One prompt.sent (the intent), two deliveries: the lost one and the one re-send.
    expect(ofType(events, 'prompt.sent')).toHaveLength(1);
    const deliveries = fs.readFileSync(path.join(stateDir, 'deliveries.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string);
    expect(deliveries).toEqual([text, text]);
    const [session] = fs.readdirSync(stateDir).filter((name) => name.endsWith('.json'));
    const history = JSON.parse(fs.readFileSync(path.join(stateDir, session!), 'utf8')).history as Array<{ role: string; text: string }>;
    expect(history.filter((entry) => entry.role === 'user').map((entry) => entry.text)).toEqual([text]);
    const answer = ofType(events, 'message.chunk');
    expect(answer.map((event) => [event.generation, event.payload.text])).toEqual([[2, `Got it: ${text}`]]);
    expect(ofType(events, 'turn.ended').map((event) => [event.generation, event.payload.stopReason])).toEqual([[2, 'end_turn']]);

    // A restart with the prompt now in the agent's history does not send it a third time.
    const mark = events.at(-1)!.seq;
    controller.killAgent();
    await harness.waitForType('session.bound', (event) => event.payload.generation === 3, { after: mark });
    await controller.waitForState((state) => state === 'idle');
    expect(fs.readFileSync(path.join(stateDir, 'deliveries.log'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(harness.of('note').filter((event) => /re-sent/.test(event.payload.text))).toHaveLength(1);
  });
});
