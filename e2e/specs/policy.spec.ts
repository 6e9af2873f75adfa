// The policy in the app (issue 11) against the real headless server and the real built-in agent:
// the approval card's rule and why, "Always allow this" (a diff, then the file written and the
// request allowed), and the Policy view with the run's decisions. Light and dark screenshots.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { runRow, sharedKeel, tempDir } from '../support/keel-page.js';
import { artifactsDir } from '../support/keel-server.js';
import { readLedger } from '../support/ledger-file.mjs';

const keel = sharedKeel();


const POLICY = `# This project's policy.
schema_version: 1
defaults:
  write_inside: allow
rules:
  - id: no-force-push
    push: { force: true }
    decision: deny
    why: History on shared branches is never rewritten.
`;

async function createRun(page: Page, workspace: string, title: string): Promise<string> {
  await page.getByTestId('new-run').click();
  const dialog = page.getByTestId('new-run-dialog');
  await dialog.getByTestId('new-run-workspace').fill(workspace);
  await dialog.getByTestId('new-run-source-builtin').check();
  await expect(dialog.locator('[data-testid="new-run-script"] option[value="edit-and-test"]')).toBeAttached();
  await dialog.getByTestId('new-run-script').selectOption('edit-and-test');
  await dialog.getByTestId('new-run-title').fill(title);
  await dialog.getByTestId('new-run-create').click();
  await expect(dialog).toBeHidden();
  const conversation = page.locator('[data-testid="conversation"][data-run-id]');
  await expect(conversation).toBeVisible();
  return (await conversation.getAttribute('data-run-id'))!;
}

test('the approval card shows the rule and its why; "Always allow this" adds the rule; the Policy view lists the decisions', async ({ browser }) => {
  const workspace = tempDir('keel-e2e-policy-');
  fs.mkdirSync(path.join(workspace, '.keel'));
  fs.writeFileSync(path.join(workspace, '.keel', 'policy.yaml'), POLICY);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(keel.url);
  const runId = await createRun(page, workspace, 'Policy at work');

  await expect(page.getByTestId('composer-reason')).toHaveAttribute('data-blocked', 'false');
  await page.getByTestId('composer-input').fill('Write a greeting file and check it.');
  await page.getByTestId('composer-send').click();

  // The write is allowed by the workspace policy: the first (and only) card is the check. The
  // agent process starts first (spawn, session, checkpoint baseline): the timeout is a failure
  // guard on the run's state, not a sleep.
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'awaiting_approval', { timeout: 30_000 });
  const pinned = page.getByTestId('pinned-approvals').getByTestId('pinned-approval');
  await expect(pinned).toHaveCount(1);
  await expect(pinned.locator('.chip').first()).toHaveText('exec');
  await expect(pinned.getByTestId('approval-policy')).toContainText('no rule: default for exec');
  await pinned.getByTestId('always-allow').click();
  const panel = pinned.getByTestId('always-allow-panel');
  await expect(panel.getByTestId('policy-rule-diff')).toContainText('+      - cat hello.txt');
  await expect(panel.getByTestId('always-allow-outcome')).toContainText('With it, this request is allow');
  await panel.getByTestId('always-allow-confirm').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(artifactsDir, 'policy-always-allow.png') });
  await panel.getByTestId('always-allow-confirm').click();

  await expect(page.locator('[data-testid="transcript-item"][data-kind="turn_end"] [data-stop-reason="end_turn"]')).toBeVisible();
  expect(fs.readFileSync(path.join(workspace, '.keel', 'policy.yaml'), 'utf8')).toContain('- cat hello.txt');
  const events = readLedger(keel.dataDir, runId);
  expect(events.filter((event) => event.type === 'policy.rule_added')).toHaveLength(1);
  expect(events.filter((event) => event.type === 'policy.decided').map((event) => (event.payload as { decision: string }).decision)).toEqual(['allow', 'ask']);

  // The Policy view: the policy in force and the run's decisions, filterable.
  await page.getByRole('tab', { name: 'Policy' }).click();
  const view = page.getByTestId('policy-view');
  await expect(view.getByTestId('policy-validity')).toHaveText('valid');
  await expect(view.getByTestId('policy-decision')).toHaveCount(2);
  await expect(view.locator('.policy-rules summary')).toContainText('write_inside allow (workspace)');
  await page.screenshot({ path: path.join(artifactsDir, 'policy-view.png') });
  await view.getByTestId('policy-filter-decision').selectOption('ask');
  await expect(view.getByTestId('policy-decision')).toHaveCount(1);
  await view.getByTestId('policy-filter-decision').selectOption('all');
  await context.close();

  const dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1440, height: 900 } });
  const darkPage = await dark.newPage();
  await darkPage.goto(keel.url);
  await runRow(darkPage, runId).click();
  await darkPage.getByRole('tab', { name: 'Policy' }).click();
  await expect(darkPage.getByTestId('policy-view').getByTestId('policy-decision')).toHaveCount(2);
  await darkPage.screenshot({ path: path.join(artifactsDir, 'policy-view-dark.png') });
  await dark.close();
});
