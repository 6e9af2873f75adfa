// Cancel ends a turn within a bounded time even when the agent ignores it: the built-in agent's
// hang fault makes it ignore session/cancel; after CANCEL_GRACE_MS Keel stops the generation
// (an expected stop: no restart budget spent) and the turn ends `cancelled`. Force stop does it
// at once. The next prompt starts a new generation through the normal resume path.
import { describe, expect, it } from 'vitest';
import { CANCEL_GRACE_MS } from '../src/runs/cancel-deadline.js';
import { decide } from '../src/runs/decider.js';
import { createRun, ofType, processAlive, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

describe('cancel of a hung agent', () => {
  it('ends the turn `cancelled` within the grace, stops the hung generation, and the next prompt runs on a new one', async () => {
    const harness = await createRun({ script: 'hello', faults: ['hang-at-step=3'] });
    const { controller } = harness;
    await controller.start();
    const pid = controller.agentPid!;
    const { turn } = await controller.prompt('Say hello');
    await harness.waitForType('plan.updated'); // step 2 done: the agent hangs before step 3
    const asked = Date.now();
    await controller.cancel();
    expect(await controller.waitForTurn(turn)).toBe('cancelled');
    const took = Date.now() - asked;
    expect(took).toBeGreaterThanOrEqual(CANCEL_GRACE_MS - 50);
    expect(took).toBeLessThan(CANCEL_GRACE_MS + 5_000);
    const exited = await harness.waitForType('runtime.exited');
    expect(exited.payload).toMatchObject({ generation: 1, expected: true });
    expect(processAlive(pid)).toBe(false);
    const events = harness.events();
    expect(ofType(events, 'runtime.restarting')).toEqual([]);
    expect(ofType(events, 'runtime.hang')).toEqual([]);
    expect(ofType(events, 'note').map((event) => event.payload.text).join('\n')).toMatch(/did not stop within 5 s of the cancel/);
    expect(harness.of('run.state').at(-1)!.payload).toMatchObject({ state: 'idle', stopReason: 'cancelled' });

    // The fault fired once per session: the resumed session finishes the next turn.
    const next = await controller.prompt('Go on');
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
    const bound = ofType(harness.events(), 'session.bound').at(-1)!;
    expect(bound.payload.generation).toBe(2);
  });

  it('Force stop ends the turn at once, without waiting for the grace', async () => {
    const harness = await createRun({ script: 'hello', faults: ['hang-at-step=3'] });
    const { controller } = harness;
    await controller.start();
    const { turn } = await controller.prompt('Say hello');
    await harness.waitForType('plan.updated');
    const asked = Date.now();
    await controller.cancel(true);
    expect(await controller.waitForTurn(turn)).toBe('cancelled');
    expect(Date.now() - asked).toBeLessThan(CANCEL_GRACE_MS);
    expect(ofType(harness.events(), 'note').map((event) => event.payload.text).join('\n')).toMatch(/Force stop/);
    await expect(controller.cancel(true)).rejects.toThrow('No turn is running.');
    // A prompt at once, while the stopped generation may still be on its way out, starts a new one.
    const next = await controller.prompt('Go on');
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
  });

  it('a deadline for a turn that already ended, or another generation, decides nothing', () => {
    const state = { openTurn: { turn: 2 } } as never;
    const facts = { live: { generation: 1, lifecycle: 'ready', killedFor: null } } as never;
    expect(decide(state, facts, { kind: 'cancel_deadline', generation: 1, turn: 1, forced: false })).toEqual({ events: [], effects: [] });
    expect(decide(state, facts, { kind: 'cancel_deadline', generation: 2, turn: 2, forced: false })).toEqual({ events: [], effects: [] });
    const due = decide(state, facts, { kind: 'cancel_deadline', generation: 1, turn: 2, forced: false });
    expect(due.effects).toEqual([{ kind: 'stop', generation: 1, graceMs: 300 }]);
    expect(due.events.map((event) => event.body.type)).toEqual(['note', 'turn.ended', 'run.state']);
  });
});
