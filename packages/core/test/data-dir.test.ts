import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir, ensureDataDir, inspectDataDir, resolveDataDir } from '../src/host/data-dir.js';
import { openWorkstation } from '../src/host/workstation.js';
import { tempDir } from './helpers.js';

describe('data directory', () => {
  it('prefers --data, then KEEL_DATA_DIR, then the platform default', () => {
    const env = { KEEL_DATA_DIR: '/srv/keel-env', XDG_DATA_HOME: '/xdg' };
    expect(resolveDataDir({ flag: 'rel/dir', env })).toBe(path.resolve('rel/dir'));
    expect(resolveDataDir({ env })).toBe('/srv/keel-env');
    expect(resolveDataDir({ env: { XDG_DATA_HOME: '/xdg' }, platform: 'linux', home: '/home/u' })).toBe('/xdg/keel');
  });

  it('follows each platform convention for the default', () => {
    expect(defaultDataDir('linux', {}, '/home/u')).toBe('/home/u/.local/share/keel');
    expect(defaultDataDir('linux', { XDG_DATA_HOME: 'relative' }, '/home/u')).toBe('/home/u/.local/share/keel');
    expect(defaultDataDir('darwin', {}, '/Users/u')).toBe('/Users/u/Library/Application Support/Keel');
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'C:\\Users\\u')).toContain('Keel');
  });

  it('creates the directory with mode 0700, tightening an existing loose one', () => {
    const root = tempDir();
    const dir = path.join(root, 'a', 'b');
    ensureDataDir(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    fs.chmodSync(dir, 0o755);
    ensureDataDir(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('reports health: ok when private and writable, problems when readable by others or missing', async () => {
    const dir = ensureDataDir(path.join(tempDir(), 'data'));
    expect(inspectDataDir(dir)).toMatchObject({ exists: true, writable: true, mode: '700', privateMode: true, problems: [] });
    fs.chmodSync(dir, 0o755);
    const loose = inspectDataDir(dir);
    expect(loose.privateMode).toBe(false);
    expect(loose.problems.join(' ')).toMatch(/readable by others/);
    const workstation = await openWorkstation({ dataDir: dir, mode: 'headless' });
    expect(workstation.info().engine.status).toBe('degraded');
    await workstation.close();
    const missing = path.join(tempDir(), 'nope');
    expect(inspectDataDir(missing)).toMatchObject({ exists: false, writable: false });
  });
});
