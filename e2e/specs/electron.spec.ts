import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { artifactsDir, repoRoot } from '../support/keel-server.js';

interface BinaryProbe {
  findElectronBinary(): { path: string } | { missing: string };
}

// The compiled detector (npm test builds before e2e); it never triggers Electron's download.
const probe = (await import(path.join(repoRoot, 'apps/main/dist/electron-binary.js'))) as BinaryProbe;
const found = probe.findElectronBinary();
const missing = 'missing' in found ? found.missing : null;
const noDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;

test('the Electron app opens its sandboxed window with both panes', async () => {
  test.skip(missing !== null, `Electron binary not available: ${missing}`);
  test.skip(noDisplay, 'Electron needs a display (run under xvfb-run)');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-electron-'));
  const app = await electron.launch({
    executablePath: (found as { path: string }).path,
    args: [path.join(repoRoot, 'apps/main')],
    env: { ...process.env, KEEL_DATA_DIR: dataDir },
  });
  try {
    const window = await app.firstWindow();
    await expect(window.getByRole('heading', { name: 'Runs' })).toBeVisible();
    await expect(window.getByRole('heading', { name: 'Reliability' })).toBeVisible();
    await expect(window.getByTestId('app-mode')).toHaveText('electron');
    // The page has no Node: the preload exposes only the contract bridge.
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await window.evaluate(() => Object.keys((globalThis as { keel?: object }).keel ?? {}).sort())).toEqual(['invoke', 'subscribe']);
    await window.screenshot({ path: path.join(artifactsDir, 'electron-shell.png') });
  } finally {
    await app.close();
  }
});
