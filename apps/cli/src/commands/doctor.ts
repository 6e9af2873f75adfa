import type { Command } from 'commander';
import { resolveDataDir, runDoctor, type DoctorReport } from '@keel/core';
import { withDataOption } from './options.js';

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

export function printDoctor(report: DoctorReport): string {
  const lines = [`keel doctor: ${report.dataDir}`];
  for (const check of report.checks) {
    lines.push(`[${MARK[check.status]}] ${check.id.padEnd(26)} ${check.subject === report.dataDir ? '' : `${check.subject}: `}${check.summary}`);
    if (check.fix && check.status !== 'ok') lines.push(`       fix: ${check.fix}`);
  }
  lines.push(`${report.counts.ok} ok, ${report.counts.warn} warning(s), ${report.counts.fail} failure(s) in ${report.durationMs} ms`);
  return `${lines.join('\n')}\n`;
}

/** `keel doctor [--json]`: read-only health checks; exits 1 when a check fails. */
export function registerDoctor(program: Command): void {
  withDataOption(program.command('doctor'))
    .description('check the data directory, keel.db, the ledger, the writer lock, agents, git and every workspace; each check says ok, warn or fail with a fix')
    .option('--json', 'print the report as JSON')
    .action(async (options: { data?: string; json?: boolean }) => {
      const report = await runDoctor({ dataDir: resolveDataDir({ flag: options.data }) });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : printDoctor(report));
      if (report.status === 'fail') process.exitCode = 1;
    });
}
