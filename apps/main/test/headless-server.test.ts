import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, createSocketTransport, type ConnectionStatus, type ServerMessage, type SocketLike } from '@keel/core/contract';
import { openWorkstation, type Workstation } from '@keel/core';
import { startHeadlessServer, type HeadlessServer } from '../src/headless/server.js';

const open: Array<{ server: HeadlessServer; workstation: Workstation }> = [];

function rendererFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-renderer-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Keel</title>');
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(os.tmpdir(), 'keel-secret.txt'), 'secret');
  return dir;
}

async function start(port = 0) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-data-'));
  const workstation = await openWorkstation({ dataDir, mode: 'headless', heartbeatMs: 60_000 });
  const server = await startHeadlessServer({ router: workstation.router, rendererDir: rendererFixture(), port });
  open.push({ server, workstation });
  return server;
}

afterEach(async () => {
  for (const { server, workstation } of open.splice(0)) {
    await server.close();
    await workstation.close();
  }
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

/** Opens a socket and reports whether the upgrade was accepted, with the refusal status if not. */
function tryUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ opened: boolean; status?: number; socket?: WebSocket }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => resolve({ opened: true, socket }));
    socket.once('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
    socket.once('error', () => resolve({ opened: false }));
  });
}

function rpcUrl(server: HeadlessServer, token?: string) {
  return `ws://127.0.0.1:${server.port}/rpc${token === undefined ? '' : `?token=${token}`}`;
}

describe('headless server', () => {
  it('listens on 127.0.0.1 only and prints a URL carrying a fresh token', async () => {
    const a = await start();
    const b = await start();
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
    expect(a.token).not.toBe(b.token);
  });

  it('refuses HTTP requests without the token, with a wrong token, from a foreign Origin or Host', async () => {
    const server = await start();
    expect((await get(`${server.origin}/`)).status).toBe(401);
    expect((await get(`${server.origin}/?token=wrong`)).status).toBe(401);
    expect((await get(server.url, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(server.url, { Origin: `http://localhost:${server.port}` })).status).toBe(403);
    expect((await get(server.url, { Host: `attacker.example:${server.port}` })).status).toBe(403);
  });

  it('serves the page with the token, sets a strict cookie and CSP, and then serves assets by cookie', async () => {
    const server = await start();
    const page = await get(server.url, { Origin: server.origin });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const cookie = String(page.headers['set-cookie']?.[0]).split(';')[0]!;
    expect(page.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await get(`${server.origin}/assets/app.js`, { Cookie: cookie })).status).toBe(200);
    expect((await get(`${server.origin}/assets/app.js`, { Cookie: 'keel_token_1=nope' })).status).toBe(401);
  });

  it('answers a malformed request target with 400 and stays up', async () => {
    const server = await start();
    const net = await import('node:net');
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write(`GET // HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`));
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await get(server.url)).status).toBe(200);
  });

  it('the asset cookie opens the page assets but never the RPC socket (cookies reach every loopback port)', async () => {
    const server = await start();
    const page = await get(server.url);
    const cookie = String(page.headers['set-cookie']?.[0]).split(';')[0]!;
    expect(cookie).not.toContain(server.token);
    expect((await get(`${server.origin}/assets/app.js`, { Cookie: cookie })).status).toBe(200);
    expect(await tryUpgrade(rpcUrl(server), { Cookie: cookie, Origin: server.origin })).toMatchObject({ opened: false, status: 401 });
  });

  it('never serves files outside the renderer directory', async () => {
    const server = await start();
    for (const attempt of ['/../keel-secret.txt', '/%2e%2e/keel-secret.txt', '/assets/..%2f..%2fkeel-secret.txt']) {
      const res = await get(`${server.origin}${attempt}${attempt.includes('?') ? '&' : '?'}token=${server.token}`);
      expect(res.status, attempt).toBe(404);
      expect(res.body).not.toContain('secret');
    }
  });

  it('refuses a WebSocket without the token, with a wrong token, or from a foreign Origin', async () => {
    const server = await start();
    expect(await tryUpgrade(rpcUrl(server))).toMatchObject({ opened: false, status: 401 });
    expect(await tryUpgrade(rpcUrl(server, 'wrong'))).toMatchObject({ opened: false, status: 401 });
    expect(await tryUpgrade(rpcUrl(server, server.token), { Origin: 'http://evil.example' })).toMatchObject({ opened: false, status: 403 });
    const ok = await tryUpgrade(rpcUrl(server, server.token), { Origin: server.origin });
    expect(ok.opened).toBe(true);
    ok.socket?.close();
  });

  it('answers invalid input with a typed validation error, then the same socket answers app.info', async () => {
    const server = await start();
    const { socket } = await tryUpgrade(rpcUrl(server, server.token), { Origin: server.origin });
    const received: ServerMessage[] = [];
    socket!.on('message', (data) => received.push(JSON.parse(data.toString()) as ServerMessage));
    const waitFor = async (n: number) => {
      while (received.length < n) await new Promise((r) => socket!.once('message', r));
    };
    socket!.send(JSON.stringify({ t: 'call', id: 1, method: 'app.info', input: { nope: true } }));
    socket!.send(JSON.stringify({ t: 'call', id: 2, method: 'no.such.method', input: {} }));
    socket!.send('garbage');
    socket!.send(JSON.stringify({ t: 'call', id: 3, method: 'app.info', input: {} }));
    await waitFor(4);
    const results = new Map(received.filter((m) => m.t === 'result').map((m) => [m.id, m]));
    expect(results.get(1)).toMatchObject({ ok: false, error: { code: 'invalid_input', issues: [{ path: '(root)' }] } });
    expect(results.get(2)).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(received.find((m) => m.t === 'error')).toMatchObject({ error: { code: 'invalid_input' } });
    expect(results.get(3)).toMatchObject({ ok: true, value: { name: 'Keel', mode: 'headless' } });
    socket!.close();
  });

  it('the reconnecting client survives a server restart: status goes reconnecting, then connected, and the stream resumes', async () => {
    const first = await start();
    const statuses: ConnectionStatus[] = [];
    const beats: number[] = [];
    // Wakes `until` on every status change and every beat: no polling.
    let wake = () => {};
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise<void>((resolve) => (wake = resolve));
    };
    const transport = createSocketTransport({
      connect: () => new WebSocket(rpcUrl(first, first.token), { headers: { Origin: first.origin } }) as unknown as SocketLike,
      onStatus: (status) => {
        statuses.push(status);
        wake();
      },
      backoffMs: () => 20,
    });
    const client = createClient(transport);
    client.subscribe('app.health', { intervalMs: 100 }, {
      onEvent: (beat) => {
        beats.push(beat.seq);
        wake();
      },
    });
    await expect(client.invoke('app.info', {})).resolves.toMatchObject({ name: 'Keel' });
    await first.close();
    open.splice(0);
    await until(() => statuses.includes('reconnecting'));
    // Same port and token: a restarted host.
    const workstation = await openWorkstation({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'keel-data-')), mode: 'headless' });
    const second = await startHeadlessServer({ router: workstation.router, rendererDir: rendererFixture(), port: first.port, token: first.token });
    open.push({ server: second, workstation });
    await expect(client.invoke('app.info', {})).resolves.toMatchObject({ name: 'Keel' });
    const before = beats.length;
    await until(() => beats.length > before);
    expect(statuses).toEqual(['connected', 'reconnecting', 'connected']);
    transport.close();
  });
});
