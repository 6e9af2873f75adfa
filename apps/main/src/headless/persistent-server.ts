import os from 'node:os';
import path from 'node:path';
import { defaultDataDir, type Router } from '@keel/core';
import { startHeadlessServer, type HeadlessServer } from './server.js';
import { DEFAULT_PORT, loadServerIdentity, writeServerIdentity } from './server-identity.js';

export interface PersistentServerOptions {
  router: Router;
  rendererDir: string;
  dataDir: string;
  /** An explicit port (`--port`): used as given, never replaced; 0 = any free port. */
  port?: number;
  /** Rotate the access token (`keel serve --new-token`). */
  newToken?: boolean;
}

export interface PersistentServer {
  server: HeadlessServer;
  /** Lines to show the user about what changed (a rotated token, a port that had to move). */
  notes: string[];
}

/** True for the platform's default data directory (not `--data`, not KEEL_DATA_DIR elsewhere). */
export function isDefaultDataDir(dataDir: string): boolean {
  return path.resolve(dataDir) === path.resolve(defaultDataDir(process.platform, process.env, os.homedir()));
}

const inUse = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE';

/**
 * The headless server of a data directory at a stable URL: the port and token stored in the
 * data directory (server.json, 0600) are reused, so a restarted server comes back where open
 * tabs expect it. The default data directory starts on DEFAULT_PORT; any other on a free port
 * that is then kept. A stored port taken by another program moves (and says so) unless the
 * port was given explicitly.
 */
export async function startPersistentServer(options: PersistentServerOptions): Promise<PersistentServer> {
  const { identity, rotated } = loadServerIdentity(options.dataDir, { newToken: options.newToken ?? false });
  const notes: string[] = [];
  if (rotated) notes.push('A new access token was made: pages opened with the old URL are refused; open the new URL below.');
  const start = (port: number) =>
    startHeadlessServer({ router: options.router, rendererDir: options.rendererDir, port, token: identity.token, assetSecret: identity.asset_secret });
  const wanted = options.port ?? identity.port ?? (isDefaultDataDir(options.dataDir) ? DEFAULT_PORT : 0);
  let server: HeadlessServer;
  try {
    server = await start(wanted);
  } catch (error) {
    if (!inUse(error)) throw error;
    if (options.port !== undefined) throw new Error(`Port ${wanted} is already in use by another program; choose another with --port, or omit --port.`);
    server = await start(0);
    notes.push(`Port ${wanted} is in use by another program; Keel listens on ${server.port} instead (kept for next time).`);
  }
  if (server.port !== identity.port && options.port === undefined) writeServerIdentity(options.dataDir, { ...identity, port: server.port });
  return { server, notes };
}
