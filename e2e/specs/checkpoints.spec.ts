// Checkpoints in the app (issue 12, "Done means"): edit-and-test on a git repository with
// uncommitted work, the turn's diff at its end in the transcript, the checkpoint timeline in the
// run header, a restore to the baseline confirmed against its file list, and the repository
// exactly as before (index and stash too). Real `keel serve`, real agent, real git.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { busyRepo, keelRefs, removeTempDirs, userState, worktreeFiles } from '../../packages/core/test/fixtures/checkpoint-kit.js';
import { connectClient } from '../support/client.mjs';
import { runRow, sharedKeel } from '../support/keel-page.js';
import { artifactsDir } from '../support/keel-server.js';
import { readLedger } from '../support/ledger-file.mjs';

const keel = sharedKeel();

test.afterAll(() => {
  removeTempDirs();
});

test('the turn diff at its end, the timeline in the header, and a confirmed restore to the baseline', async ({ browser }) => {
  test.setTimeout(180_000);
  const repo = busyRepo();
  const before = userState(repo);
  const files = worktreeFiles(repo);
  const { client, close } = connectClient(keel);
  let runId: string;
  try {
    const run = await client.invoke('runs.create', { workspace: repo, agent: { kind: 'builtin', script: 'edit-and-test' }, approvalMode: 'all', title: 'Checkpoints' });
    runId = run.id;
    await client.invoke('run.prompt', { runId, text: 'Write hello.txt and check it' });
  } finally {
    close();
  }

  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(keel.url);
    await runRow(page, runId).click();
    // The turn's checkpoint card, at its end, with the file it changed and its diff.
    const card = page.locator('[data-testid="checkpoint-card"][data-event="created"]').filter({ hasText: 'Checkpoint of turn 1' });
    await expect(card).toBeVisible({ timeout: 30_000 });
    await expect(card).toContainText('1 file changed');
    await card.locator('.disclosure-toggle').first().click();
    await expect(card).toContainText('hello.txt');
    await card.getByTestId('checkpoint-diff-toggle').locator('.disclosure-toggle').click();
    await expect(card.getByTestId('checkpoint-patch')).toContainText("+Hello from Keel's built-in agent.");
    // The timeline: the baseline and turn 1.
    const timeline = page.getByTestId('checkpoint-timeline');
    await expect(timeline.getByTestId('checkpoint-dot')).toHaveCount(2);
    await timeline.getByTestId('checkpoint-dot').first().click();
    const confirm = page.getByTestId('checkpoint-restore-confirm');
    await expect(confirm).toContainText('hello.txt');
    await page.screenshot({ path: path.join(artifactsDir, `checkpoints-${scheme}.png`) });
    if (scheme === 'light') {
      await confirm.getByTestId('checkpoint-restore').click();
      await expect(page.getByTestId('checkpoint-restore-result')).toContainText('Restored baseline: 1 file(s)');
      await expect(page.locator('[data-testid="checkpoint-card"][data-event="restore_completed"]')).toBeVisible();
    } else {
      await confirm.getByRole('button', { name: 'Cancel' }).click();
    }
    await context.close();
  }
  // The repository exactly as before; the checkpoints under refs/keel; recorded in the ledger.
  expect(worktreeFiles(repo)).toEqual(files);
  expect(userState(repo)).toEqual(before);
  // The restore's safety checkpoint is a hidden ref too: the restore can be undone.
  expect(keelRefs(repo)).toEqual([`refs/keel/checkpoints/${runId}/0`, `refs/keel/checkpoints/${runId}/1`, `refs/keel/safety/${runId}/1`]);
  const types = readLedger(keel.dataDir, runId).map((event) => event.type);
  expect(types.filter((type) => type.startsWith('checkpoint.'))).toEqual(['checkpoint.created', 'checkpoint.created', 'checkpoint.restore_requested', 'checkpoint.restore_completed']);
});

test('the New run dialog creates a run in its own worktree when asked', async ({ page }) => {
  test.setTimeout(120_000);
  const repo = busyRepo();
  const before = userState(repo);
  await page.goto(keel.url);
  await page.getByTestId('new-run').click();
  const dialog = page.getByTestId('new-run-dialog');
  await dialog.getByTestId('new-run-workspace').fill(repo);
  await dialog.getByTestId('new-run-source-builtin').check();
  await expect(dialog.locator('[data-testid="new-run-script"] option[value="edit-and-test"]')).toBeAttached();
  await dialog.getByTestId('new-run-script').selectOption('edit-and-test');
  await dialog.getByTestId('new-run-title').fill('In a worktree');
  await dialog.getByTestId('new-run-worktree').check();
  await page.screenshot({ path: path.join(artifactsDir, 'checkpoints-new-run-worktree.png') });
  await dialog.getByTestId('new-run-create').click();
  await expect(dialog).toBeHidden();
  const runId = (await page.locator('[data-testid="conversation"][data-run-id]').getAttribute('data-run-id'))!;
  await expect(page.getByTestId('run-workspace')).toContainText(path.join('worktrees', runId));
  await expect(page.locator('[data-testid="checkpoint-card"][data-event="worktree"]')).toContainText(`branch keel/${runId}`);
  expect(fs.realpathSync(path.join(keel.dataDir, 'worktrees', runId, 'README.md'))).toBeTruthy();
  expect(userState(repo)).toEqual({ ...before, branches: expect.stringContaining(`keel/${runId}`), heads: expect.stringContaining(`refs/heads/keel/${runId}`) });
});
