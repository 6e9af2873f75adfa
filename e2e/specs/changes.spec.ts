// The changes view in the app (issue 15, point 19): a real `keel serve`, the real built-in agent
// editing a real git repository over two turns (it adds hello.txt, then edits src/app.ts), the
// Changes tab of the side pane with the files and their diffs, one turn at a time, side by side
// (remembered across a reload), the wide view; screenshots light and dark. The user's index,
// HEAD and stash are untouched by any of it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { busyRepo, removeTempDirs, userState } from '../../packages/core/test/fixtures/checkpoint-kit.js';
import { connectClient } from '../support/client.mjs';
import { runRow, sharedKeel } from '../support/keel-page.js';
import { artifactsDir } from '../support/keel-server.js';

/** Turn 1 writes hello.txt and runs a check (edit-and-test's turn), turn 2 edits src/app.ts. */
const SCRIPT = fileURLToPath(new URL('../../packages/core/test/fixtures/checkpoint-turns.json', import.meta.url));

const keel = sharedKeel();

test.afterAll(() => {
  removeTempDirs();
});

test('the Changes tab lists what the run changed, shows each diff unified or side by side, and one turn at a time', async ({ browser }) => {
  test.setTimeout(240_000);
  const repo = busyRepo();
  const { client, close } = connectClient(keel);
  let runId: string;
  try {
    const run = await client.invoke('runs.create', { workspace: repo, agent: { kind: 'builtin', script: SCRIPT }, approvalMode: 'all', title: 'Changes view' });
    runId = run.id;
    for (const turn of [1, 2]) {
      await client.invoke('run.prompt', { runId, text: `turn ${turn}` });
      // The turn's checkpoint is what the view reads: wait for it (it follows turn.ended).
      await expect.poll(async () => (await client.invoke('run.changes', { runId })).to, { timeout: 60_000, intervals: [250] }).toBe(turn);
    }
  } finally {
    close();
  }
  const before = userState(repo);

  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(keel.url);
    await runRow(page, runId).click();
    await page.locator('#side-tab-changes').click();
    const view = page.getByTestId('changes-view');
    const files = view.getByTestId('changes-file');
    await expect(files).toHaveCount(2);
    await expect(files.nth(0)).toHaveAttribute('data-path', 'hello.txt');
    await expect(files.nth(1)).toHaveAttribute('data-path', 'src/app.ts');
    await expect(view.getByTestId('changes-summary')).toHaveText('2 files changed · +2 −1');
    // The first file is open; then the edited one, unified.
    await expect(view.getByTestId('changes-diff-table')).toContainText("Hello from Keel's built-in agent.");
    await files.nth(1).click();
    const table = view.getByTestId('changes-diff-table');
    await expect(table).toHaveAttribute('data-layout', 'unified');
    await expect(table.locator('.chg-row.del .chg-text')).toHaveText(['−export const app = 2; // unstaged']);
    await expect(table.locator('.chg-row.add .chg-text')).toHaveText(["+export const app = 3; // the agent's edit"]);
    await page.screenshot({ path: path.join(artifactsDir, `changes-unified-${scheme}.png`) });

    // Side by side: the old line faces the new one.
    await view.getByTestId('changes-split').click();
    await expect(table).toHaveAttribute('data-layout', 'split');
    await expect(table.locator('.chg-row.pair').first().locator('.chg-text')).toHaveText(['export const app = 2; // unstaged', "export const app = 3; // the agent's edit"]);
    await page.screenshot({ path: path.join(artifactsDir, `changes-split-${scheme}.png`) });

    // The wide view gives a side-by-side diff the whole window; Escape closes it.
    await view.getByTestId('changes-wide').click();
    await expect(view).toHaveClass(/wide/);
    await page.screenshot({ path: path.join(artifactsDir, `changes-wide-${scheme}.png`) });
    await page.keyboard.press('Escape');
    await expect(view).not.toHaveClass(/wide/);

    // One turn: turn 1 added hello.txt only.
    await view.getByTestId('changes-range').selectOption({ label: 'Turn 1' });
    await expect(files).toHaveCount(1);
    await expect(files.first()).toHaveAttribute('data-path', 'hello.txt');
    await expect(view.getByTestId('changes-summary')).toHaveText('1 file changed · +1 −0');

    if (scheme === 'light') {
      // Side by side is remembered across a reload.
      await page.reload();
      await runRow(page, runId).click();
      await page.locator('#side-tab-changes').click();
      await expect(page.getByTestId('changes-diff-table')).toHaveAttribute('data-layout', 'split');
      await page.getByTestId('changes-unified').click();
    }
    await context.close();
  }
  expect(userState(repo)).toEqual(before);
});

test('a run that has changed nothing yet says so', async ({ page }) => {
  const repo = busyRepo();
  const { client, close } = connectClient(keel);
  let runId: string;
  try {
    runId = (await client.invoke('runs.create', { workspace: repo, agent: { kind: 'builtin', script: 'hello' }, approvalMode: 'all', title: 'Nothing yet' })).id;
  } finally {
    close();
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(keel.url);
  await runRow(page, runId).click();
  await page.locator('#side-tab-changes').click();
  const empty = page.getByTestId('changes-empty');
  await expect(empty).toContainText('No changes yet.');
  await expect(empty).toContainText('no checkpoint yet');
  await page.screenshot({ path: path.join(artifactsDir, 'changes-empty-light.png') });
});
