// The reliability pane (issue 13, "Done means"): the empty state explains itself; harness runs
// started over the contract stream their progress into the pane and land as scorecards; after
// two, every SLO has a tile with value, target, verdict and a uPlot trend; the scenario table;
// the selected run's facts with its recovery timeline (a real agent that really died once).
// Real `keel serve`, real faults, screenshots light and dark.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { HarnessProgress } from '@keel/core/contract';
import { connectClient } from '../support/client.mjs';
import { runRow, sharedKeel } from '../support/keel-page.js';
import { artifactsDir } from '../support/keel-server.js';

const keel = sharedKeel();
const workspaces: string[] = [];

test.afterAll(() => {
  for (const dir of workspaces) fs.rmSync(dir, { recursive: true, force: true });
});

const pane = (page: Page) => page.getByTestId('reliability-pane');

test('empty state, live harness progress, tiles with a trend after two scorecards, and the selected run\'s recovery timeline', async ({ browser }) => {
  test.setTimeout(180_000);
  const { client, close } = connectClient(keel);
  try {
    const page = await (await browser.newContext({ colorScheme: 'light', viewport: { width: 1400, height: 1000 } })).newPage();
    await page.goto(keel.url);
    await expect(pane(page).getByTestId('reliability-empty')).toContainText('No scorecard yet.');
    await expect(pane(page).getByTestId('reliability-empty')).toContainText('keel reliability --quick');
    await page.screenshot({ path: path.join(artifactsDir, 'reliability-empty-light.png') });

    // Two harness runs over the contract (a reduced scenario set); the pane follows the stream.
    for (const seed of [1, 2]) {
      // The stream starts with the current status (the previous run's end): wait for this run's.
      const finished = new Promise<HarnessProgress>((resolve) => {
        let running = false;
        const stop = client.subscribe('reliability.progress', {}, {
          onEvent(event: HarnessProgress) {
            if (event.kind === 'running' && event.seed === seed) running = true;
            if (running && (event.kind === 'finished' || event.kind === 'failed')) {
              stop();
              resolve(event);
            }
          },
        });
      });
      expect(await client.invoke('reliability.run', { seed, scenarios: ['torn-tail', 'mid-file-damage', 'stale-session'] })).toEqual({ started: true, seed });
      await expect(pane(page).getByTestId('run-harness')).toBeDisabled();
      await expect(pane(page).getByTestId('harness-status')).toContainText(/\d\/3 (torn-tail|mid-file-damage|stale-session)/);
      expect(await finished).toMatchObject({ kind: 'finished', verdict: 'pass' });
      await expect(pane(page).getByTestId('harness-status')).toContainText('Finished: every SLO met');
      await expect(pane(page).getByTestId('reliability-meta')).toContainText(`seed ${seed}`);
    }
    await expect(pane(page).getByTestId('reliability-meta')).toContainText('2 scorecards');
    await expect(pane(page).getByTestId('reliability-verdict')).toHaveText('PASS');
    await expect(pane(page).getByTestId('slo-tiles').locator('.slo-tile')).toHaveCount(6);
    await expect(pane(page).getByTestId('slo-stale_remap')).toContainText('100 %');
    await expect(pane(page).getByTestId('slo-stale_remap')).toContainText('target >= 99.5 %');
    await expect(pane(page).getByTestId('slo-stale_remap')).toContainText('met');
    await expect(pane(page).getByTestId('slo-approval_continuity')).toContainText('no data');
    // uPlot drew a trend: a canvas per measured SLO.
    await expect(pane(page).getByTestId('slo-durability').locator('canvas')).toHaveCount(1);
    await expect(pane(page).getByTestId('scenario-table').locator('tbody tr')).toHaveCount(3);
    await expect(pane(page).getByTestId('scenario-table')).toContainText('torn-tail');

    // A run whose agent really dies once (exit at step 2), selected: its facts and timeline.
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-e2e-rel-ws-'));
    workspaces.push(workspace);
    const run = await client.invoke('runs.create', { workspace, agent: { kind: 'builtin', script: 'hello', faults: ['exit-at-step=2'] }, approvalMode: 'all', title: 'Dies once' });
    await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
    await runRow(page, run.id).click();
    const facts = pane(page).getByTestId('run-facts');
    await expect(facts).toContainText('Restarts1', { timeout: 60_000 });
    await expect(pane(page).getByTestId('recovery-timeline')).toContainText(/restart \(agent_restarted\)/, { timeout: 60_000 });
    await expect(pane(page).getByTestId('recovery-timeline')).toContainText('bound, agent process #2', { timeout: 60_000 });
    await page.screenshot({ path: path.join(artifactsDir, 'reliability-light.png'), fullPage: true });

    const dark = await (await browser.newContext({ colorScheme: 'dark', viewport: { width: 1400, height: 1000 } })).newPage();
    await dark.goto(keel.url);
    await runRow(dark, run.id).click();
    await expect(pane(dark).getByTestId('slo-tiles').locator('.slo-tile')).toHaveCount(6);
    await expect(pane(dark).getByTestId('recovery-timeline')).toContainText('bound, agent process #2');
    await dark.screenshot({ path: path.join(artifactsDir, 'reliability-dark.png'), fullPage: true });
  } finally {
    close();
  }
  // Both files of each scorecard are in the data folder.
  const files = fs.readdirSync(path.join(keel.dataDir, 'reliability'));
  expect(files.filter((name) => name.endsWith('.json'))).toHaveLength(2);
  expect(files.filter((name) => name.endsWith('.md'))).toHaveLength(2);
});
