import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type ElectronBinary = { path: string } | { missing: string };

/** The installed `electron` package directory, or null when it is not installed. */
function electronPackageDir(): string | null {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
}

/**
 * Finds the Electron executable the way `require('electron')` does (path.txt names it,
 * relative to dist/) but without ever triggering its download-on-require fallback.
 * `packageDir` overrides the electron package directory (tests).
 */
export function findElectronBinary(packageDir: string | undefined = electronPackageDir() ?? undefined): ElectronBinary {
  if (!packageDir) return { missing: 'the electron package is not installed' };
  const pathFile = path.join(packageDir, 'path.txt');
  let relative: string;
  try {
    relative = fs.readFileSync(pathFile, 'utf8').trim();
  } catch {
    return { missing: `${pathFile} does not exist (the Electron binary was never downloaded)` };
  }
  if (!relative) return { missing: `${pathFile} is empty` };
  const distDir = path.join(packageDir, 'dist');
  const binary = path.resolve(distDir, relative);
  if (!binary.startsWith(distDir + path.sep)) return { missing: `${pathFile} points outside ${distDir}` };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(binary);
  } catch {
    return { missing: `Electron binary not found at ${binary}` };
  }
  if (!stat.isFile()) return { missing: `${binary} is not a file` };
  if (process.platform !== 'win32') {
    try {
      fs.accessSync(binary, fs.constants.X_OK);
    } catch {
      return { missing: `${binary} is not executable` };
    }
  }
  return { path: binary };
}
