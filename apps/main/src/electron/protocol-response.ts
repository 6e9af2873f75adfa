import fs from 'node:fs/promises';
import { resolveStaticFile } from '../headless/static-files.js';
import { APP_HOST } from './app-origin.js';

/**
 * The page's Content-Security-Policy inside Electron: only its own scripts and styles, no
 * inline script, no eval, and `connect-src 'self'` (it talks to main through the preload,
 * never over the network).
 */
export const APP_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "worker-src 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': APP_CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

const textResponse = (status: number, text: string) =>
  new Response(`${text}\n`, { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });

/**
 * Serves `keel://app/...` from the built renderer directory. Only GET/HEAD on the app host;
 * paths that leave the directory (`..`, encoded separators, symlinks) are refused by
 * resolveStaticFile, the same resolver the headless server uses.
 */
export function createAppRequestHandler(rendererDir: string): (request: Request) => Promise<Response> {
  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return textResponse(400, 'Bad request');
    }
    if (url.host !== APP_HOST) return textResponse(404, 'Not found');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response(null, { status: 405, headers: { ...SECURITY_HEADERS, Allow: 'GET, HEAD' } });
    }
    const file = resolveStaticFile(rendererDir, url.pathname);
    if (!file) {
      const entry = url.pathname === '/' || url.pathname === '/index.html';
      return textResponse(404, entry ? `The renderer is not built (no index.html in ${rendererDir}); run \`npm run build\`.` : 'Not found');
    }
    const headers = { ...SECURITY_HEADERS, 'Content-Type': file.contentType };
    if (request.method === 'HEAD') return new Response(null, { status: 200, headers });
    const body = await fs.readFile(file.absolutePath);
    return new Response(new Uint8Array(body), { status: 200, headers });
  };
}
