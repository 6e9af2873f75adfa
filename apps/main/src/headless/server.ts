import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { pipeline } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveConnection, type Router } from '@keel/core';
import { checkRequest, contentSecurityPolicy, tokenCookieName } from './security.js';
import { resolveStaticFile } from './static-files.js';

/** Largest frame a client may send; bigger frames close the socket (1009). */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
export const RPC_PATH = '/rpc';
const STATUS_TEXT = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' } as const;

export interface HeadlessServerOptions {
  router: Router;
  /** The built renderer (index.html and assets). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token for tests; a fresh random one otherwise. */
  token?: string;
}

export interface HeadlessServer {
  readonly port: number;
  readonly origin: string;
  readonly token: string;
  /** The URL to open, token included. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The headless door onto a Workstation: HTTP + WebSocket on 127.0.0.1 only. Every request
 * and upgrade is checked for host, origin and the per-start token before anything else.
 */
export async function startHeadlessServer(options: HeadlessServerOptions): Promise<HeadlessServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const secrets = { token, assetSecret: randomBytes(32).toString('base64url') };
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  let origin = '';
  let port = 0;

  const server = http.createServer((req, res) => {
    const verdict = checkRequest(req, origin, port, secrets, 'page');
    const baseHeaders = {
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    };
    if (!verdict.ok) {
      res.writeHead(verdict.status, { ...baseHeaders, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${STATUS_TEXT[verdict.status]}: ${verdict.reason}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...baseHeaders, Allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const file = resolveStaticFile(options.rendererDir, verdict.pathname);
    if (!file) {
      res.writeHead(404, { ...baseHeaders, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
      return;
    }
    const headers: Record<string, string> = {
      ...baseHeaders,
      'Content-Type': file.contentType,
      'Content-Security-Policy': contentSecurityPolicy(origin),
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
    if (verdict.viaQuery) {
      headers['Set-Cookie'] = `${tokenCookieName(port)}=${secrets.assetSecret}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // pipeline: a read error (a file replaced mid-rebuild) ends this response, not the server.
    pipeline(fs.createReadStream(file.absolutePath), res, () => {});
  });

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const verdict = checkRequest(req, origin, port, secrets, 'socket');
    if (!verdict.ok || verdict.pathname !== RPC_PATH) {
      const status = !verdict.ok ? verdict.status : 404;
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const attach = (ws: WebSocket) => {
    const connection = serveConnection(options.router, { transport: 'socket' }, (message) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.send(JSON.stringify({ t: 'error', error: { code: 'invalid_input', message: 'Binary frames are not accepted.' } }));
        return;
      }
      connection.receive(data.toString());
    });
    ws.on('close', () => connection.close());
    ws.on('error', () => connection.close());
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  return {
    port,
    origin,
    token,
    url: `${origin}/?token=${token}`,
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The one line `keel serve` prints; tests and scripts parse it. */
export const listeningLine = (url: string) => `Keel is listening on ${url}`;
