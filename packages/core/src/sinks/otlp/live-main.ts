// The live OTLP exporter: a child process the host starts when the `liveOtlpExport` setting is on.
// It opens the ledger read-only and follows it (`exportOtlp` with `follow`), so the exporter's
// work, memory and network waits never touch the process that appends (I1). Run from dist/:
//
//   node dist/sinks/otlp/live-main.js <dataDir>
//
// It reports on stdout, one JSON line each (`LiveExportLine`), and stops cleanly on SIGTERM.
import fs from 'node:fs';
import type { LiveExportLine } from '../../contract/schemas/sinks.js';
import { openLedger } from '../../ledger/index.js';
import { sinkRedactor } from '../redaction.js';
import { readSinkSettings } from '../settings.js';
import { resolveOtlpTarget } from './endpoint-config.js';
import { exportOtlp } from './exporter.js';

const say = (line: LiveExportLine) => fs.writeSync(1, `${JSON.stringify(line)}\n`);
const [dataDir] = process.argv.slice(2) as [string];

const abort = new AbortController();
process.once('SIGTERM', () => abort.abort());
process.once('SIGINT', () => abort.abort());

try {
  const target = resolveOtlpTarget(undefined, readSinkSettings(dataDir));
  const ledger = await openLedger({ dataDir, readOnly: true });
  // Origin and path only: credentials or keys in the URL never reach the status (I12).
  say({ kind: 'started', endpoint: `${target.url.origin}${target.url.pathname}` });
  try {
    await exportOtlp({
      source: ledger,
      dataDir,
      target,
      redactor: sinkRedactor(),
      follow: true,
      signal: abort.signal,
      log: (message) => say({ kind: 'retrying', message }),
      onBatch: ({ runId, spans, toSeq }) => say({ kind: 'batch', runId, spans, toSeq }),
    });
  } finally {
    await ledger.close();
  }
} catch (error) {
  const message = (error as Error).message;
  // The configuration hint for the app's setting, not the CLI's flags.
  say({
    kind: 'failed',
    message: message.startsWith('No OTLP endpoint')
      ? `No OTLP endpoint: set otlp.endpoint in ${dataDir}/sinks/settings.json, or OTEL_EXPORTER_OTLP_ENDPOINT in Keel's environment.`
      : message,
  });
  process.exitCode = 1;
}
