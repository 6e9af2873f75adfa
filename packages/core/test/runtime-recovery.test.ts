// What a dead generation leaves behind is ended visibly and for good (issue 9): its open tool
// calls, the processes it started wherever they moved, and the turn it was running.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fold } from '../src/replay/index.js';
import { createRun, fixturesDir, ofType, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

describe('a killed generation leaves nothing open', () => {
  it('its open tool call ends interrupted, with the generation, before its exit; the fold and verify agree', async () => {
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
    expect(interrupted.payload).toEqual({ generation: 1, toolCallIds: [started[0]!.payload.toolCallId], reason: 'the agent process exited' });
    expect(interrupted.seq).toBeLessThan(exited.seq);
    expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
    const view = fold(harness.events(), controller.runId);
    const tools = view.items.filter((item) => item.kind === 'tool');
    expect(tools.map((item) => [item.status, item.interruption])).toEqual([['interrupted', { generation: 1, reason: 'the agent process exited' }]]);
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
