import fs from 'node:fs';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

export interface StaticFile {
  absolutePath: string;
  contentType: string;
}

/**
 * Maps a URL path to a file inside `root`, or null. Paths that escape the root (by `..`,
 * encoded separators or symlinks) are refused, and `/` means `index.html`.
 */
export function resolveStaticFile(root: string, urlPath: string): StaticFile | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  let realRoot: string;
  let candidate: string;
  try {
    realRoot = fs.realpathSync(root);
    candidate = fs.realpathSync(path.resolve(realRoot, relative));
  } catch {
    return null;
  }
  if (candidate !== realRoot && !candidate.startsWith(realRoot + path.sep)) return null;
  if (!fs.statSync(candidate).isFile()) return null;
  return {
    absolutePath: candidate,
    contentType: CONTENT_TYPES[path.extname(candidate).toLowerCase()] ?? 'application/octet-stream',
  };
}
