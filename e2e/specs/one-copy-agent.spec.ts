// Issue 15 points 9 and 5, as a person sees them: a command's output shown once (in the agent's
// tool call, with "Keel ran" as a one-line reference), the pinned approval compact; a custom
// agent checked when the run is created (plain words in the dialog); a run's agent changed.
// Screenshots light and dark under e2e/artifacts.
import { expect, test, type Page } from '@playwright/test';
import { createRunOver, openRun, runRow, screenshotBoth, sharedKeel, tempDir, transcriptItem } from '../support/keel-page.js';

const keel = sharedKeel();
test.setTimeout(120_000);

async function openApp(page: Page, runId: string): Promise<void> {
  await page.goto(keel.url);
  await openRun(page, runId);
}

test('point 9: the check’s output is shown once, in its tool call; "Keel ran" is one line; each approval once', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const runId = await createRunOver(keel, { kind: 'builtin', script: 'edit-and-test' }, 'Shown once');
  await openApp(page, runId);
  await expect(page.getByTestId('composer-reason')).toHaveAttribute('data-blocked', 'false', { timeout: 30_000 });
  await page.getByTestId('composer-input').fill('Write a greeting file and check it.');
  await page.getByTestId('composer-send').click();

  const pinned = page.getByTestId('pinned-approvals').getByTestId('pinned-approval');
  for (const title of ['write files', 'run a command']) {
    await expect(pinned.locator('.approval-title')).toContainText(title, { timeout: 30_000 });
    // The transcript copy is one line pointing at the pinned one: no facts, no buttons.
    const id = await pinned.getAttribute('data-approval-id');
    const placeholder = page.locator(`[data-testid="approval-card"][data-approval-id="${id}"]`);
    await expect(placeholder.getByTestId('approval-pinned-ref')).toBeVisible();
    await expect(placeholder.locator('.approval-facts, [data-decision]')).toHaveCount(0);
    if (title === 'run a command') await screenshotBoth(page, 'one-copy-approval');
    await pinned.locator('[data-testid="approval-decide"][data-decision="allow_once"]').click();
  }
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason="end_turn"]')).toBeVisible({ timeout: 30_000 });

  const tool = transcriptItem(page, 'tool').filter({ hasText: 'Run sh' });
  await expect(tool.getByTestId('output')).toContainText('tests passed');
  // Two lines: shown as they are, no arrow beside them.
  await expect(tool.getByTestId('output').locator('.disclosure-toggle')).toHaveCount(0);
  const command = transcriptItem(page, 'command');
  await expect(command).toContainText('for the tool call above');
  await expect(command.getByTestId('output').locator('.disclosure-toggle')).toHaveAttribute('aria-expanded', 'false');
  await expect(command.locator('pre')).toHaveCount(0);
  // The output is on screen once in the whole transcript.
  await expect(page.locator('pre.output', { hasText: 'tests passed' })).toHaveCount(1);
  await command.scrollIntoViewIfNeeded();
  await screenshotBoth(page, 'one-copy-command');
});

test('point 5: a custom agent that is not on PATH is refused in the New run dialog; a run’s agent is changed', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(keel.url);
  await page.getByTestId('new-run').click();
  const dialog = page.getByTestId('new-run-dialog');
  await dialog.getByTestId('new-run-workspace').fill(tempDir('keel-e2e-ws-'));
  await dialog.getByTestId('new-run-source-custom').check();
  await dialog.getByLabel('ACP command line').fill('keel-no-such-agent --acp');
  await dialog.getByTestId('new-run-create').click();
  await expect(dialog.getByTestId('new-run-error')).toContainText('“keel-no-such-agent” was not found on PATH. Install it, or type its full path.');
  await expect(dialog).toBeVisible();
  await screenshotBoth(page, 'agent-check-error');
  await dialog.getByTestId('new-run-cancel').click();

  const runId = await createRunOver(keel, { kind: 'builtin', script: 'hello' }, 'Agent changed');
  await openApp(page, runId);
  await expect(page.getByTestId('run-agent')).toContainText('built-in: hello');
  await page.getByTestId('edit-agent').click();
  const edit = page.getByTestId('edit-agent-dialog');
  // A command that exits at once fails the handshake: said in plain words, nothing changed.
  await edit.getByTestId('edit-agent-custom').check();
  await edit.getByTestId('edit-agent-command').fill("sh -c 'exit 3'");
  await edit.getByTestId('edit-agent-save').click();
  await expect(edit.getByTestId('edit-agent-error')).toContainText('It exited (code 3) before answering the ACP handshake');
  await screenshotBoth(page, 'agent-edit-error');
  await edit.getByTestId('edit-agent-builtin').check();
  await edit.getByTestId('edit-agent-script').selectOption('edit-and-test');
  await edit.getByTestId('edit-agent-save').click();
  await expect(edit).toBeHidden();
  await expect(page.getByTestId('run-agent')).toContainText('built-in: edit-and-test');
  await expect(runRow(page, runId)).toContainText('built-in: edit-and-test');
});

test('point 24: Ctrl+K opens the command palette; typing a run’s name switches to it; the ? list names it', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const first = await createRunOver(keel, { kind: 'builtin', script: 'hello' }, 'Palette first');
  const second = await createRunOver(keel, { kind: 'builtin', script: 'hello' }, 'Palette second');
  await openApp(page, first);
  await page.getByTestId('composer-input').click();
  // From the prompt box too: Ctrl+K is not text.
  await page.keyboard.press('Control+k');
  const palette = page.getByTestId('command-palette');
  await expect(palette).toBeVisible();
  await expect(page.getByTestId('palette-input')).toBeFocused();
  await screenshotBoth(page, 'command-palette');
  await page.keyboard.type('Palette second');
  await page.keyboard.press('Enter');
  await expect(palette).toBeHidden();
  await expect(page.locator(`[data-testid="conversation"][data-run-id="${second}"]`)).toBeVisible();

  await page.keyboard.press('Control+k');
  await page.keyboard.type('settings');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('settings-dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('settings-dialog')).toBeHidden();

  await page.locator('body').click({ position: { x: 5, y: 880 } });
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts-overlay')).toContainText('Command palette');
});
