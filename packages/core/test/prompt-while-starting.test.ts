// A prompt sent while the run's first generation is still starting (its baseline checkpoint,
// spawn, initialize, session binding) waits for the start instead of being refused.
import { describe, expect, it } from 'vitest';
import { createRun, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

describe('a prompt during the first start', () => {
  it('is sent once the agent is ready, not refused as "runtime stopped"', async () => {
    const harness = await createRun({ workspace: tempDir('keel-prompt-starting-') });
    const { controller } = harness;
    const starting = controller.start();
    const sent = await controller.prompt('hello');
    expect(sent.turn).toBe(1);
    await starting;
    expect(await controller.waitForTurn(1)).toBe('end_turn');
  });

  it('is sent when the start was asked for without awaiting, as the host does on create', async () => {
    const harness = await createRun({ workspace: tempDir('keel-prompt-starting-') });
    const { controller } = harness;
    controller.guard(controller.start());
    await Promise.resolve();
    const sent = await controller.prompt('hello');
    expect(sent.turn).toBe(1);
    expect(await controller.waitForTurn(1)).toBe('end_turn');
  });
});
