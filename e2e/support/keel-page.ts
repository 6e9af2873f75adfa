// The setup every spec shares: one real `keel serve` for the file, temporary folders, runs
// created over the contract, the app opened on a run, and screenshots in both colour schemes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentSpec } from '@keel/core/contract';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { connectClient } from './client.mjs';
import { generateRun, type GeneratedRun } from './generate-run.mjs';
import { artifactsDir, startKeel, type RunningKeel } from './keel-server.js';

/**
 * Starts one server before the file's tests (and makes e2e/artifacts) and stops it after them.
 * Call it at the top level of a spec; what it returns reads through to the running server.
 */
export function sharedKeel(options?: Parameters<typeof startKeel>[0]): RunningKeel {
  let running: RunningKeel | undefined;
  test.beforeAll(async () => {
    fs.mkdirSync(artifactsDir, { recursive: true });
    running = await startKeel(options);
  });
  test.afterAll(async () => {
    await running?.stop();
  });
  const started = (): RunningKeel => {
    if (!running) throw new Error('The shared Keel server is not started: use it inside a test or hook.');
    return running;
  };
  return {
    get url() { return started().url; },
    get origin() { return started().origin; },
    get token() { return started().token; },
    get dataDir() { return started().dataDir; },
    get process() { return started().process; },
    stderr: () => started().stderr(),
    stop: () => started().stop(),
  };
}

/** A new folder under the system temp dir, by its real path (macOS links /tmp). */
export const tempDir = (prefix: string): string => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));

/** Both colour schemes of the same state (`<name>.png`, `<name>-dark.png`): the page re-renders with prefers-color-scheme. */
export async function screenshotBoth(page: Page, name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`) });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(artifactsDir, `${name}-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

/** A transcript item of one kind. */
export const transcriptItem = (page: Page, kind: string): Locator => page.locator(`[data-testid="transcript-item"][data-kind="${kind}"]`);

/** The run's row in the run list. */
export const runRow = (page: Page, runId: string): Locator => page.locator(`[data-testid="run-item"][data-run-id="${runId}"]`);

/** Creates a run over the contract in a fresh temporary workspace (an empty title is left out); returns its id. */
export async function createRunOver(server: RunningKeel, agent: AgentSpec, title: string): Promise<string> {
  const { client, close } = connectClient(server);
  try {
    const run = await client.invoke('runs.create', { workspace: tempDir('keel-e2e-ws-'), agent, ...(title ? { title } : {}) });
    return run.id;
  } finally {
    close();
  }
}

/** Opens the app and waits until it is connected (the machine may be loaded: wait on the UI, not a clock). */
export async function gotoConnected(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.locator('.connection-banner')).toHaveAttribute('data-status', 'connected', { timeout: 30_000 });
}

/** Clicks the run's row and waits for its conversation. */
export async function openRun(page: Page, runId: string, options: { timeout?: number } = {}): Promise<void> {
  await runRow(page, runId).click({ timeout: 30_000 });
  await expect(page.locator(`[data-testid="conversation"][data-run-id="${runId}"]`)).toBeVisible(options);
}

/**
 * A server of its own over one generated run of `total` events, in a new scratch folder (data/,
 * generated-ws/). The run is written before the server starts: `keel serve` holds the ledger lock.
 */
export async function keelOverGeneratedRun(prefix: string, total: number): Promise<{ own: RunningKeel; generated: GeneratedRun; scratch: string; dataDir: string }> {
  const scratch = tempDir(prefix);
  const dataDir = path.join(scratch, 'data');
  const workspace = path.join(scratch, 'generated-ws');
  fs.mkdirSync(workspace);
  const generated = await generateRun({ dataDir, total, workspace });
  return { own: await startKeel({ dataDir }), generated, scratch, dataDir };
}
