/** Attribute values as OTLP carries them. */
export type AttributeValue = string | number | boolean | string[];
export type SpanAttributes = Record<string, AttributeValue>;

/** One span of a run's trace, as the fold makes it: plain data, ids derived from the ledger. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** ISO timestamps of the opening and closing events. */
  start: string;
  end: string;
  attributes: SpanAttributes;
  events: Array<{ name: string; time: string; attributes: SpanAttributes }>;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  /** The seq of the event that closed it: the span is sent once an export has read that far. */
  closedAt: number;
}
