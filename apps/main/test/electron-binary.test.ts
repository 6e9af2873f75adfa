import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findElectronBinary } from '../src/electron-binary.js';

function fakeElectronPackage(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-electron-pkg-'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'electron', version: '0.0.0' }));
  return dir;
}

describe('findElectronBinary', () => {
  it('reports missing, with the reason, when path.txt does not exist', () => {
    const dir = fakeElectronPackage();
    const found = findElectronBinary(dir);
    expect(found).toEqual({ missing: expect.stringContaining(path.join(dir, 'path.txt')) });
    expect('missing' in found && found.missing).toMatch(/does not exist/);
  });

  it('reports missing when path.txt names a binary that is not there', () => {
    const dir = fakeElectronPackage();
    fs.writeFileSync(path.join(dir, 'path.txt'), 'electron');
    expect(findElectronBinary(dir)).toEqual({ missing: `Electron binary not found at ${path.join(dir, 'dist', 'electron')}` });
  });

  it('reports missing when path.txt is empty or escapes dist/', () => {
    const dir = fakeElectronPackage();
    fs.writeFileSync(path.join(dir, 'path.txt'), '  \n');
    expect(findElectronBinary(dir)).toEqual({ missing: expect.stringMatching(/is empty/) });
    fs.writeFileSync(path.join(dir, 'path.txt'), '../../bin/sh');
    expect(findElectronBinary(dir)).toEqual({ missing: expect.stringMatching(/points outside/) });
  });

  it.skipIf(process.platform === 'win32')('reports missing when the binary is not executable', () => {
    const dir = fakeElectronPackage();
    fs.mkdirSync(path.join(dir, 'dist'));
    fs.writeFileSync(path.join(dir, 'dist', 'electron'), '');
    fs.chmodSync(path.join(dir, 'dist', 'electron'), 0o644);
    fs.writeFileSync(path.join(dir, 'path.txt'), 'electron');
    // root can execute-check-bypass only for files with some x bit; 0644 is refused for everyone.
    expect(findElectronBinary(dir)).toEqual({ missing: expect.stringMatching(/not executable/) });
  });

  it('finds the binary when path.txt and the file it names both exist', () => {
    const dir = fakeElectronPackage();
    const relative = path.join('Electron.app', 'Contents', 'MacOS', 'Electron');
    fs.mkdirSync(path.join(dir, 'dist', path.dirname(relative)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dist', relative), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'path.txt'), relative);
    expect(findElectronBinary(dir)).toEqual({ path: path.join(dir, 'dist', relative) });
  });

  it('inspects the installed electron package without downloading anything', () => {
    const found = findElectronBinary();
    // Either answer is fine here; what matters is that it answers, and says why when missing.
    if ('missing' in found) expect(found.missing.length).toBeGreaterThan(0);
    else expect(fs.existsSync(found.path)).toBe(true);
  });
});
