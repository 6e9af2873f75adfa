import path from 'node:path';
import type { Command } from 'commander';
import { checkImportSource, type ExportResult, type ImportResult, type RunVerification, type StoreSummary } from '@keel/core';
import { describeRecovery, openForCommand, type LedgerCommandOptions } from './open-ledger.js';
import { storeViewSnapshot } from './view-snapshot.js';
import { withDataOption } from './options.js';

const summary = (store: StoreSummary | null) =>
  store ? `${store.count} events, max seq ${store.maxSeq}${store.contiguous && store.chainValid ? '' : ' (BROKEN)'}` : 'missing';

function printVerification(run: RunVerification): void {
  const verdict = run.quarantined ? 'QUARANTINED' : run.agree ? 'ok' : 'DISAGREE';
  process.stdout.write(`${verdict.padEnd(12)} ${run.runId}  ndjson: ${summary(run.ndjson)}  sqlite: ${summary(run.sqlite)}\n`);
  for (const problem of run.problems) process.stdout.write(`             - ${problem}\n`);
}

/** Writes chunks to a stream, waiting for it to drain; returns the generator's result. */
async function writeChunks<T>(chunks: Generator<Buffer, T>, out: NodeJS.WritableStream): Promise<T> {
  for (;;) {
    const next = chunks.next();
    if (next.done) return next.value;
    if (out.write(next.value)) continue;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        out.off('drain', done);
        out.off('error', done);
        if (error) reject(error);
        else resolve();
      };
      out.on('drain', done);
      out.on('error', done);
    });
  }
}

/** What an export wrote, on stderr (stdout may be the export). Exit 1 when it will not import. */
function reportExport(runId: string, result: ExportResult, out: string | undefined): void {
  const where = out ? ` to ${out}` : '';
  if (result.damage) {
    const { seq, offset, reason } = result.damage;
    process.stderr.write(
      `exported ${runId} as it is (${result.bytes} bytes)${where}, for inspection only: its log is damaged at record ${seq} (byte ${offset}: ${reason}), so the export has no trailer and will not import\n`,
    );
    process.exitCode = 1;
    return;
  }
  const trailer = result.trailer!;
  process.stderr.write(`exported ${runId}: ${trailer.count} events, ${result.bytes} bytes${where}, head ${trailer.head_hash.slice(0, 12)}\n`);
  if (result.omittedTailBytes) {
    process.stderr.write(
      `  left out ${result.omittedTailBytes} bytes of an incomplete last record (a write in progress, or a torn tail the next open will cut)\n`,
    );
  }
}

function describeImport(result: ImportResult): string {
  const completeness = result.trailer
    ? 'complete (export trailer matched)'
    : 'no export trailer: whether this is the whole run is unknown';
  if (result.alreadyPresent) return `run ${result.runId} is already here with all ${result.count} events of this file; nothing to import`;
  if (result.appended) {
    return `extended imported run ${result.runId}: appended ${result.appended} events (seq ${result.count - result.appended + 1}-${result.count}), now ${result.count}, chain verified, ${completeness}, read-only`;
  }
  return `imported run ${result.runId}: ${result.count} events, chain verified, ${completeness}, read-only`;
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
          if (report.sqliteCheck && !report.sqliteCheck.ok) {
            process.stdout.write(`SQLite integrity check (PRAGMA quick_check) failed:\n`);
            for (const message of report.sqliteCheck.messages) process.stdout.write(`  - ${message}\n`);
          }
          const agreeing = report.runs.filter((run) => run.agree && !run.quarantined).length;
          process.stdout.write(`${agreeing} of ${report.runs.length} runs verified${report.ok ? '' : ' — NOT OK'}\n`);
        }
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        await opened.close();
      }
    });

  withDataOption(ledger.command('export'))
    .description("write a run's export (its log, byte for byte, then a trailer with its length and head hash) to a file or stdout")
    .requiredOption('--run <id>', 'the run to export')
    .option('--out <file>', 'output file (default: stdout)')
    .action(async (options: LedgerCommandOptions & { run: string; out?: string }) => {
      const { ledger: opened } = await openForCommand({ ...options, readOnly: true }, 'read');
      try {
        const result = options.out
          ? opened.export(options.run, path.resolve(options.out), { trailer: true })
          : await writeChunks(opened.exportChunks(options.run, { trailer: true }), process.stdout);
        reportExport(options.run, result, options.out);
      } finally {
        await opened.close();
      }
    });

  withDataOption(ledger.command('import'))
    .description('store a run exported elsewhere, chain and trailer verified, read-only; a longer export of an imported run extends it')
    .argument('<file>', 'an export written by `keel ledger export`')
    .option('--allow-incomplete', 'import a file without an export trailer (from an older Keel): whether it holds the whole run is unknown')
    .option('--json', 'print JSON')
    .action(async (file: string, options: LedgerCommandOptions & { json?: boolean; allowIncomplete?: boolean }) => {
      const source = path.resolve(file);
      // Before the data directory is created or the writer lock taken: no device, pipe, oversized
      // or (unless allowed) trailerless file. The import checks everything again as it reads.
      checkImportSource(source, { requireTrailer: !options.allowIncomplete });
      const { ledger: opened } = await openForCommand(options, 'create');
      try {
        const result = opened.import(source, { requireTrailer: !options.allowIncomplete });
        if (!result.alreadyPresent) await storeViewSnapshot(opened, result.runId);
        if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else process.stdout.write(`${describeImport(result)}\n`);
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
