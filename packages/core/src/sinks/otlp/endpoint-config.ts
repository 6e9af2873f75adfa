import type { SinkSettings } from '../../contract/schemas/sinks.js';
import { checkOtlpEndpoint, SinkConfigError } from '../remote-url.js';

export interface OtlpTarget {
  /** The traces URL (…/v1/traces), checked: https, or http to loopback only. */
  url: URL;
  headers: Record<string, string>;
  /** Where the endpoint came from, for messages. */
  from: 'flag' | 'settings' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_EXPORTER_OTLP_ENDPOINT';
}

/** `k1=v1,k2=v2`, percent-decoded (the OTEL_EXPORTER_OTLP_*HEADERS format). */
export function parseOtlpHeaders(text: string | undefined, variable: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!text) return headers;
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    if (at <= 0) throw new SinkConfigError(`${variable} must be key=value pairs separated by commas; one part has no key.`);
    try {
      headers[decodeURIComponent(part.slice(0, at).trim())] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      throw new SinkConfigError(`${variable} holds a malformed percent-encoding.`);
    }
  }
  return headers;
}

/**
 * Where traces go: `--endpoint`, else `otlp.endpoint` in the sink settings, else the standard
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces).
 * Headers: the standard variables, then the settings' (settings win on a clash).
 */
export function resolveOtlpTarget(flag: string | undefined, settings: SinkSettings, env: NodeJS.ProcessEnv = process.env): OtlpTarget {
  let endpoint: string | undefined;
  let from: OtlpTarget['from'];
  if (flag) [endpoint, from] = [flag, 'flag'];
  else if (settings.otlp?.endpoint) [endpoint, from] = [settings.otlp.endpoint, 'settings'];
  else if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) [endpoint, from] = [env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  else if (env.OTEL_EXPORTER_OTLP_ENDPOINT) [endpoint, from] = [`${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`, 'OTEL_EXPORTER_OTLP_ENDPOINT'];
  else {
    throw new SinkConfigError(
      'No OTLP endpoint: pass --endpoint https://collector:4318/v1/traces, set otlp.endpoint in <data>/sinks/settings.json, or OTEL_EXPORTER_OTLP_ENDPOINT.',
    );
  }
  const url = checkOtlpEndpoint(endpoint);
  const headers = {
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
    ...(settings.otlp?.headers ?? {}),
  };
  return { url, headers, from: from! };
}
