import type { Command } from 'commander';
import { inspectDataDir, KEEL_VERSION, type AppInfo, type HealthStatus } from '@keel/core';
import { serverAddress } from './open.js';
import { openForCommand } from './open-ledger.js';
import { withDataOption } from './options.js';

/**
 * `keel info` reads only: the ledger is opened read-only when a running Keel holds it (so it
 * works while `keel serve` runs, and says the server is there), and nothing is started.
 */
export function registerInfo(program: Command): void {
  withDataOption(program.command('info'))
    .description('print version, data directory, engine health and whether the server is running (read-only)')
    .option('--json', 'print JSON')
    .action(async (options: { data?: string; json?: boolean }) => {
      const { ledger, note } = await openForCommand({ ...(options.data ? { data: options.data } : {}) }, 'read');
      let info: AppInfo;
      try {
        const dataDir = inspectDataDir(ledger.dataDir);
        const ledgerHealth = ledger.health();
        const status: HealthStatus =
          !dataDir.exists || ledgerHealth.status === 'failed' ? 'failed' : dataDir.problems.length > 0 || ledgerHealth.quarantinedRuns.length > 0 ? 'degraded' : 'ok';
        info = {
          name: 'Keel',
          version: KEEL_VERSION,
          dataDir: ledger.dataDir,
          platform: process.platform,
          arch: process.arch,
          mode: 'headless',
          nodeVersion: process.versions.node,
          startedAt: new Date().toISOString(),
          engine: { status, dataDir, ledger: ledgerHealth },
        };
      } finally {
        await ledger.close();
      }
      const server = await serverAddress(info.dataDir);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...info, server: server ? { url: server.url.replace(/\?token=.*$/, ''), running: server.running } : null }, null, 2)}\n`);
        return;
      }
      const dir = info.engine.dataDir;
      process.stdout.write(
        [
          `Keel ${info.version} (${info.platform}/${info.arch}, Node ${info.nodeVersion})`,
          `data directory: ${info.dataDir} (mode ${dir.mode ?? '?'}, ${dir.writable ? 'writable' : 'NOT writable'})`,
          `engine: ${info.engine.status}`,
          `server: ${server?.running ? `running at ${new URL(server.url).origin}/ (\`keel open\` opens it)` : 'not running (`keel serve` starts it)'}`,
          ...(note ? [`note: ${note}`] : []),
          ...dir.problems.map((problem: string) => `  problem: ${problem}`),
        ].join('\n') + '\n',
      );
      if (info.engine.status === 'failed') process.exitCode = 1;
    });
}
