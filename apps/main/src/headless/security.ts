import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type Verdict = { ok: true; viaQuery: boolean } | { ok: false; status: 401 | 403; reason: string };

export const tokenCookieName = (port: number) => `keel_token_${port}`;

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
 * rebinding), a browser Origin, if sent, must be exactly this origin, and the per-start token
 * must come either in the query or in the cookie set when the page was first opened with it.
 */
export function checkRequest(req: IncomingMessage, origin: string, port: number, token: string): Verdict {
  const expectedHost = new URL(origin).host;
  if (req.headers.host !== expectedHost) return { ok: false, status: 403, reason: 'Host is not the loopback origin.' };
  const requestOrigin = req.headers.origin;
  if (requestOrigin !== undefined && requestOrigin !== origin) {
    return { ok: false, status: 403, reason: 'Origin is not the loopback origin.' };
  }
  const url = new URL(req.url ?? '/', origin);
  const queryToken = url.searchParams.get('token');
  if (queryToken !== null) {
    return sameSecret(queryToken, token) ? { ok: true, viaQuery: true } : { ok: false, status: 401, reason: 'Wrong token.' };
  }
  const cookieToken = cookieValue(req.headers.cookie, tokenCookieName(port));
  if (cookieToken !== null && sameSecret(cookieToken, token)) return { ok: true, viaQuery: false };
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
