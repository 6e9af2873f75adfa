import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { millisToHrTime, hrTimeDuration } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { KEEL_VERSION } from '../../contract/version.js';
import type { SpanRecord } from './span-record.js';

const STATUS = { unset: SpanStatusCode.UNSET, ok: SpanStatusCode.OK, error: SpanStatusCode.ERROR } as const;
const SCOPE = { name: '@keel/core/sinks', version: KEEL_VERSION };

const hr = (iso: string) => millisToHrTime(Date.parse(iso));

/** The resource every span of this workstation carries: service keel, this host. */
export function keelResource(workstation: string): Resource {
  return resourceFromAttributes({ 'service.name': 'keel', 'service.version': KEEL_VERSION, 'host.name': workstation });
}

/**
 * A finished span for the official OTLP exporter, built from the ledger rather than recorded
 * live: its ids and times are the ledger's, so exporting the same run again gives the same span.
 */
export function toReadableSpan(record: SpanRecord, resource: Resource): ReadableSpan {
  const startTime = hr(record.start);
  const endTime = hr(record.end < record.start ? record.start : record.end);
  const context = { traceId: record.traceId, spanId: record.spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name: record.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => context,
    parentSpanContext: record.parentSpanId ? { traceId: record.traceId, spanId: record.parentSpanId, traceFlags: TraceFlags.SAMPLED } : undefined,
    startTime,
    endTime,
    duration: hrTimeDuration(startTime, endTime),
    status: record.status.message === undefined ? { code: STATUS[record.status.code] } : { code: STATUS[record.status.code], message: record.status.message },
    attributes: record.attributes,
    links: [],
    events: record.events.map((event) => ({ name: event.name, time: hr(event.time), attributes: event.attributes })),
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
