import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppUrl } from '../src/electron/app-origin.js';
import { APP_CONTENT_SECURITY_POLICY, createAppRequestHandler } from '../src/electron/protocol-response.js';

function rendererFixture() {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-protocol-'));
  const dir = path.join(base, 'dist');
  fs.mkdirSync(path.join(dir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Keel</title>');
  fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(base, 'secret.txt'), 'secret');
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(dir, 'assets', 'link.txt'));
  return dir;
}

const get = (handler: (request: Request) => Promise<Response>, url: string, method = 'GET') => handler(new Request(url, { method }));

describe('keel:// protocol', () => {
  const handler = createAppRequestHandler(rendererFixture());

  it('serves the renderer with a strict CSP', async () => {
    const response = await get(handler, 'keel://app/index.html');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toContain('<title>Keel</title>');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(APP_CONTENT_SECURITY_POLICY);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves / as index.html and assets by type', async () => {
    expect((await get(handler, 'keel://app/')).status).toBe(200);
    const script = await get(handler, 'keel://app/assets/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it.each([
    'keel://app/%2e%2e/secret.txt',
    'keel://app/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    'keel://app/..%2fsecret.txt',
    'keel://app/assets/link.txt',
    'keel://app/%00index.html',
    'keel://app/nothing-here.js',
  ])('refuses %s', async (url) => {
    const response = await get(handler, url);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('secret');
  });

  it('answers only its own host, and only GET/HEAD', async () => {
    expect((await get(handler, 'keel://other/index.html')).status).toBe(404);
    expect((await get(handler, 'keel://app/index.html', 'POST')).status).toBe(405);
    const head = await get(handler, 'keel://app/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('says the renderer is not built when index.html is missing', async () => {
    const empty = createAppRequestHandler(fs.mkdtempSync(path.join(os.tmpdir(), 'keel-empty-')));
    const response = await get(empty, 'keel://app/index.html');
    expect(response.status).toBe(404);
    expect(await response.text()).toMatch(/not built/);
  });
});

describe('isAppUrl', () => {
  it.each([
    ['keel://app/index.html', true],
    ['keel://app/', true],
    ['keel://APP/index.html', false],
    ['keel://app.evil/index.html', false],
    ['keel://app@evil/index.html', false],
    ['keel://user:pw@app/index.html', false],
    ['keel://app:80/index.html', false],
    ['keelx://app/index.html', false],
    ['file:///app/index.html', false],
    ['https://app/index.html', false],
    ['not a url', false],
  ])('%s -> %s', (url, expected) => {
    expect(isAppUrl(url)).toBe(expected);
  });
});
