import { ensureDataDir, openWorkstation, reportUnhandledRejections, resolveDataDir } from '@keel/core';
import { listeningLine, rendererDistDir, startPersistentServer, type HeadlessServer } from './headless/index.js';
import { openInBrowser } from './open-browser.js';

/**
 * The headless door, for machines without the Electron binary: the same wiring as
 * `keel serve` (which lives in the CLI, and the CLI depends on main, not the reverse).
 */
export async function runHeadless(): Promise<void> {
  reportUnhandledRejections();
  const dataDir = ensureDataDir(resolveDataDir({}));
  const workstation = await openWorkstation({ dataDir, mode: 'headless' });
  let server: HeadlessServer | null = null;

  // Installed before the server starts, so a signal during startup still closes cleanly.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await server?.close();
      await workstation.close();
    })().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Keel did not shut down cleanly after ${signal}:`, error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const started = await startPersistentServer({ router: workstation.router, rendererDir: rendererDistDir(), dataDir });
  server = started.server;
  for (const note of started.notes) process.stderr.write(`${note}\n`);
  if (stopping) {
    await server.close();
    return;
  }
  process.stdout.write(`${listeningLine(server.url)}\n`);
  openInBrowser(server.url);
}
