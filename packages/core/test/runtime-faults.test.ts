// Agent misbehaviour injected by the built-in agent's fault knobs: a hang (watchdog, kill,
// restart), unreadable lines (recorded, survived) and an oversized message (fatal for the
// generation; the user restarts the runtime).
import { describe, expect, it } from 'vitest';
import { createRun, fromGenerationAfter, ofType, processAlive, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

// The hang timeout also bounds agent start-up (initialize, session/load), which takes ~200 ms
// on an idle machine: leave room for a loaded CI box.
const HANG_TIMEOUT_MS = 800;

describe('agent faults', () => {
  it('hang watchdog: a silent agent mid-turn gets runtime.hang, is killed and restarted, and the turn ends agent_hung', async () => {
    const harness = await createRun({ script: 'hello', faults: ['hang-at-step=3'], tuning: { hangTimeoutMs: HANG_TIMEOUT_MS } });
    const { controller } = harness;
    await controller.start();
    // The hang is mid-turn, after the session is bound: under load the agent's start-up alone can
    // outlast the short watchdog used here, and a prompt queued during it would count that time.
    await harness.waitForType('session.bound', (event) => event.payload.generation === 1);
    const pid = controller.agentPid!;
    const { turn } = await controller.prompt('Say hello');
    const hang = await harness.waitForType('runtime.hang');
    expect(hang.payload.generation).toBe(1);
    expect(hang.payload.idleMs).toBeGreaterThanOrEqual(HANG_TIMEOUT_MS);
    const exited = await harness.waitForType('runtime.exited');
    expect(exited.payload).toMatchObject({ generation: 1, expected: false, signal: 'SIGKILL' });
    const restarting = await harness.waitForType('runtime.restarting');
    expect(restarting.payload).toMatchObject({ nextGeneration: 2, attempt: 1, reason: 'agent_hung' });
    const bound = await harness.waitForType('session.bound', (event) => event.payload.generation === 2);
    expect(bound.payload.outcome).toBe('replayed');
    expect(await controller.waitForTurn(turn)).toBe('agent_hung');
    await controller.waitForState((state) => state === 'idle');
    expect(processAlive(pid)).toBe(false);
    const lastState = harness.of('run.state').at(-1)!;
    expect(lastState.payload).toMatchObject({ state: 'idle', stopReason: 'agent_hung' });
    expect([hang.seq, exited.seq, restarting.seq, bound.seq]).toEqual([hang.seq, exited.seq, restarting.seq, bound.seq].sort((a, b) => a - b));

    // The fault fired once per session: the next prompt finishes the turn on generation 2.
    const next = await controller.prompt('Go on');
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
    expect(fromGenerationAfter(harness.events(), 1, exited.seq)).toEqual([]);
  });

  it('garbage and invalid UTF-8 lines are runtime.protocol_error events; the host and the agent stay up and the turn ends end_turn', async () => {
    const harness = await createRun({ script: 'hello', faults: ['garbage-at-step=2', 'invalid-utf8-at-step=3'] });
    const { controller } = harness;
    await controller.start();
    const pid = controller.agentPid;
    const { turn } = await controller.prompt('Say hello');
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    await controller.waitForState((state) => state === 'idle');
    const events = harness.events();
    const errors = ofType(events, 'runtime.protocol_error');
    expect(errors.map((event) => [event.payload.kind, event.payload.generation, event.generation])).toEqual([
      ['garbage', 1, 1],
      ['invalid_utf8', 1, 1],
    ]);
    expect(errors[0]!.payload.sample).toContain('keel-builtin garbage fault');
    expect(errors[1]!.payload.sample).toContain('keel-builtin invalid-utf8 fault');
    // No death, no restart: the same process finished the turn and still runs.
    expect(ofType(events, 'runtime.exited')).toEqual([]);
    expect(ofType(events, 'runtime.restarting')).toEqual([]);
    expect(controller.agentPid).toBe(pid);
    expect(processAlive(pid!)).toBe(true);
    expect(ofType(events, 'message.chunk').map((event) => event.payload.text).join('')).toContain('Hello! I am Keel');
    expect(harness.ledger.verify().ok).toBe(true);
  });

  it('an oversized message is runtime.protocol_error oversize and stops the runtime (protocol_error); restartRuntime() brings generation 2, which finishes the work', async () => {
    const harness = await createRun({ script: 'hello', faults: ['big-message-at-step=3:200000'], tuning: { maxMessageBytes: 64 * 1024 } });
    const { controller } = harness;
    await controller.start();
    const { turn } = await controller.prompt('Say hello');
    expect(await controller.waitForTurn(turn)).toBe('protocol_error');
    expect(await controller.waitForState((state) => state === 'stopped')).toBe('stopped');
    const events = harness.events();
    const oversize = ofType(events, 'runtime.protocol_error');
    expect(oversize.map((event) => event.payload.kind)).toEqual(['oversize']);
    expect(oversize[0]!.payload.detail).toContain('65536');
    const stopped = ofType(events, 'runtime.stopped');
    expect(stopped.map((event) => event.payload.stopReason)).toEqual(['protocol_error']);
    expect(ofType(events, 'runtime.restarting')).toEqual([]);
    expect(ofType(events, 'run.state').at(-1)!.payload).toMatchObject({ state: 'stopped', stopReason: 'protocol_error' });
    expect(ofType(events, 'turn.ended').map((event) => event.payload)).toEqual([{ turn, stopReason: 'protocol_error' }]);
    // Nothing of the 200 kB line reached the ledger.
    expect(events.every((event) => JSON.stringify(event.payload).length < 64 * 1024)).toBe(true);

    await controller.restartRuntime();
    const started = await harness.waitForType('runtime.started', (event) => event.payload.generation === 2);
    const bound = await harness.waitForType('session.bound', (event) => event.payload.generation === 2);
    expect(bound.payload.outcome).toBe('replayed');
    expect(await controller.waitForState((state) => state === 'idle')).toBe('idle');
    expect(started.seq).toBeGreaterThan(stopped[0]!.seq);
    // The once-per-session fault does not fire again: the next prompt ends normally.
    const next = await controller.prompt('Go on');
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
    expect(harness.of('runtime.protocol_error')).toHaveLength(1);
  });
});
