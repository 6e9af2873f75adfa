// A newcomer's first minutes against the real headless server (`keel serve`) and the real
// built-in agent (issue 15): the approval keys work from the empty prompt box, the URL survives
// a second tab and a server restart (and a rotated token says what to do), Cancel ends a hung
// agent's turn within a bounded time (or at once with Force stop), and the statuses agree.
// Every wait is on a UI state or a ledger fact; screenshots light and dark under e2e/artifacts.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { createRunOver, gotoConnected, openRun, runRow, screenshotBoth, sharedKeel, tempDir, transcriptItem } from '../support/keel-page.js';
import { artifactsDir, repoRoot, startKeel } from '../support/keel-server.js';

const GREETING = "Hello from Keel's built-in agent.\n";

const keel = sharedKeel();

test.setTimeout(120_000);

test('point 1: send with Ctrl+Enter, press 1 — the approval is decided and nothing is typed into the box', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await gotoConnected(page, keel.url);
  await page.getByTestId('new-run').click();
  const dialog = page.getByTestId('new-run-dialog');
  const workspace = tempDir('keel-e2e-ws-');
  await dialog.getByTestId('new-run-workspace').fill(workspace);
  await expect(dialog.locator('[data-testid="new-run-script"] option[value="edit-and-test"]')).toBeAttached();
  await dialog.getByTestId('new-run-script').selectOption('edit-and-test');
  await dialog.getByTestId('new-run-title').fill('First run');
  await dialog.getByTestId('new-run-create').click();
  await expect(dialog).toBeHidden();

  const box = page.getByTestId('composer-input');
  await expect(page.getByTestId('composer-reason')).toHaveAttribute('data-blocked', 'false', { timeout: 30_000 });
  await box.click();
  await box.fill('Write a greeting file and check it.');
  await box.press('Control+Enter');
  await expect(box).toHaveValue('');
  await expect(box).toBeFocused();
  const pinned = page.getByTestId('pinned-approvals').getByTestId('pinned-approval');
  await expect(pinned).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByTestId('composer-reason')).toContainText('press 1 allow once');
  await screenshotBoth(page, 'newcomer-approval-keys');

  // The README's own flow: focus is still in the (empty) prompt box; 1 allows the write.
  await page.keyboard.press('1');
  await expect(box).toHaveValue('');
  await expect(pinned.locator('.approval-title')).toContainText('run a command', { timeout: 30_000 });
  await page.keyboard.press('1');
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="end_turn"]')).toBeVisible({ timeout: 30_000 });
  await expect(box).toHaveValue('');
  expect(fs.readFileSync(path.join(workspace, 'hello.txt'), 'utf8')).toBe(GREETING);
});

test('point 2: a second tab without the token works, a restarted server keeps its URL and the tab reconnects, a rotated token says `keel open`', async ({ browser }) => {
  const dataDir = tempDir('keel-e2e-data-');
  let own = await startKeel({ dataDir });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    const first = await context.newPage();
    await first.goto(own.url);
    await expect(first.locator('.connection-banner')).toHaveAttribute('data-status', 'connected');
    expect(new URL(first.url()).searchParams.has('token')).toBe(false);
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'server.json'), 'utf8'));
    expect(stored).toMatchObject({ schema_version: 1, port: Number(new URL(own.url).port), token: own.token });
    expect(fs.statSync(path.join(dataDir, 'server.json')).mode & 0o777).toBe(0o600);

    // The address bar as copied (no token), in a second tab of the same browser.
    const second = await context.newPage();
    await second.goto(first.url());
    await expect(second.locator('.connection-banner')).toHaveAttribute('data-status', 'connected');

    // The server goes away: the header does not claim the engine is OK.
    await own.stop();
    await expect(first.locator('.connection-banner')).toHaveAttribute('data-status', /reconnecting|lost/);
    await expect(first.getByTestId('engine-status')).toHaveAttribute('data-status', 'unknown');
    // Restarted on the same data directory: same URL, and the open tab reconnects by itself.
    own = await startKeel({ dataDir });
    expect(own.url).toBe(`${first.url().replace(/\/$/, '')}/?token=${stored.token}`);
    await expect(first.locator('.connection-banner')).toHaveAttribute('data-status', 'connected', { timeout: 30_000 });
    await expect(first.getByTestId('engine-status')).toHaveText('OK');
    // A reload of the token-less address works too (the asset cookie outlived the restart).
    await second.reload();
    await expect(second.locator('.connection-banner')).toHaveAttribute('data-status', 'connected');

    // Rotated: the old tab is told, in plain words, how to get the URL.
    await own.stop();
    own = await startKeel({ dataDir, args: ['--new-token'] });
    expect(own.token).not.toBe(stored.token);
    expect(new URL(own.url).port).toBe(String(stored.port));
    await expect(first.getByTestId('token-rejected')).toContainText('keel open', { timeout: 30_000 });
    await screenshotBoth(first, 'newcomer-token-rejected');

    // `keel open --print` prints the new URL; it opens the app.
    const printed = execFileSync(process.execPath, [path.join(repoRoot, 'apps/cli/bin/keel.js'), 'open', '--print', '--data', dataDir], { encoding: 'utf8' }).trim();
    expect(printed).toBe(own.url);
    await first.goto(printed);
    await expect(first.locator('.connection-banner')).toHaveAttribute('data-status', 'connected');

    // Another browser (no stored token, no cookie) gets a page that says what to do.
    const stranger = await browser.newContext();
    const bare = await stranger.newPage();
    const response = await bare.goto(own.origin + '/');
    expect(response?.status()).toBe(401);
    await expect(bare.locator('body')).toContainText('Run `keel open`');
    await stranger.close();
  } finally {
    await context.close();
    await own.stop();
  }
});

async function hungTurn(page: Page, title: string): Promise<string> {
  test.setTimeout(120_000);
  const runId = await createRunOver(keel, { kind: 'builtin', script: 'hello', faults: ['hang-at-step=3'] }, title);
  await page.setViewportSize({ width: 1440, height: 900 });
  await gotoConnected(page, keel.url);
  await openRun(page, runId);
  await page.getByTestId('composer-input').fill('Say hello.');
  await page.getByTestId('composer-send').click();
  // Step 2 (the plan) arrived: the agent now hangs before step 3 and ignores a cancel.
  await expect(page.getByTestId('run-progress')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  return runId;
}

test('point 3: Cancel ends a hung agent\'s turn `cancelled` within the grace; the plan it left is shown as unfinished; the next prompt runs', async ({ page }) => {
  await hungTurn(page, 'Hung agent, cancelled');
  const asked = Date.now();
  await page.getByTestId('composer-cancel').click();
  await expect(page.getByTestId('composer-force-stop')).toBeVisible();
  await expect(page.getByTestId('composer-reason')).toContainText('Force stop ends the turn now');
  await screenshotBoth(page, 'newcomer-cancel-pending');
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="cancelled"]')).toBeVisible({ timeout: 20_000 });
  const took = Date.now() - asked;
  expect(took, `the turn ended ${took} ms after Cancel`).toBeLessThan(15_000);
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'idle');
  await expect(page.getByTestId('plan-stale')).toContainText('plan left unfinished when turn 1 ended');
  await expect(page.getByTestId('composer-force-stop')).toHaveCount(0);
  await expect(transcriptItem(page, 'note').filter({ hasText: 'did not stop within' })).toHaveCount(1);
  await screenshotBoth(page, 'newcomer-cancelled');

  // The next prompt starts the agent again (the same session, resumed) and the turn finishes.
  await page.getByTestId('composer-input').fill('Try again.');
  await page.getByTestId('composer-send').click();
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="end_turn"]')).toBeVisible({ timeout: 30_000 });
});

test('point 3: Force stop ends the hung turn at once', async ({ page }) => {
  await hungTurn(page, 'Hung agent, force-stopped');
  await page.getByTestId('composer-cancel').click();
  const force = page.getByTestId('composer-force-stop');
  await expect(force).toBeEnabled();
  const asked = Date.now();
  await force.click();
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="cancelled"]')).toBeVisible();
  expect(Date.now() - asked).toBeLessThan(5_000);
  await expect(transcriptItem(page, 'note').filter({ hasText: 'Force stop' })).toHaveCount(1);
});


test('point 7: after the agent dies mid-turn, the run continues by itself and says so', async ({ page }) => {
  const runId = await createRunOver(keel, { kind: 'builtin', script: 'hello', faults: ['exit-at-step=3'] }, 'Agent dies mid-turn');
  await page.setViewportSize({ width: 1440, height: 900 });
  await gotoConnected(page, keel.url);
  await openRun(page, runId);
  await page.getByTestId('composer-input').fill('Say hello.');
  await page.getByTestId('composer-send').click();
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="agent_restarted"]')).toBeVisible({ timeout: 30_000 });
  await expect(transcriptItem(page, 'note').filter({ hasText: 'Keel continued the run by itself after agent_restarted' })).toBeVisible({ timeout: 30_000 });
  await expect(transcriptItem(page, 'prompt').filter({ hasText: 'Continue where you stopped.' })).toHaveCount(1);
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="end_turn"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'idle');
  await screenshotBoth(page, 'newcomer-auto-resume');
});

test('point 8: the README walkthrough, step 6 — fault-crash: allow the write, the crash, the recovery, the run continues by itself, carry-over, end_turn', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 1100 });
  await gotoConnected(page, keel.url);
  await page.getByTestId('new-run').click();
  const dialog = page.getByTestId('new-run-dialog');
  const workspace = tempDir('keel-e2e-ws-');
  await dialog.getByTestId('new-run-workspace').fill(workspace);
  // A plain folder: the dialog says so and offers git init (README step 2).
  await expect(dialog.getByTestId('workspace-status')).toHaveAttribute('data-status', 'not_git');
  await dialog.getByTestId('workspace-git-init').click();
  await expect(dialog.getByTestId('workspace-status')).toHaveAttribute('data-status', 'git');
  expect(fs.existsSync(path.join(workspace, '.git', 'HEAD'))).toBe(true);
  await expect(dialog.locator('[data-testid="new-run-script"] option[value="fault-crash"]')).toBeAttached();
  await dialog.getByTestId('new-run-script').selectOption('fault-crash');
  await dialog.getByTestId('new-run-title').fill('Recovery walkthrough');
  await dialog.getByTestId('new-run-create').click();
  await expect(dialog).toBeHidden();

  const box = page.getByTestId('composer-input');
  await expect(page.getByTestId('composer-reason')).toHaveAttribute('data-blocked', 'false', { timeout: 30_000 });
  await box.fill('Write hello.txt and check it');
  await box.press('Control+Enter');
  const pinned = page.getByTestId('pinned-approvals').getByTestId('pinned-approval');
  await expect(pinned.locator('.approval-title')).toContainText('write files: Write hello.txt', { timeout: 30_000 });
  await page.keyboard.press('1');

  const recovery = (kind: string) => page.locator(`[data-testid="recovery-card"][data-recovery="${kind}"]`);
  await expect(recovery('agent_exited')).toBeVisible({ timeout: 30_000 });
  await expect(recovery('session')).toBeVisible({ timeout: 30_000 });
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="agent_restarted"]')).toBeVisible();
  await expect(transcriptItem(page, 'note').filter({ hasText: 'Keel continued the run by itself' })).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('[data-testid="approval-card"]').getByTestId('approval-outcome').filter({ hasText: 'by carry-over from' })).toHaveCount(1, { timeout: 30_000 });
  await expect(pinned.locator('.approval-title')).toContainText('run a command', { timeout: 30_000 });
  await screenshotBoth(page, 'newcomer-walkthrough-recovery');
  await pinned.locator('[data-testid="approval-decide"][data-decision="allow_once"]').click();
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="end_turn"]')).toBeVisible({ timeout: 30_000 });
  expect(fs.readFileSync(path.join(workspace, 'hello.txt'), 'utf8')).toBe(GREETING);
});

test('points 16–18: an untitled run is titled from its first prompt and renamed; at 900 px the side pane starts hidden and is remembered; plain words for turn ends', async ({ page }) => {
  test.setTimeout(120_000);
  const runId = await createRunOver(keel, { kind: 'builtin', script: 'hello' }, '');
  await page.setViewportSize({ width: 900, height: 800 });
  await gotoConnected(page, keel.url);
  await expect(page.getByTestId('side-show')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Reliability' })).toHaveCount(0);
  const row = runRow(page, runId);
  await expect(row.locator('.run-title')).toHaveText('Untitled run');
  await openRun(page, runId);
  await page.getByTestId('composer-input').fill('Greet the new teammate\nwith a short hello');
  await page.getByTestId('composer-send').click();
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="end_turn"]')).toContainText('Turn 1 finished', { timeout: 30_000 });
  await expect(row.locator('.run-title')).toHaveText('Greet the new teammate');
  await expect(page.getByTestId('run-title')).toHaveText('Greet the new teammate');
  await page.getByTestId('run-rename').click();
  await page.getByTestId('run-rename-input').fill('Hello for Sam');
  await page.getByTestId('run-rename-input').press('Enter');
  await expect(page.getByTestId('run-title')).toHaveText('Hello for Sam');
  await expect(row.locator('.run-title')).toHaveText('Hello for Sam');
  await screenshotBoth(page, 'newcomer-narrow-side-hidden');

  await page.getByTestId('side-show').click();
  await expect(page.getByRole('heading', { name: 'Reliability' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Reliability' })).toBeVisible();
  await page.getByTestId('side-hide').click();
  await expect(page.getByTestId('side-show')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('side-show')).toBeVisible();
});

test('point 23: Settings — data directory shown, a change saved to settings.json at once, the theme forced dark and back', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await gotoConnected(page, keel.url);
  await page.getByTestId('open-settings').click();
  const dialog = page.getByTestId('settings-dialog');
  await expect(dialog.getByTestId('settings-data-dir')).toHaveText(keel.dataDir);
  await dialog.getByTestId('settings-idle-stop').fill('45');
  await dialog.getByTestId('settings-idle-stop').blur();
  await expect(dialog.getByTestId('settings-saved')).toHaveText('Saved: idle stop.');
  expect(JSON.parse(fs.readFileSync(path.join(keel.dataDir, 'settings.json'), 'utf8'))).toMatchObject({ schema_version: 1, idleStopMinutes: 45 });
  await page.emulateMedia({ colorScheme: 'light' });
  await dialog.getByTestId('settings-theme').selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(22, 24, 28)');
  await page.screenshot({ path: path.join(artifactsDir, 'newcomer-settings-dark.png') });
  await dialog.getByTestId('settings-theme').selectOption('system');
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', /./);
  await page.screenshot({ path: path.join(artifactsDir, 'newcomer-settings.png') });
  await dialog.getByTestId('settings-close').click();
  await expect(dialog).toBeHidden();
});
