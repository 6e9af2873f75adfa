import path from 'node:path';
import { expect, test } from '@playwright/test';
import { artifactsDir, startKeel, type RunningKeel } from '../support/keel-server.js';

let keel: RunningKeel;

test.beforeAll(async () => {
  keel = await startKeel();
});
test.afterAll(async () => {
  await keel.stop();
});

test('the URL shows both panes and the app info from the host', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') violations.push(message.text());
  });
  await page.goto(keel.url);
  await expect(page.getByRole('heading', { name: 'Runs' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Reliability' })).toBeVisible();
  await expect(page.getByTestId('app-mode')).toHaveText('headless');
  await expect(page.getByTestId('app-data-dir')).toHaveText(keel.dataDir);
  await expect(page.getByTestId('engine-status')).toHaveText('OK');
  await expect(page.locator('.connection-banner')).toHaveAttribute('data-status', 'connected');
  // The token leaves the address bar once the page has it.
  expect(new URL(page.url()).searchParams.has('token')).toBe(false);
  await page.screenshot({ path: path.join(artifactsDir, 'app-shell.png') });
  expect(violations, 'no console errors (CSP violations included)').toEqual([]);
});

test('the page follows the system colour scheme', async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: 'dark' });
  const page = await context.newPage();
  await page.goto(keel.url);
  await expect(page.getByRole('heading', { name: 'Runs' })).toBeVisible();
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(22, 24, 28)');
  await page.screenshot({ path: path.join(artifactsDir, 'app-shell-dark.png') });
  await context.close();
});

test('without the token the page is refused', async ({ page }) => {
  const response = await page.goto(keel.origin + '/');
  expect(response?.status()).toBe(401);
});

test('the banner shows reconnecting when the host goes away, and the panes stay', async ({ page }) => {
  const own = await startKeel();
  await page.goto(own.url);
  await expect(page.locator('.connection-banner')).toHaveAttribute('data-status', 'connected');
  await own.stop();
  await expect(page.locator('.connection-banner')).toHaveAttribute('data-status', /reconnecting|lost/);
  await expect(page.getByRole('heading', { name: 'Runs' })).toBeVisible();
  await page.screenshot({ path: path.join(artifactsDir, 'app-shell-reconnecting.png') });
});
