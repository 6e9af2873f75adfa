import type { Command } from 'commander';
import { openInBrowser, readServerIdentity, serverFilePath, serverUrl } from '@keel/main/headless';
import { dataDirFor } from './open-ledger.js';
import { withDataOption } from './options.js';

export interface OpenAnswer {
  url: string;
  running: boolean;
}

/** The data directory's server URL (token included), and whether a server answers there with that token. */
export async function serverAddress(dataDir: string): Promise<OpenAnswer | null> {
  const identity = readServerIdentity(dataDir);
  if (!identity || identity.port === null) return null;
  const url = serverUrl(identity.port, identity.token);
  const check = new URL('auth', url);
  check.search = new URLSearchParams({ token: identity.token }).toString();
  let running = false;
  try {
    const response = await fetch(check, { signal: AbortSignal.timeout(2000) });
    running = response.status === 204;
  } catch {
    running = false;
  }
  return { url, running };
}

export function registerOpen(program: Command): void {
  withDataOption(program.command('open'))
    .description("open the running headless server's page in the browser (the URL with its access token)")
    .option('--print', 'only print the URL')
    .action(async (options: { data?: string; print?: boolean }) => {
      const dataDir = dataDirFor(options.data, 'read');
      const address = await serverAddress(dataDir);
      if (!address) {
        process.stderr.write(`Keel has not served this data directory yet (no ${serverFilePath(dataDir)}). Start it with \`keel serve\`.\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${address.url}\n`);
      if (!address.running) {
        process.stderr.write('Keel is not running at that address. Start it with `keel serve` (the URL stays the same).\n');
        process.exitCode = 1;
        return;
      }
      if (!options.print && !openInBrowser(address.url)) process.stderr.write('No desktop browser found here: open the URL above yourself.\n');
    });
}
