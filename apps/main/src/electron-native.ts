import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The files of better-sqlite3 a rebuild needs (not its Node build). */
const SOURCES = ['package.json', 'binding.gyp', 'lib', 'src', 'deps'];

/**
 * better-sqlite3 built for this Electron, in `.cache/electron-native/<version>-<platform>-<arch>`,
 * built once from a copy of the package — the working node_modules keeps its Node build, on
 * which the tests run (DESIGN §7). Returns the addon's path for KEEL_SQLITE_BINDING.
 */
export async function electronSqliteBinding(electronVersion: string): Promise<string> {
  const root = path.join(REPO_ROOT, '.cache', 'electron-native', `${electronVersion}-${process.platform}-${process.arch}`);
  const packageDir = path.join(root, 'node_modules', 'better-sqlite3');
  const binding = path.join(packageDir, 'build', 'Release', 'better_sqlite3.node');
  if (fs.existsSync(binding)) return binding;
  const source = path.dirname(require.resolve('better-sqlite3/package.json'));
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(packageDir, { recursive: true });
  for (const entry of SOURCES) {
    if (fs.existsSync(path.join(source, entry))) fs.cpSync(path.join(source, entry), path.join(packageDir, entry), { recursive: true });
  }
  const version = (JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8')) as { version: string }).version;
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'keel-electron-native', private: true, dependencies: { 'better-sqlite3': version } }));
  const { rebuild } = (await import('@electron/rebuild')) as typeof import('@electron/rebuild');
  await rebuild({ buildPath: root, electronVersion, onlyModules: ['better-sqlite3'], force: true });
  if (!fs.existsSync(binding)) throw new Error(`the Electron rebuild of better-sqlite3 produced no ${binding}`);
  return binding;
}

/** The installed Electron's version (read from its package, which never downloads anything). */
export function electronVersion(): string {
  return (require('electron/package.json') as { version: string }).version;
}
