import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserOpener } from '../src/open-browser.js';

const URL = 'http://127.0.0.1:1234/?token=abc';

function pathWithXdgOpen(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-path-'));
  fs.writeFileSync(path.join(dir, 'xdg-open'), '#!/bin/sh\n', { mode: 0o755 });
  return dir;
}

describe('browserOpener', () => {
  it('uses open on macOS and start on Windows', () => {
    expect(browserOpener(URL, 'darwin', {})).toEqual({ command: 'open', args: [URL] });
    expect(browserOpener(URL, 'win32', {})).toMatchObject({ command: 'cmd', args: expect.arrayContaining(['start', URL]) });
  });

  it('uses xdg-open on Linux only with a display and xdg-open on PATH', () => {
    const PATH = pathWithXdgOpen();
    expect(browserOpener(URL, 'linux', { PATH })).toBeNull();
    expect(browserOpener(URL, 'linux', { DISPLAY: ':0', PATH: '/nonexistent' })).toBeNull();
    expect(browserOpener(URL, 'linux', { DISPLAY: ':0', PATH })).toEqual({ command: 'xdg-open', args: [URL] });
    expect(browserOpener(URL, 'linux', { WAYLAND_DISPLAY: 'wayland-0', PATH })).toEqual({ command: 'xdg-open', args: [URL] });
  });
});
