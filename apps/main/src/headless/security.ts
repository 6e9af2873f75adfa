import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type Verdict =
  | { ok: true; viaQuery: boolean; pathname: string }
  | { ok: false; status: 400 | 401 | 403; reason: string };

export interface Secrets {
  /** Grants the RPC socket; travels only in the URL Keel prints and the page's socket URL. */
  token: string;
  /**
   * Grants the static page assets, in a cookie. Browsers send cookies to every port of a
   * host, so the cookie must never be the token: a leaked asset secret gives away nothing
   * but the public build output.
   */
  assetSecret: string;
}

export const tokenCookieName = (port: number) => `keel_assets_${port}`;

/** The request's path, or null when its target is not a URL we can read (e.g. `//`). */
function pathnameOf(req: IncomingMessage, origin: string): { pathname: string; token: string | null } | null {
  try {
    const url = new URL(req.url ?? '/', origin);
    return { pathname: url.pathname, token: url.searchParams.get('token') };
  } catch {
    return null;
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}

/**
 * Decides whether a request may reach Keel: the Host must be this loopback origin (no DNS
 * rebinding), a browser Origin, if sent, must be exactly this origin. The RPC socket needs the
 * per-start token in its URL; page assets accept it too (and then get the asset cookie) or the
 * asset cookie alone.
 */
export function checkRequest(req: IncomingMessage, origin: string, port: number, secrets: Secrets, kind: 'page' | 'socket'): Verdict {
  const expectedHost = new URL(origin).host;
  if (req.headers.host !== expectedHost) return { ok: false, status: 403, reason: 'Host is not the loopback origin.' };
  const requestOrigin = req.headers.origin;
  if (requestOrigin !== undefined && requestOrigin !== origin) {
    return { ok: false, status: 403, reason: 'Origin is not the loopback origin.' };
  }
  const target = pathnameOf(req, origin);
  if (!target) return { ok: false, status: 400, reason: 'Malformed request target.' };
  if (target.token !== null) {
    return sameSecret(target.token, secrets.token)
      ? { ok: true, viaQuery: true, pathname: target.pathname }
      : { ok: false, status: 401, reason: 'Wrong token.' };
  }
  if (kind === 'socket') return { ok: false, status: 401, reason: 'Missing token.' };
  const cookie = cookieValue(req.headers.cookie, tokenCookieName(port));
  if (cookie !== null && sameSecret(cookie, secrets.assetSecret)) return { ok: true, viaQuery: false, pathname: target.pathname };
  return { ok: false, status: 401, reason: 'Missing token.' };
}

/** The page's Content-Security-Policy: only its own scripts, and sockets only back to this origin. */
export function contentSecurityPolicy(origin: string): string {
  const wsOrigin = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${wsOrigin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
