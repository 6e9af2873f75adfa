import type pg from 'pg';
import type { MirrorReport } from '../../contract/schemas/sinks.js';
import { Backoff, pause } from '../backoff.js';
import { ChainMismatchError } from '../chain-check.js';
import { SinkRedactionError, type TextRedactor } from '../redaction.js';
import { checkPostgresUrl, SinkConfigError } from '../remote-url.js';
import { migrateMirror } from './migrations.js';
import { mirrorOnce, type LedgerSource } from './mirror.js';

export interface PostgresSinkOptions {
  url: string;
  source: LedgerSource;
  redactor: TextRedactor;
  /** One pass and return (default), or follow new events until `signal` aborts. */
  follow?: boolean;
  /** How often a following mirror looks for new events (default 1000 ms). */
  intervalMs?: number;
  batch?: number;
  workstation?: string;
  signal?: AbortSignal;
  /** Progress and retry lines, for the command's stderr. */
  log?: (line: string) => void;
  onBatch?: (progress: { runId: string; fromSeq: number; toSeq: number }) => void;
}

/**
 * Errors that retrying cannot fix: a broken chain, a failed redaction, a refused
 * configuration, and PostgreSQL's refusals (authentication, permissions, bad SQL, a newer
 * schema). Anything else (a server down or restarting, a dropped connection) is waited out.
 */
export function isFatalSinkError(error: unknown): boolean {
  if (error instanceof ChainMismatchError || error instanceof SinkRedactionError || error instanceof SinkConfigError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^(28|42|3D|2B|0A|22|23)/.test(code)) return true;
  return error instanceof Error && /newer than this Keel knows/.test(error.message);
}

/** Opens a connection and brings the mirror's schema up to date. */
export async function connectMirror(url: string): Promise<pg.Client> {
  checkPostgresUrl(url);
  // pg loads with the first connection, not with Keel (issue 16: start-up of every command and of the host).
  const { default: Pg } = await import('pg');
  const client = new Pg.Client({ connectionString: url, application_name: 'keel-sink' });
  client.on('error', () => {}); // a dropped connection surfaces on the next query
  try {
    await client.connect();
    await migrateMirror(client);
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
}

/**
 * `keel sink postgres`: mirrors the ledger into PostgreSQL, once or following. A following
 * mirror waits out an unreachable server with jittered backoff; a broken chain or a failed
 * redaction stops it with an error, whatever the mode.
 */
export async function runPostgresSink(options: PostgresSinkOptions): Promise<MirrorReport> {
  const url = checkPostgresUrl(options.url);
  const log = options.log ?? (() => {});
  const total: MirrorReport = { runs: [], copied: 0 };
  const backoff = new Backoff();
  let client: pg.Client | null = null;
  try {
    for (;;) {
      try {
        client ??= await connectMirror(options.url);
        const pass = await mirrorOnce(client, options.source, {
          redactor: options.redactor,
          batch: options.batch,
          workstation: options.workstation,
          onBatch: options.onBatch,
        });
        total.runs.push(...pass.runs);
        total.copied += pass.copied;
        backoff.reset();
        if (!options.follow || options.signal?.aborted) return total;
        await pause(options.intervalMs ?? 1000, options.signal);
        if (options.signal?.aborted) return total;
      } catch (error) {
        if (!options.follow || isFatalSinkError(error)) throw error;
        await client?.end().catch(() => {});
        client = null;
        const delay = backoff.next();
        log(`mirror ${url.display} unavailable (${error instanceof Error ? error.message : String(error)}); retrying in ${delay} ms`);
        await pause(delay, options.signal);
        if (options.signal?.aborted) return total;
      }
    }
  } finally {
    await client?.end().catch(() => {});
  }
}
