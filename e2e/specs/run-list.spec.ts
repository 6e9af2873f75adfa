// Issue 15 point 20, as a person uses it: search the run list, filter it by state, agent and
// workspace, group it by workspace, archive a run and find it again under "Show archived",
// delete one keeping its files and one with them; the choices survive a reload. Real `keel
// serve`, real runs of the built-in agent. Screenshots light and dark under e2e/artifacts.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { connectClient } from '../support/client.mjs';
import { runRow, screenshotBoth, sharedKeel, tempDir } from '../support/keel-page.js';

const keel = sharedKeel();
test.setTimeout(180_000);

const rows = (page: Page) => page.getByTestId('run-item');
const logOf = (runId: string) => path.join(keel.dataDir, 'ledger', `${runId}.ndjson`);

test('search, filter, group, archive, show archived, delete (files kept, then removed); choices remembered', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const shop = tempDir('keel-e2e-shop-');
  const site = tempDir('keel-e2e-site-');
  const { client, close } = connectClient(keel);
  const ids: Record<string, string> = {};
  try {
    for (const [key, workspace, script, title] of [
      ['spike', site, 'hello', 'Old spike'],
      ['tests', shop, 'edit-and-test', 'Add tests for checkout'],
      ['docs', site, 'hello', 'Write the docs'],
      ['login', shop, 'hello', 'Fix the login bug'],
    ] as const) {
      ids[key] = (await client.invoke('runs.create', { workspace, agent: { kind: 'builtin', script }, title })).id;
    }
    // One run has done a turn (idle); the others are new.
    await client.invoke('run.prompt', { runId: ids.login!, text: 'Say hello' });
  } finally {
    close();
  }

  await page.goto(keel.url);
  await expect(rows(page)).toHaveCount(4, { timeout: 30_000 });
  await expect(runRow(page, ids.login!)).toHaveAttribute('data-state', 'idle', { timeout: 60_000 });

  // Search: every word, over title, id, workspace and agent.
  await page.getByTestId('run-search').fill('login fix');
  await expect(rows(page)).toHaveCount(1);
  await expect(runRow(page, ids.login!)).toBeVisible();
  await screenshotBoth(page, 'run-list-search');
  await page.getByTestId('run-search').fill('edit-and-test');
  await expect(rows(page)).toHaveCount(1);
  await expect(runRow(page, ids.tests!)).toBeVisible();
  await page.getByTestId('run-search').fill('');

  // Filters: state (the fold's names), agent, workspace.
  await page.getByTestId('run-filter-state').selectOption('idle');
  await expect(rows(page)).toHaveCount(1);
  await page.getByTestId('run-filter-state').selectOption('created');
  await expect(rows(page)).toHaveCount(3);
  await page.getByTestId('run-filter-workspace').selectOption(site);
  await expect(rows(page)).toHaveCount(2);
  await page.getByTestId('run-filter-agent').selectOption('built-in: hello');
  await expect(rows(page)).toHaveCount(2);
  await screenshotBoth(page, 'run-list-filters');
  await page.getByTestId('run-filter-clear').click();
  await expect(rows(page)).toHaveCount(4);

  // Grouped by workspace: newest group first.
  await page.getByTestId('run-group-toggle').check();
  const groups = page.getByTestId('run-group');
  await expect(groups).toHaveCount(2);
  await expect(groups.nth(0).locator('h3')).toHaveText(`${path.basename(shop)} (2)`);
  await expect(groups.nth(1).locator('h3')).toHaveText(`${path.basename(site)} (2)`);
  await screenshotBoth(page, 'run-list-grouped');

  // Archive: hidden, counted, shown again on request with its flag.
  await runRow(page, ids.spike!).getByTestId('run-actions').click();
  await runRow(page, ids.spike!).getByTestId('run-archive').click();
  await expect(runRow(page, ids.spike!)).toHaveCount(0);
  await expect(page.getByTestId('run-archived-toggle').locator('..')).toHaveText('Show archived (1)');
  await page.getByTestId('run-archived-toggle').check();
  await expect(runRow(page, ids.spike!).getByTestId('run-archived-flag')).toBeVisible();
  await runRow(page, ids.spike!).getByTestId('run-actions').click();
  await expect(runRow(page, ids.spike!).getByTestId('run-unarchive')).toBeVisible();
  await screenshotBoth(page, 'run-list-archived');
  await page.keyboard.press('Escape');
  await page.getByTestId('run-archived-toggle').uncheck();

  // Delete, keeping the files: gone from the list, the ledger still on disk.
  await runRow(page, ids.docs!).getByTestId('run-actions').click();
  await runRow(page, ids.docs!).getByTestId('run-delete').click();
  const dialog = page.getByTestId('delete-run-dialog');
  await expect(dialog).toContainText('Its ledger and checkpoints stay on disk, untouched');
  await screenshotBoth(page, 'run-list-delete-dialog');
  await dialog.getByTestId('delete-run-confirm').click();
  await expect(dialog).toHaveCount(0);
  await expect(runRow(page, ids.docs!)).toHaveCount(0);
  expect(fs.existsSync(logOf(ids.docs!))).toBe(true);

  // Delete with its files: the box ticked, the ledger goes.
  await runRow(page, ids.tests!).getByTestId('run-actions').click();
  await runRow(page, ids.tests!).getByTestId('run-delete').click();
  await dialog.getByTestId('delete-run-files').check();
  await expect(dialog.getByTestId('delete-run-confirm')).toHaveText('Delete run and its files');
  await screenshotBoth(page, 'run-list-delete-files');
  await dialog.getByTestId('delete-run-confirm').click();
  await expect(runRow(page, ids.tests!)).toHaveCount(0);
  await expect.poll(() => fs.existsSync(logOf(ids.tests!))).toBe(false);

  // After a reload: grouping remembered, the deleted runs gone, the archived one still hidden.
  await page.reload();
  await expect(page.getByTestId('run-group-toggle')).toBeChecked({ timeout: 30_000 });
  await expect(rows(page)).toHaveCount(1);
  await expect(runRow(page, ids.login!)).toBeVisible();
  await expect(page.getByTestId('run-archived-toggle').locator('..')).toHaveText('Show archived (1)');
  await screenshotBoth(page, 'run-list-after-reload');
});
