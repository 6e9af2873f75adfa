import type { Command } from 'commander';
import { ChainMismatchError, sinkRedactor, exportOtlp, openLedger, readSinkSettings, resolveOtlpTarget, type RunSummary } from '@keel/core';
import { dataDirFor } from './open-ledger.js';
import { withDataOption } from './options.js';

interface ExportOptions {
  data?: string;
  run?: string;
  since?: string;
  endpoint?: string;
  again?: boolean;
  follow?: boolean;
  interval?: string;
  giveUpAfter?: string;
  batchSpans?: string;
  json?: boolean;
}

function selection(options: ExportOptions): (run: RunSummary) => boolean {
  if (options.run && options.since) throw new Error('Give --run or --since, not both.');
  if (options.run) return (run) => run.id === options.run;
  if (options.since) {
    const since = Date.parse(options.since);
    if (Number.isNaN(since)) throw new Error(`--since must be a date or time (2026-12-01, 2026-12-01T09:00Z), got "${options.since}".`);
    return (run) => Date.parse(run.updated) >= since;
  }
  return () => true;
}

function millis(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number of milliseconds, got "${value}".`);
  return n;
}

/** Exit codes: 0 sent, 1 error (collector gone too long, bad settings), 2 a broken chain. */
async function exportOtlpCommand(options: ExportOptions): Promise<void> {
  const dataDir = dataDirFor(options.data, 'read');
  const include = selection(options);
  const target = resolveOtlpTarget(options.endpoint, readSinkSettings(dataDir));
  const ledger = await openLedger({ dataDir, readOnly: true });
  if (options.run && !ledger.run(options.run)) {
    await ledger.close();
    throw new Error(`No run ${options.run} in ${dataDir}.`);
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const report = await exportOtlp({
      source: ledger,
      dataDir,
      target,
      redactor: sinkRedactor(),
      include,
      again: options.again,
      follow: options.follow,
      intervalMs: millis('--interval', options.interval),
      giveUpAfterMs: millis('--give-up-after', options.giveUpAfter),
      batchSpans: options.batchSpans === undefined ? undefined : Math.max(1, millis('--batch-spans', options.batchSpans)!),
      signal: abort.signal,
      log: (line) => process.stderr.write(`${line}\n`),
      onBatch: ({ runId, spans, toSeq }) => {
        if (!options.json) process.stdout.write(`sent ${spans} spans of ${runId} through seq ${toSeq}\n`);
      },
    });
    if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(`exported ${report.spans} spans of ${report.runs.length} runs to ${report.endpoint}\n`);
  } catch (error) {
    if (error instanceof ChainMismatchError) {
      process.stderr.write(`keel: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await ledger.close();
  }
}

export function registerExport(program: Command): void {
  const exportCommand = program.command('export').description('send runs to the tools a team already runs (see also `keel ledger export`)');
  withDataOption(exportCommand.command('otlp'))
    .description('each run as an OpenTelemetry trace to an OTLP/HTTP collector; resumes where the last export stopped')
    .option('--run <id>', 'only this run')
    .option('--since <date>', 'only runs updated since this date or time')
    .option('--endpoint <url>', 'OTLP/HTTP traces URL (default: settings, then OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT)')
    .option('--again', 'send the selected runs again from their start (same trace and span ids)')
    .option('--follow', 'keep exporting new events (the live exporter) until interrupted')
    .option('--interval <ms>', 'how often --follow looks for new events (default 1000)')
    .option('--give-up-after <ms>', 'fail when the collector refuses everything this long (default 300000; 0 never)')
    .option('--batch-spans <n>', 'spans per request (default 256)')
    .option('--json', 'print the report as JSON')
    .action(exportOtlpCommand);
}
