import type { Command } from 'commander';
import { openWorkstation } from '@keel/core';
import { dataDirFor } from './open-ledger.js';
import { withDataOption } from './options.js';

export function registerInfo(program: Command): void {
  withDataOption(program.command('info'))
    .description('print version, data directory and engine health')
    .option('--json', 'print JSON')
    .action(async (options: { data?: string; json?: boolean }) => {
      const workstation = await openWorkstation({ dataDir: dataDirFor(options.data, 'read'), mode: 'headless' });
      const info = workstation.info();
      await workstation.close();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const dir = info.engine.dataDir;
      process.stdout.write(
        [
          `Keel ${info.version} (${info.platform}/${info.arch}, Node ${info.nodeVersion})`,
          `data directory: ${info.dataDir} (mode ${dir.mode ?? '?'}, ${dir.writable ? 'writable' : 'NOT writable'})`,
          `engine: ${info.engine.status}`,
          ...dir.problems.map((problem: string) => `  problem: ${problem}`),
        ].join('\n') + '\n',
      );
      if (info.engine.status === 'failed') process.exitCode = 1;
    });
}
