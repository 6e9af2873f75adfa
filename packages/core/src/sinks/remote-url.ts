import net from 'node:net';
import { parse as parseConnectionString } from 'pg-connection-string';

/** A sink endpoint Keel will not use, in a sentence the user can act on. */
export class SinkConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SinkConfigError';
  }
}

/** Whether `host` (a name or an address, IPv6 with or without brackets) is this machine's loopback. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

/** Parses an OTLP/HTTP endpoint and refuses plain http to anything but loopback. */
export function checkOtlpEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new SinkConfigError(`The OTLP endpoint "${endpoint}" is not a URL; give one like https://collector.example.com:4318/v1/traces.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SinkConfigError(`The OTLP endpoint ${url.origin} uses ${url.protocol}; OTLP over HTTP needs http:// (loopback only) or https://.`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new SinkConfigError(
      `Refusing to send traces to ${url.host} over plain http: a remote endpoint needs TLS. Use https://${url.host}${url.pathname}, or a collector on loopback.`,
    );
  }
  return url;
}

/**
 * Checks a PostgreSQL connection string the way the driver reads it (pg-connection-string): a
 * unix socket or a loopback host may go without TLS; any other host needs TLS
 * (`sslmode=verify-full`, `require`, … or `ssl=true`; `sslmode=disable` is refused there).
 * Returns the host and the string with its password hidden, for messages.
 */
export function checkPostgresUrl(raw: string): { host: string; display: string } {
  if (!/^postgres(?:ql)?:\/\//.test(raw)) {
    throw new SinkConfigError(`The PostgreSQL URL must start with postgres:// or postgresql://, like postgres://user@db.example.com/keel?sslmode=verify-full.`);
  }
  let config: ReturnType<typeof parseConnectionString>;
  try {
    config = parseConnectionString(raw);
  } catch (error) {
    throw new SinkConfigError(`The PostgreSQL URL cannot be read (${(error as Error).message}); give one like postgres://user@db.example.com/keel?sslmode=verify-full.`);
  }
  const host = config.host ?? '';
  const local = host === '' || host.startsWith('/') || isLoopbackHost(host);
  if (!local && !config.ssl) {
    throw new SinkConfigError(
      `Refusing to copy the ledger to ${host} without TLS: add ?sslmode=verify-full (or require) to the URL, or use a server on loopback.`,
    );
  }
  return { host, display: raw.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@/]*@/, '$1***@') };
}
