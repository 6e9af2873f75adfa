import type { Command } from 'commander';
import { openWorkstation, reportUnhandledRejections } from '@keel/core';
import { listeningLine, rendererDistDir, startHeadlessServer } from '@keel/main/headless';
import { dataDirFor } from './open-ledger.js';
import { parsePort, withDataOption } from './options.js';

export interface ServeOptions {
  data?: string;
  port?: number;
}

/** Starts the headless host and prints its one listening line; resolves to a stopper. */
export async function serve(options: ServeOptions): Promise<() => Promise<void>> {
  reportUnhandledRejections();
  const dataDir = dataDirFor(options.data, 'create');
  const workstation = await openWorkstation({ dataDir, mode: 'headless' });
  const server = await startHeadlessServer({ router: workstation.router, rendererDir: rendererDistDir(), port: options.port ?? 0 });
  process.stdout.write(`${listeningLine(server.url)}\n`);
  return async () => {
    await server.close();
    await workstation.close();
  };
}

export function registerServe(program: Command): void {
  withDataOption(program.command('serve'))
    .description('start the headless server on 127.0.0.1 and print its URL')
    .option('--port <n>', 'port to listen on (0 = any free port)', parsePort, 0)
    .action(async (options: ServeOptions) => {
      const stop = await serve(options);
      const shutdown = () => {
        void stop().then(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
