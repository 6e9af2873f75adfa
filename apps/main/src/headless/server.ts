import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { pipeline } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, closeReasons, serveConnection, type Connection, type ConnectionPeer, type FlowLimits, type Router } from '@keel/core';
import { checkRequest, contentSecurityPolicy, tokenCookieName } from './security.js';
import { resolveStaticFile } from './static-files.js';

/** Largest frame a client may send; bigger frames close the socket (1009). */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/**
 * Sockets served at once; the next is accepted and closed with CloseCode.tooManyConnections.
 * A person has a few Keel tabs open; 16 leaves room for many, plus the overlap of reconnects (a
 * socket closed for being too slow keeps its slot until it is gone, CLOSE_GRACE_MS at most),
 * and bounds what clients that stop reading can make the host hold: 16 × the per-connection
 * bound (DEFAULT_FLOW_LIMITS.closeAtBytes, 16 MiB) = 256 MiB at the very worst.
 */
export const MAX_CONNECTIONS = 16;
/**
 * A socket closed for being too slow gets this long to take its close frame (queued behind what
 * it has not read) and answer it; then it is cut. Long enough for a slow reader to see why.
 */
const CLOSE_GRACE_MS = 5_000;
export const RPC_PATH = '/rpc';
/** Answers 204 to a request carrying the valid token, 401 otherwise (the page's token check). */
export const AUTH_PATH = '/auth';
/** What a request without a valid token is told: how to get the URL. */
export const NEEDS_TOKEN =
  'This address needs Keel\'s access token. Run `keel open` in a terminal: it opens Keel with the right URL (`keel open --print` prints it). ' +
  'If the server was started with --new-token, old URLs no longer work.';
const STATUS_TEXT = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' } as const;

export interface HeadlessServerOptions {
  router: Router;
  /** The built renderer (index.html and assets). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** The access token (persisted per data directory by `keel serve`); a fresh random one otherwise. */
  token?: string;
  /** The page-asset cookie secret (persisted with the token, so a reload after a restart works); random otherwise. */
  assetSecret?: string;
  /** Tests lower these; the defaults are MAX_CONNECTIONS and DEFAULT_FLOW_LIMITS. */
  maxConnections?: number;
  flowLimits?: Partial<FlowLimits>;
}

export interface HeadlessServerStats {
  /** Sockets being served (including ones closed for being too slow that have not gone yet). */
  connections: number;
  /** Bytes handed to sockets and not yet written out, all connections together. */
  outstandingBytes: number;
  /** The most any one connection has had outstanding since the server started. */
  peakOutstandingBytes: number;
  /** Times history paging paused for a client that was behind, all connections since the start. */
  pauses: number;
  /** Connections closed with CloseCode.tooSlow, and refused with CloseCode.tooManyConnections, since the start. */
  closedTooSlow: number;
  refused: number;
}

export interface HeadlessServer {
  readonly port: number;
  readonly origin: string;
  readonly token: string;
  /** The URL to open, token included. */
  readonly url: string;
  /** Each connection's own accounting of its unsent output (for diagnostics and tests). */
  stats(): HeadlessServerStats;
  close(): Promise<void>;
}

/**
 * The headless door onto a Workstation: HTTP + WebSocket on 127.0.0.1 only. Every request
 * and upgrade is checked for host, origin and the per-start token before anything else.
 */
export async function startHeadlessServer(options: HeadlessServerOptions): Promise<HeadlessServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const secrets = { token, assetSecret: options.assetSecret ?? randomBytes(32).toString('base64url') };
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
      res.end(`${STATUS_TEXT[verdict.status]}: ${verdict.reason}\n${verdict.status === 401 ? `\n${NEEDS_TOKEN}\n` : ''}`);
      return;
    }
    // The page asks here whether its token is still good when its socket cannot connect.
    if (verdict.pathname === AUTH_PATH) {
      res.writeHead(verdict.viaQuery ? 204 : 401, baseHeaders);
      res.end();
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

  const maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  const served = new Set<Connection>();
  const gone = { peakOutstandingBytes: 0, pauses: 0 };
  const closes = { tooSlow: 0, refused: 0 };
  /** Closes with an application code; a socket that does not answer (it is not reading) is cut after the grace. */
  const closeSocket = (ws: WebSocket, code: CloseCode, reason: string) => {
    ws.close(code, reason);
    const cut = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    cut.unref();
    ws.once('close', () => clearTimeout(cut));
  };

  const attach = (ws: WebSocket) => {
    ws.on('error', () => {});
    if (served.size >= maxConnections) {
      closes.refused += 1;
      closeSocket(ws, CloseCode.tooManyConnections, closeReasons[CloseCode.tooManyConnections]);
      return;
    }
    const peer: ConnectionPeer = {
      send(text, written) {
        if (ws.readyState !== ws.OPEN) written();
        else ws.send(text, () => written());
      },
      close: (code, reason) => {
        if (code === CloseCode.tooSlow) closes.tooSlow += 1;
        closeSocket(ws, code, reason);
      },
    };
    const connection = serveConnection(options.router, { transport: 'socket' }, peer, options.flowLimits);
    served.add(connection);
    const end = () => {
      if (!served.delete(connection)) return;
      gone.peakOutstandingBytes = Math.max(gone.peakOutstandingBytes, connection.peakOutstandingBytes);
      gone.pauses += connection.pauses;
      connection.close();
    };
    ws.on('message', (data, isBinary) => connection.receive(isBinary ? null : data.toString()));
    ws.on('close', end);
    ws.on('error', end);
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
    stats() {
      let outstandingBytes = 0;
      let { peakOutstandingBytes, pauses } = gone;
      for (const connection of served) {
        outstandingBytes += connection.outstandingBytes;
        peakOutstandingBytes = Math.max(peakOutstandingBytes, connection.peakOutstandingBytes);
        pauses += connection.pauses;
      }
      return { connections: served.size, outstandingBytes, peakOutstandingBytes, pauses, closedTooSlow: closes.tooSlow, refused: closes.refused };
    },
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
