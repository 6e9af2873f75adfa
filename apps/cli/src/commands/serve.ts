import type { Command } from 'commander';
import { openWorkstation, reportUnhandledRejections } from '@keel/core';
import { listeningLine, rendererDistDir, startPersistentServer } from '@keel/main/headless';
import { dataDirFor } from './open-ledger.js';
import { parsePort, withDataOption } from './options.js';

export interface ServeOptions {
  data?: string;
  port?: number;
  /** Rotate the access token stored in the data directory. */
  newToken?: boolean;
}

/**
 * Starts the headless host at the data directory's stable URL (its stored port and token) and
 * prints its one listening line; resolves to a stopper.
 */
export async function serve(options: ServeOptions): Promise<() => Promise<void>> {
  reportUnhandledRejections();
  const dataDir = dataDirFor(options.data, 'create');
  const workstation = await openWorkstation({ dataDir, mode: 'headless' });
  let started;
  try {
    started = await startPersistentServer({
      router: workstation.router,
      rendererDir: rendererDistDir(),
      dataDir,
      ...(options.port !== undefined ? { port: options.port } : {}),
      newToken: options.newToken ?? false,
    });
  } catch (error) {
    await workstation.close();
    throw error;
  }
  const { server, notes } = started;
  for (const note of notes) process.stderr.write(`${note}\n`);
  process.stdout.write(`${listeningLine(server.url)}\n`);
  return async () => {
    await server.close();
    await workstation.close();
  };
}

export function registerServe(program: Command): void {
  withDataOption(program.command('serve'))
    .description('start the headless server on 127.0.0.1 at a stable URL and print it (`keel open` opens it later)')
    .option('--port <n>', 'port to listen on (default: the one used last for this data directory; 0 = any free port)', parsePort)
    .option('--new-token', 'make a new access token (pages opened with the old URL are then refused)')
    .action(async (options: ServeOptions) => {
      const stop = await serve(options);
      const shutdown = () => {
        void stop().then(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
