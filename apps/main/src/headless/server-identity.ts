import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FILE_MODE, writeFileAtomic } from '@keel/core';

/**
 * Where the headless server of a data directory can be found, kept in the data directory so a
 * restarted `keel serve` comes back at the same URL and an open tab reconnects by itself:
 * the port it listens on and the access token (mode 0600: the token is the key to the agent).
 * `keel serve --new-token` rotates the token (old tabs are then refused and say how to get the
 * new URL); `keel open` reads this file to print or open the URL.
 */
export const SERVER_FILE = 'server.json';

/** The default data directory listens here unless told otherwise (a stable, bookmarkable URL). */
export const DEFAULT_PORT = 4677;

const ServerIdentityFile = z.object({
  schema_version: z.literal(1),
  /** The port the server last listened on; null before the first start. */
  port: z.number().int().min(1).max(65535).nullable(),
  token: z.string().min(32),
  /** Grants the page assets by cookie (never the token itself; see security.ts). */
  asset_secret: z.string().min(32),
});
export type ServerIdentity = z.infer<typeof ServerIdentityFile>;

const secret = () => randomBytes(32).toString('base64url');

export const serverFilePath = (dataDir: string) => path.join(dataDir, SERVER_FILE);

/** The identity stored in the data directory, or null when there is none (or it is unreadable). */
export function readServerIdentity(dataDir: string): ServerIdentity | null {
  let text: string;
  try {
    text = fs.readFileSync(serverFilePath(dataDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = ServerIdentityFile.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Writes the identity atomically with mode 0600. */
export function writeServerIdentity(dataDir: string, identity: ServerIdentity): void {
  const file = serverFilePath(dataDir);
  writeFileAtomic(file, `${JSON.stringify(identity, null, 2)}\n`);
  fs.chmodSync(file, FILE_MODE);
}

/**
 * The identity a starting server uses: the stored one, or a new one (and a new token when
 * `newToken`). A damaged file is replaced, which only means a new token.
 */
export function loadServerIdentity(dataDir: string, options: { newToken?: boolean } = {}): { identity: ServerIdentity; rotated: boolean; created: boolean } {
  const stored = readServerIdentity(dataDir);
  if (stored && !options.newToken) return { identity: stored, rotated: false, created: false };
  const identity: ServerIdentity = { schema_version: 1, port: stored?.port ?? null, token: secret(), asset_secret: secret() };
  writeServerIdentity(dataDir, identity);
  return { identity, rotated: stored !== null, created: stored === null };
}

/** The URL to open for an identity (token included). */
export const serverUrl = (port: number, token: string) => `http://127.0.0.1:${port}/?token=${token}`;
