import os from 'node:os';
import type { RunSummary } from '../../contract/schemas/ledger.js';
import type { OtlpExportReport } from '../../contract/schemas/sinks.js';
import { Backoff, pause } from '../backoff.js';
import { ChainCheck } from '../chain-check.js';
import type { LedgerSource } from '../postgres/mirror.js';
import { redactValues, type TextRedactor } from '../redaction.js';
import type { OtlpTarget } from './endpoint-config.js';
import { ExportPositionFile } from './position.js';
import type { Collector } from './collector.js';
import type { SpanRecord } from './span-record.js';
import { TraceFold } from './trace-fold.js';

/** The collector did not take the spans for longer than the export may wait. */
export class OtlpExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OtlpExportError';
  }
}

export interface OtlpExportOptions {
  source: LedgerSource;
  dataDir: string;
  target: OtlpTarget;
  redactor: TextRedactor;
  /** Which runs (default: all). */
  include?: (run: RunSummary) => boolean;
  /** Forget the selected runs' positions first and send them again (same ids). */
  again?: boolean;
  /** Keep exporting new events until `signal` aborts (the live exporter). */
  follow?: boolean;
  intervalMs?: number;
  /** Give up after the collector refused everything for this long (default 300 000 ms; following: never). */
  giveUpAfterMs?: number;
  /** Spans per request (default 256): with one ledger page, the bound on what is held in memory. */
  batchSpans?: number;
  /** One request's deadline, the exporter's own retries included (default 5000 ms). */
  requestTimeoutMs?: number;
  workstation?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onBatch?: (progress: { runId: string; spans: number; toSeq: number }) => void;
}

const PAGE = 1000;

class Sender {
  private readonly backoff = new Backoff();

  constructor(
    private readonly collector: Collector,
    private readonly options: OtlpExportOptions,
  ) {}

  /** Redacts, then sends until acknowledged: jittered backoff between attempts, bounded by `giveUpAfterMs`. */
  async send(records: SpanRecord[]): Promise<boolean> {
    const redacted = await redactValues(
      records.map((record) => ({ name: record.name, attributes: record.attributes, events: record.events, status: record.status })),
      this.options.redactor,
    );
    const spans = records.map((record, i) => ({ ...record, ...redacted[i]!.value }));
    const giveUpAfter = this.options.giveUpAfterMs ?? (this.options.follow ? 0 : 300_000);
    const since = Date.now();
    for (;;) {
      const error = await this.collector.send(spans);
      if (!error) {
        this.backoff.reset();
        return true;
      }
      if (this.options.signal?.aborted) return false;
      if (giveUpAfter > 0 && Date.now() - since >= giveUpAfter) {
        throw new OtlpExportError(`The collector at ${this.options.target.url.href} did not take the spans for ${Math.round((Date.now() - since) / 1000)} s (${error.message}). Nothing was lost: the position is kept, run the export again to resume.`);
      }
      const delay = this.backoff.next();
      this.options.log?.(`collector ${this.options.target.url.origin} unavailable (${error.message}); retrying in ${delay} ms`);
      await pause(delay, this.options.signal);
      if (this.options.signal?.aborted) return false;
    }
  }
}

/**
 * One run from the start of its ledger (or, following, from where this process's fold of it
 * stopped): the fold sees every event (and checks the chain), and the spans closed after the
 * run's position are sent in batches; after each acknowledged batch the position moves to the
 * seq read so far.
 */
/** A run's fold as far as it was read and sent, kept between passes of a following export. */
interface FoldState {
  fold: TraceFold;
  chain: ChainCheck;
  readTo: number;
}

async function exportRun(run: RunSummary, options: OtlpExportOptions, position: ExportPositionFile, sender: Sender, folds: Map<string, FoldState>) {
  const fromSeq = position.seqOf(run.id);
  // Continue a kept fold only if it stopped exactly at the position (everything it closed was sent).
  const kept = folds.get(run.id);
  folds.delete(run.id);
  const state = kept && kept.readTo === fromSeq ? kept : { fold: new TraceFold(run.id), chain: new ChainCheck(run.id), readTo: 0 };
  const { fold, chain } = state;
  const batchSpans = options.batchSpans ?? 256;
  let pending: SpanRecord[] = [];
  let sent = 0;
  let readTo = state.readTo;
  // The position moves before the batch is reported: what is reported sent is never sent again.
  // (A crash between the collector's answer and the position's write repeats that one batch, with
  // the same span ids: the one window an acknowledged-then-recorded position cannot close.)
  const flush = async () => {
    const spans = pending.length;
    if (spans > 0 && !(await sender.send(pending))) return false;
    pending = [];
    position.advance(run.id, readTo);
    if (spans > 0) {
      sent += spans;
      options.onBatch?.({ runId: run.id, spans, toSeq: readTo });
    }
    return true;
  };
  while (readTo < run.lastSeq) {
    const page = options.source.read(run.id, { fromSeq: readTo + 1, limit: Math.min(PAGE, run.lastSeq - readTo) });
    if (page.length === 0) break;
    for (const event of page) {
      chain.accept(event);
      readTo = event.seq;
      for (const span of fold.accept(event)) if (span.closedAt > fromSeq) pending.push(span);
      // Every span closed through `readTo` is in `pending`: a batch boundary is safe here.
      if (pending.length >= batchSpans && !(await flush())) return { runId: run.id, fromSeq, toSeq: position.seqOf(run.id), spans: sent };
    }
  }
  if ((await flush()) && options.follow) folds.set(run.id, { fold, chain, readTo });
  return { runId: run.id, fromSeq, toSeq: position.seqOf(run.id), spans: sent };
}

/**
 * `keel export otlp`: each selected run as a trace to an OTLP/HTTP collector, from the ledger
 * (history), once or following new events. Runs outside the append path, in its own process,
 * reading the ledger read-only.
 */
export async function exportOtlp(options: OtlpExportOptions): Promise<OtlpExportReport> {
  const position = new ExportPositionFile(options.dataDir, options.target.url);
  const { openCollector } = await import('./collector.js');
  const collector = openCollector(options.target, options.requestTimeoutMs ?? 5000, options.workstation ?? os.hostname());
  const sender = new Sender(collector, options);
  const report: OtlpExportReport = { endpoint: options.target.url.href, runs: [], spans: 0 };
  const include = options.include ?? (() => true);
  const folds = new Map<string, FoldState>();
  let first = true;
  try {
    for (;;) {
      const runs = options.source.runs().filter(include);
      if (first && options.again) for (const run of runs) position.reset(run.id);
      first = false;
      for (const run of runs) {
        if (options.signal?.aborted) return report;
        if (run.lastSeq <= position.seqOf(run.id)) continue;
        const result = await exportRun(run, options, position, sender, folds);
        if (result.spans > 0 || result.toSeq > result.fromSeq) report.runs.push(result);
        report.spans += result.spans;
      }
      if (!options.follow || options.signal?.aborted) return report;
      await pause(options.intervalMs ?? 1000, options.signal);
      if (options.signal?.aborted) return report;
    }
  } finally {
    await collector.shutdown().catch(() => {});
  }
}
