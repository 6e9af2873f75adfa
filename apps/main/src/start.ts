/**
 * `npm start`: Electron where its binary is installed and a display exists, otherwise the
 * headless server in the browser. Never triggers Electron's download-on-require.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary } from './electron-binary.js';

/** The apps/main package directory: Electron reads its package.json "main". */
const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Electron binary to run, or why Electron cannot run here. */
function chooseLauncher(): { binary: string } | { reason: string } {
  const found = findElectronBinary();
  if ('missing' in found) return { reason: found.missing };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: `Electron is installed at ${found.path} but there is no display (DISPLAY and WAYLAND_DISPLAY are unset)` };
  }
  return { binary: found.path };
}

/** Electron needs better-sqlite3 built for its ABI; without one, fall back to headless, saying why. */
async function withElectronSqlite(choice: { binary: string } | { reason: string }): Promise<{ binary: string } | { reason: string }> {
  if (!('binary' in choice)) return choice;
  try {
    const { electronSqliteBinding, electronVersion } = await import('./electron-native.js');
    process.env.KEEL_SQLITE_BINDING = await electronSqliteBinding(electronVersion());
    return choice;
  } catch (error) {
    return { reason: `better-sqlite3 could not be built for Electron (${(error as Error).message})` };
  }
}

const choice = await withElectronSqlite(chooseLauncher());
if ('binary' in choice) {
  const { launchElectron } = await import('./launch-electron.js');
  launchElectron(choice.binary, APP_DIR, process.argv.slice(2));
} else {
  process.stderr.write(`${choice.reason}; running headless.\n`);
  // Loaded lazily so the Electron path never loads the engine in this process.
  const { runHeadless } = await import('./run-headless.js');
  await runHeadless();
}
