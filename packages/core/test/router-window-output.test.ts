import { afterEach, describe, expect, it } from 'vitest';
import type { RunView, RunViewWindow } from '../src/contract/index.js';
import { createRouter, type Handlers } from '../src/host/router.js';
import { fold, syntheticRun } from '../src/replay/index.js';

// run.viewWindow is how the app opens every run: its view carries up to 2,000 of core's folded
// items. Outside tests the router checks the window's head and its newest items only, as it
// does run.view's (issue 16: checking 2,000 items whole cost the host 100-300 ms per open).

const ctx = { transport: 'memory' } as const;
const whole: RunView = fold(syntheticRun(20_000, { runId: 'r1' }), 'r1');
const itemsFrom = Math.max(0, whole.items.length - 2_000);
const window: RunViewWindow = { view: { ...whole, items: whole.items.slice(itemsFrom) }, itemCount: whole.items.length, itemsFrom };

function routerGiving(value: unknown) {
  return createRouter({ procedures: { 'run.viewWindow': () => value }, streams: {} } as unknown as Handlers);
}

/** `window` with its item `index` replaced by something no TranscriptItem schema accepts. */
const withBadItem = (index: number): RunViewWindow => {
  const items = [...window.view.items];
  items[index] = { kind: 'prompt', seq: 'not a number' } as unknown as RunView['items'][number];
  return { ...window, view: { ...window.view, items } };
};

const saved = { vitest: process.env.VITEST, check: process.env.KEEL_CHECK_OUTPUTS };
async function outsideTests<T>(body: () => Promise<T>): Promise<T> {
  delete process.env.VITEST;
  delete process.env.KEEL_CHECK_OUTPUTS;
  try {
    return await body();
  } finally {
    process.env.VITEST = saved.vitest;
  }
}
afterEach(() => {
  process.env.VITEST = saved.vitest;
  if (saved.check === undefined) delete process.env.KEEL_CHECK_OUTPUTS;
  else process.env.KEEL_CHECK_OUTPUTS = saved.check;
});

describe('run.viewWindow output checks', () => {
  it('the fixture window is longer than the sample', () => {
    expect(window.view.items.length).toBeGreaterThan(1_000);
  });

  it('under tests: every item of the window is checked', async () => {
    const outcome = await routerGiving(withBadItem(3)).call('run.viewWindow', { runId: 'r1' }, ctx);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_output' } });
  });

  it('outside tests: the window head, its counts and newest items are checked; the value passes through as the fold made it', async () => {
    await outsideTests(async () => {
      const good = await routerGiving(window).call('run.viewWindow', { runId: 'r1' }, ctx);
      expect(good.ok).toBe(true);
      if (good.ok) expect(good.value).toBe(window);

      const badNewest = await routerGiving(withBadItem(window.view.items.length - 1)).call('run.viewWindow', { runId: 'r1' }, ctx);
      expect(badNewest).toMatchObject({ ok: false, error: { code: 'invalid_output' } });
      const badHead = await routerGiving({ ...window, view: { ...window.view, lastSeq: -1 } }).call('run.viewWindow', { runId: 'r1' }, ctx);
      expect(badHead).toMatchObject({ ok: false, error: { code: 'invalid_output' } });
      const badCount = await routerGiving({ ...window, itemsFrom: -1 }).call('run.viewWindow', { runId: 'r1' }, ctx);
      expect(badCount).toMatchObject({ ok: false, error: { code: 'invalid_output' } });

      const badOld = await routerGiving(withBadItem(3)).call('run.viewWindow', { runId: 'r1' }, ctx);
      expect(badOld.ok).toBe(true);
    });
  });

  it('outside tests with KEEL_CHECK_OUTPUTS=1: every item is checked again', async () => {
    await outsideTests(async () => {
      process.env.KEEL_CHECK_OUTPUTS = '1';
      const outcome = await routerGiving(withBadItem(3)).call('run.viewWindow', { runId: 'r1' }, ctx);
      expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_output' } });
    });
  });
});
