// A data directory's headless server comes back at the same URL after a restart (stored port
// and token, 0600), rotates its token on request, moves off a port another program holds, and
// answers the page's token check: 204 for the valid token, 401 with what to do otherwise.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openWorkstation, type Workstation } from '@keel/core';
import { startPersistentServer, type PersistentServer } from '../src/headless/persistent-server.js';
import { readServerIdentity, serverFilePath } from '../src/headless/server-identity.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function rendererFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-renderer-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Keel</title>');
  return dir;
}

async function workstationOn(dataDir: string): Promise<Workstation> {
  const workstation = await openWorkstation({ dataDir, mode: 'headless', heartbeatMs: 60_000 });
  cleanups.push(() => workstation.close());
  return workstation;
}

async function serveOn(dataDir: string, workstation: Workstation, options: { newToken?: boolean; port?: number } = {}): Promise<PersistentServer> {
  const started = await startPersistentServer({ router: workstation.router, rendererDir: rendererFixture(), dataDir, ...options });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await started.server.close();
  };
  cleanups.push(close);
  return { ...started, server: { ...started.server, close } };
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; cookie: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }));
      })
      .on('error', reject);
  });
}

const tempData = () => fs.mkdtempSync(path.join(os.tmpdir(), 'keel-data-'));

describe('a stable headless URL per data directory', () => {
  it('a restarted server listens on the same port with the same token, stored 0600; the asset cookie of the first start still opens the page', async () => {
    const dataDir = tempData();
    const workstation = await workstationOn(dataDir);
    const first = await serveOn(dataDir, workstation);
    const stored = readServerIdentity(dataDir)!;
    expect(stored.port).toBe(first.server.port);
    expect(stored.token).toBe(first.server.token);
    expect(fs.statSync(serverFilePath(dataDir)).mode & 0o777).toBe(0o600);
    const page = await get(first.server.url);
    expect(page.status).toBe(200);
    await first.server.close();

    const second = await serveOn(dataDir, workstation);
    expect(second.server.url).toBe(first.server.url);
    expect(second.notes).toEqual([]);
    // A reload of a tab whose address lost the token: the cookie from before the restart works.
    expect((await get(`${second.server.origin}/`, { cookie: page.cookie! })).status).toBe(200);
  });

  it('--new-token rotates: the old token is refused (401, with `keel open` named), the new one accepted, the port kept', async () => {
    const dataDir = tempData();
    const workstation = await workstationOn(dataDir);
    const first = await serveOn(dataDir, workstation);
    const oldToken = first.server.token;
    await first.server.close();
    const rotated = await serveOn(dataDir, workstation, { newToken: true });
    expect(rotated.server.port).toBe(first.server.port);
    expect(rotated.server.token).not.toBe(oldToken);
    expect(rotated.notes.join(' ')).toMatch(/new access token/);
    const refused = await get(`${rotated.server.origin}/auth?token=${oldToken}`);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('keel open');
    expect((await get(`${rotated.server.origin}/auth?token=${rotated.server.token}`)).status).toBe(204);
    const bare = await get(`${rotated.server.origin}/`);
    expect(bare.status).toBe(401);
    expect(bare.body).toMatch(/needs Keel's access token\. Run `keel open`/);
  });

  it('a stored port another program took moves to a free one, says so, and is kept; an explicit --port that is taken is a plain error', async () => {
    const dataDir = tempData();
    const workstation = await workstationOn(dataDir);
    const first = await serveOn(dataDir, workstation);
    const port = first.server.port;
    await first.server.close();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => squatter.close(() => resolve())));
    const moved = await serveOn(dataDir, workstation);
    expect(moved.server.port).not.toBe(port);
    expect(moved.notes.join(' ')).toContain(`Port ${port} is in use by another program`);
    expect(readServerIdentity(dataDir)!.port).toBe(moved.server.port);
    await expect(serveOn(dataDir, workstation, { port })).rejects.toThrow(`Port ${port} is already in use by another program`);
  });

  it('a damaged server.json is replaced by a new identity (a new token), not a crash', async () => {
    const dataDir = tempData();
    fs.writeFileSync(serverFilePath(dataDir), '{not json', { mode: 0o600 });
    const workstation = await workstationOn(dataDir);
    const started = await serveOn(dataDir, workstation);
    expect(readServerIdentity(dataDir)!.token).toBe(started.server.token);
  });
});
