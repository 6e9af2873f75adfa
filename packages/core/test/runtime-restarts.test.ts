// Restart supervision: the attempt budget and its reset, session re-binding when the agent
// forgot the session (exactly one remap), and an agent command that cannot start at all.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KeelRpcError } from '../src/contract/errors.js';
import { createRun, ofType, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

describe('restart supervision', () => {
  it('restart exhaustion: exit-at-step=1:always with maxAttempts 2 stops the runtime (runtime_stopped); prompt() is refused as unavailable; restartRuntime() resets the budget', async () => {
    const harness = await createRun({ script: 'hello', faults: ['exit-at-step=1:always'], tuning: { restart: { baseMs: 20, capMs: 100, maxAttempts: 2 } } });
    const { controller } = harness;
    await controller.start();
    // Every prompt kills the agent at step 1: each death costs one restart (the turn ends
    // agent_restarted) until the budget of two is gone and the turn ends runtime_stopped.
    // (Prompted until the runtime stops rather than exactly three times: how many prompts that
    // takes also depends on the never-send-twice check, which has its own test.)
    const reasons: string[] = [];
    for (let i = 1; i <= 5 && controller.runState !== 'stopped'; i++) {
      const { turn } = await controller.prompt(`Prompt ${i}`);
      reasons.push(await controller.waitForTurn(turn));
      await controller.waitForState((state) => state === 'idle' || state === 'stopped');
    }
    expect(reasons.at(-1)).toBe('runtime_stopped');
    expect(reasons.slice(0, -1).every((reason) => reason === 'agent_restarted')).toBe(true);
    expect(controller.runState).toBe('stopped');
    let events = harness.events();
    expect(ofType(events, 'runtime.restarting').map((event) => [event.payload.attempt, event.payload.nextGeneration])).toEqual([
      [1, 2],
      [2, 3],
    ]);
    expect(ofType(events, 'runtime.restarting')[1]!.payload.delayMs).toBeLessThanOrEqual(40); // attempt 2: [0, 2 * baseMs]
    const stopped = ofType(events, 'runtime.stopped');
    expect(stopped.map((event) => event.payload)).toMatchObject([{ stopReason: 'runtime_stopped', attempts: 2 }]);
    expect(ofType(events, 'runtime.exited').map((event) => event.payload.code)).toEqual([17, 17, 17]);
    expect(ofType(events, 'turn.ended').at(-1)!.payload.stopReason).toBe('runtime_stopped');
    expect(ofType(events, 'run.state').at(-1)!.payload).toMatchObject({ state: 'stopped', stopReason: 'runtime_stopped' });
    expect(ofType(events, 'runtime.started')).toHaveLength(3);

    // A stopped runtime is not restarted behind the user's back by the next prompt.
    const refused = await controller.prompt('Prompt 4').then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(KeelRpcError);
    expect((refused as KeelRpcError).code).toBe('unavailable');
    events = harness.events();
    expect(ofType(events, 'runtime.started')).toHaveLength(3);
    expect(ofType(events, 'prompt.sent')).toHaveLength(reasons.length);

    // The restart button: a fresh budget and a new generation at once.
    await controller.restartRuntime();
    const started = await harness.waitForType('runtime.started', (event) => event.payload.generation === 4);
    await harness.waitForType('session.bound', (event) => event.payload.generation === 4, { after: started.seq });
    expect(await controller.waitForState((state) => state === 'idle')).toBe('idle');
    const mark = harness.events().at(-1)!.seq;
    const { turn } = await controller.prompt('Prompt after the restart button');
    // The next death is attempt 1 of a fresh budget, not "exhausted".
    const again = await harness.waitForType('runtime.restarting', undefined, { after: mark });
    expect(again.payload.attempt).toBe(1);
    await controller.waitForTurn(turn);
  });

  it('stale session mapping: the agent forgot the session -> session.bound fresh, remapped, exactly once; the next restart loads the new session (replayed)', async () => {
    const harness = await createRun({ script: 'hello' });
    const { controller } = harness;
    const first = await harness.startBound();
    expect(first.payload).toMatchObject({ generation: 1, outcome: 'new', remapped: false });
    // The agent loses its state between generations.
    expect(fs.existsSync(harness.agentStateDir)).toBe(true);
    fs.rmSync(harness.agentStateDir, { recursive: true, force: true });
    controller.killAgent();
    const second = await harness.waitForType('session.bound', (event) => event.payload.generation === 2);
    expect(second.payload).toMatchObject({ outcome: 'fresh', method: 'session/new', remapped: true });
    expect(second.payload.sessionId).not.toBe(first.payload.sessionId);
    expect(second.payload.detail).toContain(first.payload.sessionId!);
    await controller.waitForState((state) => state === 'idle');

    controller.killAgent();
    const third = await harness.waitForType('session.bound', (event) => event.payload.generation === 3);
    expect(third.payload).toMatchObject({ outcome: 'replayed', method: 'session/load', remapped: false, sessionId: second.payload.sessionId });
    await controller.waitForState((state) => state === 'idle');
    const bound = harness.of('session.bound');
    expect(bound.filter((event) => event.payload.remapped)).toHaveLength(1);
    // Never silently fresh: every binding names its outcome.
    expect(bound.map((event) => event.payload.outcome)).toEqual(['new', 'fresh', 'replayed']);

    const { turn } = await controller.prompt('Say hello');
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
  });

  it('an ACP agent command that does not exist: runtime.stopped agent_unavailable, state stopped, no restart loop', async () => {
    const harness = await createRun({ agent: { kind: 'acp', command: ['nonexistent-keel-agent-xyz', '--acp'] } });
    const { controller } = harness;
    await controller.start();
    expect(controller.runState).toBe('stopped');
    const events = harness.events();
    const stopped = ofType(events, 'runtime.stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.payload.stopReason).toBe('agent_unavailable');
    expect(stopped[0]!.payload.detail).toMatch(/nonexistent-keel-agent-xyz.*ENOENT/);
    expect(ofType(events, 'runtime.started')).toEqual([]);
    expect(ofType(events, 'runtime.restarting')).toEqual([]);
    expect(ofType(events, 'run.state').at(-1)!.payload).toMatchObject({ state: 'stopped', stopReason: 'agent_unavailable' });
    await expect(controller.prompt('hello?')).rejects.toMatchObject({ code: 'unavailable' });
    expect(harness.of('prompt.sent')).toEqual([]);
  });
});
