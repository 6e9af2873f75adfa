import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { OtlpTarget } from './endpoint-config.js';
import { keelResource, toReadableSpan } from './readable-span.js';
import type { SpanRecord } from './span-record.js';

// The OpenTelemetry SDK's side of an export: the official OTLP/HTTP exporter, fed Keel's spans as
// its ReadableSpans. exporter.ts loads this module on first use (issue 16: importing Keel, as every
// command and the host do, does not load the SDK).

/** A collector to send spans to: one request per `send`, its own retries included. */
export interface Collector {
  /** Null once the collector took the spans; else why not. */
  send(records: readonly SpanRecord[]): Promise<Error | null>;
  shutdown(): Promise<void>;
}

export function openCollector(target: OtlpTarget, timeoutMillis: number, workstation: string): Collector {
  const exporter = new OTLPTraceExporter({ url: target.url.href, headers: target.headers, timeoutMillis });
  const resource = keelResource(workstation);
  return {
    send: (records) =>
      new Promise((resolve) => {
        const spans = records.map((record) => toReadableSpan(record, resource));
        exporter.export(spans, (result) => resolve(result.code === ExportResultCode.SUCCESS ? null : (result.error ?? new Error('the collector refused the spans'))));
      }),
    shutdown: () => exporter.shutdown(),
  };
}
