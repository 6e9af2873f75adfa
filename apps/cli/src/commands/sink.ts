import type { Command } from 'commander';
import { ChainMismatchError, connectMirror, sinkRedactor, openLedger, readSinkSettings, runPostgresSink, verifyMirror } from '@keel/core';
import { dataDirFor } from './open-ledger.js';
import { withDataOption } from './options.js';

interface SinkOptions {
  data?: string;
  url?: string;
  once?: boolean;
  batch?: string;
  interval?: string;
  workstation?: string;
  json?: boolean;
}

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got "${value}".`);
  return n;
}

function urlFor(options: SinkOptions, dataDir: string): string {
  const url = options.url ?? readSinkSettings(dataDir).postgres?.url ?? process.env.KEEL_SINK_POSTGRES_URL;
  if (!url) throw new Error('No PostgreSQL URL: pass --url postgres://…, set postgres.url in <data>/sinks/settings.json, or KEEL_SINK_POSTGRES_URL.');
  return url;
}

/** Exit codes: 0 done, 1 error, 2 a broken chain (the mirror refused the ledger). */
function failWith(error: unknown): never {
  if (error instanceof ChainMismatchError) {
    process.stderr.write(`keel: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

async function mirror(options: SinkOptions): Promise<void> {
  const dataDir = dataDirFor(options.data, 'read');
  const url = urlFor(options, dataDir);
  const batch = positiveInt('--batch', options.batch, 500);
  const intervalMs = positiveInt('--interval', options.interval, 1000);
  // A separate reader: read-only, no lock, no recovery; the live Keel keeps writing meanwhile.
  const ledger = await openLedger({ dataDir, readOnly: true });
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const report = await runPostgresSink({
      url,
      source: ledger,
      redactor: sinkRedactor(),
      follow: !options.once,
      intervalMs,
      batch,
      workstation: options.workstation,
      signal: abort.signal,
      log: (line) => process.stderr.write(`${line}\n`),
      onBatch: ({ runId, fromSeq, toSeq }) => {
        if (!options.json) process.stdout.write(`copied ${runId} seq ${fromSeq}..${toSeq}\n`);
      },
    });
    if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(`mirrored ${report.copied} events of ${report.runs.length} runs\n`);
  } catch (error) {
    failWith(error);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await ledger.close();
  }
}

async function verify(options: SinkOptions): Promise<number> {
  const dataDir = dataDirFor(options.data, 'read');
  const url = urlFor(options, dataDir);
  const ledger = await openLedger({ dataDir, readOnly: true });
  const client = await connectMirror(url);
  try {
    const report = await verifyMirror(client, ledger, sinkRedactor());
    if (options.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      for (const run of report.runs) {
        process.stdout.write(`${run.agree ? 'ok  ' : 'FAIL'} ${run.runId}  ledger seq ${run.localSeq}, mirror seq ${run.mirrorSeq}\n`);
        for (const problem of run.problems) process.stdout.write(`       ${problem}\n`);
      }
      if (report.foreignRuns.length > 0) process.stdout.write(`${report.foreignRuns.length} runs in the mirror come from other ledgers (not compared)\n`);
      process.stdout.write(report.ok ? `mirror agrees with the ledger (${report.runs.length} runs)\n` : 'mirror DISAGREES with the ledger\n');
    }
    return report.ok ? 0 : 1;
  } finally {
    await client.end();
    await ledger.close();
  }
}

export function registerSink(program: Command): void {
  const sink = program.command('sink').description('mirror the ledger into PostgreSQL for a team (read-only beside a live Keel)');
  withDataOption(sink.command('postgres'))
    .description('copy ledger events into PostgreSQL (append-only, chain-verified, resumable); follows new events unless --once')
    .option('--url <url>', 'postgres://user@host/db (a non-loopback host needs ?sslmode=verify-full or require)')
    .option('--once', 'copy what is there and exit')
    .option('--batch <n>', 'events per transaction (default 500)')
    .option('--interval <ms>', 'how often to look for new events when following (default 1000)')
    .option('--workstation <name>', 'the name runs are filed under (default: host name)')
    .option('--json', 'print the report as JSON')
    .action(mirror);
  withDataOption(sink.command('verify'))
    .description('compare the PostgreSQL mirror with the local ledger, record by record')
    .option('--url <url>', 'postgres://…')
    .option('--json', 'print JSON')
    .action(async (options: SinkOptions) => {
      process.exitCode = await verify(options);
    });
}
