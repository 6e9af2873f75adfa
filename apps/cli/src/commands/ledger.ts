import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { RunVerification, StoreSummary } from '@keel/core';
import { describeRecovery, openForCommand, type LedgerCommandOptions } from './open-ledger.js';
import { withDataOption } from './options.js';

const summary = (store: StoreSummary | null) =>
  store ? `${store.count} events, max seq ${store.maxSeq}${store.contiguous && store.chainValid ? '' : ' (BROKEN)'}` : 'missing';

function printVerification(run: RunVerification): void {
  const verdict = run.quarantined ? 'QUARANTINED' : run.agree ? 'ok' : 'DISAGREE';
  process.stdout.write(`${verdict.padEnd(12)} ${run.runId}  ndjson: ${summary(run.ndjson)}  sqlite: ${summary(run.sqlite)}\n`);
  for (const problem of run.problems) process.stdout.write(`             - ${problem}\n`);
}

export function registerLedger(program: Command): void {
  const ledger = program.command('ledger').description('verify, export, import, backfill and repair the event ledger');

  withDataOption(ledger.command('verify'))
    .description('prove both stores agree per run (count, max seq, contiguity, chained hash); exit 0 only if all agree')
    .option('--run <id>', 'only this run')
    .option('--read-only', 'inspect without recovering first')
    .option('--json', 'print JSON')
    .action(async (options: LedgerCommandOptions & { run?: string; json?: boolean }) => {
      const { ledger: opened, note } = await openForCommand(options, 'read');
      try {
        const report = opened.verify(options.run);
        if (options.run && report.runs.every((run) => !run.ndjson && !run.sqlite)) {
          throw new Error(`No run ${options.run} in ${opened.dataDir}.`);
        }
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ ...report, recovery: describeRecovery(opened.recovery), note }, null, 2)}\n`);
        } else {
          if (note) process.stderr.write(`${note}\n`);
          for (const line of describeRecovery(opened.recovery)) process.stdout.write(`${line}\n`);
          for (const run of report.runs) printVerification(run);
          const agreeing = report.runs.filter((run) => run.agree && !run.quarantined).length;
          process.stdout.write(`${agreeing} of ${report.runs.length} runs verified${report.ok ? '' : ' — NOT OK'}\n`);
        }
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        await opened.close();
      }
    });

  withDataOption(ledger.command('export'))
    .description("write a run's log, byte-identical, to a file or stdout")
    .requiredOption('--run <id>', 'the run to export')
    .option('--out <file>', 'output file (default: stdout)')
    .action(async (options: LedgerCommandOptions & { run: string; out?: string }) => {
      const { ledger: opened } = await openForCommand({ ...options, readOnly: true }, 'read');
      try {
        if (options.out) {
          const { bytes } = opened.export(options.run, path.resolve(options.out));
          process.stderr.write(`exported ${options.run}: ${bytes} bytes to ${options.out}\n`);
        } else {
          const temp = path.join(fs.mkdtempSync(path.join(opened.dataDir, '.export-')), 'run.ndjson');
          opened.export(options.run, temp);
          await new Promise<void>((resolve, reject) => {
            fs.createReadStream(temp).on('error', reject).on('end', resolve).pipe(process.stdout, { end: false });
          });
          fs.rmSync(path.dirname(temp), { recursive: true, force: true });
        }
      } finally {
        await opened.close();
      }
    });

  withDataOption(ledger.command('import'))
    .description('store a run exported elsewhere, chain verified, read-only')
    .argument('<file>', 'an exported run log (.ndjson)')
    .option('--json', 'print JSON')
    .action(async (file: string, options: LedgerCommandOptions & { json?: boolean }) => {
      const { ledger: opened } = await openForCommand(options, 'write');
      try {
        const result = opened.import(path.resolve(file));
        if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else if (result.alreadyPresent) process.stdout.write(`run ${result.runId} is already here, identical (${result.count} events)\n`);
        else process.stdout.write(`imported run ${result.runId}: ${result.count} events, chain verified, read-only\n`);
      } finally {
        await opened.close();
      }
    });

  withDataOption(ledger.command('backfill'))
    .description('copy NDJSON events missing from SQLite into SQLite (idempotent)')
    .option('--json', 'print JSON')
    .action(async (options: LedgerCommandOptions & { json?: boolean }) => {
      const { ledger: opened } = await openForCommand(options, 'write');
      try {
        const recovered = describeRecovery(opened.recovery);
        const results = opened.backfill();
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ recovery: recovered, runs: results.map(({ scan: _scan, ...rest }) => rest) }, null, 2)}\n`);
          return;
        }
        for (const line of recovered) process.stdout.write(`${line}\n`);
        for (const run of results) {
          process.stdout.write(`${run.runId}: ${run.upToDate ? 'up to date (marker unchanged)' : `${run.inserted} events inserted`}\n`);
        }
        const inserted = results.reduce((sum, run) => sum + run.inserted, 0);
        process.stdout.write(`backfill: ${results.length} runs checked, ${inserted} events inserted\n`);
      } finally {
        await opened.close();
      }
    });

  withDataOption(ledger.command('repair'))
    .description('explicit repairs that need a human decision')
    .requiredOption('--from-sqlite <run>', 'append to the NDJSON log the events only SQLite holds, after checking their chain')
    .action(async (options: LedgerCommandOptions & { fromSqlite: string }) => {
      const { ledger: opened } = await openForCommand(options, 'write');
      try {
        const { appended } = opened.repairFromSqlite(options.fromSqlite);
        process.stdout.write(`repaired ${options.fromSqlite}: appended ${appended} events from SQLite to the NDJSON log\n`);
      } finally {
        await opened.close();
      }
    });
}
