import path from 'node:path';
import type { App } from 'electron';
import { resolveDataDir } from '@keel/core';

/**
 * Points Electron's userData at Keel's data directory (KEEL_DATA_DIR, else the platform
 * default), so the app and the `keel` CLI read and write the same ledger. Chromium's own
 * caches and storage go to a subdirectory instead of mixing with Keel's files. Before `ready`.
 */
export function configureAppPaths(app: App): void {
  const dataDir = resolveDataDir({});
  app.setPath('userData', dataDir);
  app.setPath('sessionData', path.join(dataDir, 'chromium'));
}
