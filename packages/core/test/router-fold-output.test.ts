import { afterEach, describe, expect, it } from 'vitest';
import type { RunView } from '../src/contract/index.js';
import { createRouter, type Handlers } from '../src/host/router.js';
import { fold, syntheticRun } from '../src/replay/index.js';

// run.view of a long run is core's own fold, and large: outside tests the router checks its
// head and newest items only (issue 16, ADR 0016); under vitest it checks every item.

const ctx = { transport: 'memory' } as const;
const view: RunView = fold(syntheticRun(20_000, { runId: 'r1' }), 'r1');

function routerGiving(value: unknown) {
  return createRouter({ procedures: { 'run.view': () => value }, streams: {} } as unknown as Handlers);
}

/** `view` with item `index` replaced by something no TranscriptItem schema accepts. */
const withBadItem = (index: number): RunView => {
  const items = [...view.items];
  items[index] = { kind: 'prompt', seq: 'not a number' } as unknown as RunView['items'][number];
  return { ...view, items };
};

const saved = { vitest: process.env.VITEST, check: process.env.KEEL_CHECK_OUTPUTS };
/** Runs `body` as the router runs outside tests. */
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

describe('run.view output checks', () => {
  it('the fixture is long enough for a sample to be a part of it', () => {
    expect(view.items.length).toBeGreaterThan(1_000);
  });

  it('under tests: every item is checked, so a bad item anywhere is invalid_output', async () => {
    expect(process.env.VITEST).toBeDefined();
    const outcome = await routerGiving(withBadItem(3)).call('run.view', { runId: 'r1' }, ctx);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_output' } });
  });

  it('outside tests: the head and the newest 200 items are checked, and the value passes through as the fold made it', async () => {
    await outsideTests(async () => {
      const good = await routerGiving(view).call('run.view', { runId: 'r1' }, ctx);
      expect(good.ok).toBe(true);
      if (good.ok) expect(good.value).toBe(view);

      const badNewest = await routerGiving(withBadItem(view.items.length - 1)).call('run.view', { runId: 'r1' }, ctx);
      expect(badNewest).toMatchObject({ ok: false, error: { code: 'invalid_output' } });
      const badHead = await routerGiving({ ...view, lastSeq: -1 }).call('run.view', { runId: 'r1' }, ctx);
      expect(badHead).toMatchObject({ ok: false, error: { code: 'invalid_output' } });

      // An old item is the fold's (tested under vitest above), not re-checked per call.
      const badOld = await routerGiving(withBadItem(3)).call('run.view', { runId: 'r1' }, ctx);
      expect(badOld.ok).toBe(true);
    });
  });

  it('outside tests with KEEL_CHECK_OUTPUTS=1: every item is checked again', async () => {
    await outsideTests(async () => {
      process.env.KEEL_CHECK_OUTPUTS = '1';
      const outcome = await routerGiving(withBadItem(3)).call('run.view', { runId: 'r1' }, ctx);
      expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_output' } });
    });
  });
});
