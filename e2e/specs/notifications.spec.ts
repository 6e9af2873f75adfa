// Notifications and per-run usage (issue 15 points 22 and 25) against the real headless server
// and the real built-in agent, in Chromium with the notification permission granted. The page is
// put "in the background" by overriding document.hasFocus (headless Chromium has no window
// focus to lose); every wait is on the page or on a ledger fact, never a sleep.
import path from 'node:path';
import type { LedgerEvent } from '@keel/core/contract';
import { expect, test, type Page } from '@playwright/test';
import { connectClient } from '../support/client.mjs';
import { runRow, sharedKeel, tempDir } from '../support/keel-page.js';
import { artifactsDir } from '../support/keel-server.js';
import { readLedger } from '../support/ledger-file.mjs';

const keel = sharedKeel();



declare global {
  interface Window {
    __notices: Array<{ title: string; body: string | undefined }>;
    __inFront: boolean;
  }
}

/** Records every Notification the page creates (still the browser's own), and lets the test take focus away. */
async function instrument(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__notices = [];
    window.__inFront = true;
    const Real = window.Notification;
    window.Notification = class extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        window.__notices.push({ title, body: options?.body });
      }
    } as typeof Notification;
    document.hasFocus = () => window.__inFront;
  });
}

const notices = (page: Page) => page.evaluate(() => window.__notices);
const favicon = (page: Page) => page.evaluate(() => decodeURIComponent(document.querySelector('link[rel="icon"]')!.getAttribute('href')!));

async function pendingApproval(runId: string, decided: number): Promise<string> {
  let found: string | null = null;
  await expect
    .poll(
      () => {
        const events: LedgerEvent[] = readLedger(keel.dataDir, runId);
        const requested = events.filter((event) => event.type === 'approval.requested');
        found = requested.length > decided ? (requested[decided]!.payload as { approvalId: string }).approvalId : null;
        return found;
      },
      { timeout: 30_000 },
    )
    .not.toBeNull();
  return found!;
}

test('in the background: an approval and a finished run notify, badge the title and the favicon; in front again they clear', async ({ browser }) => {
  const context = await browser.newContext({ permissions: ['notifications'], viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await instrument(page);
  const { client, close } = connectClient(keel);
  try {
    const run = await client.invoke('runs.create', { workspace: tempDir('keel-e2e-notify-'), agent: { kind: 'builtin', script: 'edit-and-test' }, title: 'Greeting file' });
    await page.goto(keel.url);
    await runRow(page, run.id).click();
    await expect(page.locator(`[data-testid="conversation"][data-run-id="${run.id}"]`)).toBeVisible();
    await expect(page).toHaveTitle('Keel');
    expect(await page.evaluate(() => Notification.permission)).toBe('granted');

    // The person turns away; the agent asks.
    await page.evaluate(() => {
      window.__inFront = false;
    });
    await client.invoke('run.prompt', { runId: run.id, text: 'Write hello.txt and check it' });
    const first = await pendingApproval(run.id, 0);
    await expect(page).toHaveTitle('(1) Keel — approval needed');
    expect(await favicon(page)).toMatch(/<text[^>]*>1<\/text><\/svg>$/);
    await expect.poll(() => notices(page)).toEqual([{ title: 'Keel: an agent is waiting for you', body: 'Greeting file asks for an approval.' }]);
    await page.screenshot({ path: path.join(artifactsDir, 'notifications-waiting.png') });

    await client.invoke('approval.decide', { runId: run.id, approvalId: first, decision: 'allow_once' });
    const second = await pendingApproval(run.id, 1);
    // Decided only once the page has shown it: one decided before the page saw it pending is
    // rightly never notified (another window answered it), and that is not what this checks.
    await expect(page).toHaveTitle('(1) Keel — approval needed');
    await expect.poll(() => notices(page).then((list) => list.length)).toBe(2);
    await client.invoke('approval.decide', { runId: run.id, approvalId: second, decision: 'allow_once' });
    await expect(page).toHaveTitle('• Keel — run finished', { timeout: 30_000 });
    expect(await favicon(page)).toMatch(/<circle[^>]*\/><\/svg>$/);
    await expect.poll(() => notices(page).then((list) => list.map((notice) => notice.body))).toEqual([
      'Greeting file asks for an approval.',
      'Greeting file asks for an approval.',
      'Greeting file finished its turn.',
    ]);

    // Back in front: the dot and the title clear, and nothing more is notified.
    await page.evaluate(() => {
      window.__inFront = true;
      window.dispatchEvent(new Event('focus'));
    });
    await expect(page).toHaveTitle('Keel');
    expect(await favicon(page)).not.toContain('<circle');
  } finally {
    close();
    await context.close();
  }
});

test('the run header shows what the agent reported: tokens, context, time and tool calls (light and dark)', async ({ browser }) => {
  const { client, close } = connectClient(keel);
  const run = await client.invoke('runs.create', { workspace: tempDir('keel-e2e-usage-'), agent: { kind: 'builtin', script: 'hello' }, title: 'Usage' });
  const { turn } = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello to the team' });
  await expect.poll(() => readLedger(keel.dataDir, run.id).some((event) => event.type === 'turn.ended' && (event.payload as { turn: number }).turn === turn), { timeout: 30_000 }).toBe(true);
  close();
  const events = readLedger(keel.dataDir, run.id);
  const tokens = events.filter((event) => event.type === 'usage.reported').map((event) => (event.payload as { tokens?: { input: number; output: number } }).tokens).find(Boolean)!;
  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(keel.url);
    await runRow(page, run.id).click();
    await expect(page.getByTestId('run-tokens')).toHaveText(`${tokens.input} in · ${tokens.output} out`);
    await expect(page.getByTestId('run-context')).toHaveText('0%');
    await expect(page.getByTestId('run-duration')).toHaveText(/^\d+(\.\d)? s$/);
    await expect(page.getByTestId('run-tool-calls')).toHaveText('0');
    await expect(page.getByTestId('run-cost')).toHaveCount(0);
    await page.screenshot({ path: path.join(artifactsDir, `usage-header-${scheme}.png`), clip: { x: 270, y: 36, width: 720, height: 160 } });
    await context.close();
  }
});
