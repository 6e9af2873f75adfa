import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { addCounts, RedactionError, type Redactor } from './redactor.js';
import { redactAcrossChunks, type SliceRecord } from './stream-chunks.js';

/** Text handed to the detectors at once: big enough to amortise secretlint's per-call cost. */
const BATCH_CHARS = 256 * 1024;
/** A batch holding an unterminated PEM block keeps growing up to this, so the block is seen whole. */
const MAX_BATCH_CHARS = 8 * 1024 * 1024;
const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY/g;
const PEM_END = /-----END (?:[A-Z0-9]+ )*PRIVATE KEY/g;

/** What one redacted entry came to, as written. */
export interface WrittenEntry {
  size: number;
  sha256: string;
  redactions: Record<string, number>;
}

/** A staged file written with its sha256 computed on the way. */
class HashedFile {
  private readonly fd: number;
  private readonly hash: Hash = createHash('sha256');
  size = 0;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'wx', 0o600);
  }

  write(text: string): void {
    if (text.length === 0) return;
    const bytes = Buffer.from(text, 'utf8');
    let at = 0;
    while (at < bytes.length) at += fs.writeSync(this.fd, bytes, at, bytes.length - at);
    this.hash.update(bytes);
    this.size += bytes.length;
  }

  close(redactions: Record<string, number>): WrittenEntry {
    fs.closeSync(this.fd);
    return { size: this.size, sha256: this.hash.digest('hex'), redactions };
  }

  abandon(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }
}

const count = (pattern: RegExp, text: string) => (text.match(pattern) ?? []).length;

/** Lines of a byte stream (without their newlines), decoded as UTF-8; `last` says whether the stream ended in a newline. */
function* splitLines(chunks: Iterable<Buffer>): Generator<{ line: string; newline: boolean }> {
  let rest: Buffer = Buffer.alloc(0);
  for (const chunk of chunks) {
    let buffer = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let at = buffer.indexOf(10);
    let start = 0;
    while (at !== -1) {
      yield { line: buffer.toString('utf8', start, at), newline: true };
      start = at + 1;
      at = buffer.indexOf(10, start);
    }
    buffer = buffer.subarray(start);
    rest = Buffer.from(buffer);
  }
  if (rest.length > 0) yield { line: rest.toString('utf8'), newline: false };
}

/** A file's bytes in chunks of 1 MiB. */
export function* fileChunks(file: string): Generator<Buffer> {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) return;
      yield Buffer.from(buffer.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Groups lines into batches of about BATCH_CHARS, never ending a batch inside a PEM private
 * key block (a block split across batches would be seen by no detector whole).
 */
function* batches(lines: Iterable<{ line: string; newline: boolean }>): Generator<Array<{ line: string; newline: boolean }>> {
  let batch: Array<{ line: string; newline: boolean }> = [];
  let chars = 0;
  let openPem = 0;
  for (const entry of lines) {
    batch.push(entry);
    chars += entry.line.length + 1;
    openPem += count(PEM_BEGIN, entry.line) - count(PEM_END, entry.line);
    if (openPem < 0) openPem = 0;
    if (chars >= MAX_BATCH_CHARS || (chars >= BATCH_CHARS && openPem === 0)) {
      yield batch;
      batch = [];
      chars = 0;
      openPem = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

/** Redacts a batch of lines as one text; falls back to line by line when a replacement crossed a line end. */
async function redactBatch(redactor: Redactor, lines: string[], counts: Record<string, number>): Promise<string[]> {
  const whole = await redactor.redact(lines.join('\n'));
  const out = whole.text.split('\n');
  if (out.length === lines.length) {
    addCounts(counts, whole.counts);
    return out;
  }
  const each: string[] = [];
  for (const line of lines) {
    const one = await redactor.redact(line);
    addCounts(counts, one.counts);
    each.push(one.text.replace(/\n/g, ' '));
  }
  return each;
}

export interface ProgressTick {
  /** Input bytes processed so far for this entry. */
  bytes: number;
}

/** Redacts a text file (a log) into `outFile`, batch by batch, in bounded memory. */
export async function redactTextFile(
  redactor: Redactor,
  inFile: string,
  outFile: string,
  onProgress?: (tick: ProgressTick) => void,
  options: { protocol?: boolean } = {},
): Promise<WrittenEntry> {
  const out = new HashedFile(outFile);
  const counts: Record<string, number> = {};
  let bytes = 0;
  try {
    for (const batch of batches(splitLines(fileChunks(inFile)))) {
      let redacted = await redactBatch(
        redactor,
        batch.map((entry) => entry.line),
        counts,
      );
      if (options.protocol) redacted = await acrossProtocolLines(redactor, batch, redacted, counts);
      out.write(redacted.map((line, i) => (batch[i]!.newline ? `${line}\n` : line)).join(''));
      bytes += batch.reduce((sum, entry) => sum + Buffer.byteLength(entry.line) + 1, 0);
      onProgress?.({ bytes });
    }
  } catch (error) {
    out.abandon();
    throw error;
  }
  return out.close(counts);
}

/** A protocol log line (`<time> <in|out> <json>`): its prefix and its message, or null. */
function protocolLine(line: string): { prefix: string; message: Record<string, unknown> } | null {
  const at = line.indexOf('{');
  if (at === -1) return null;
  const message = parseObject(line.slice(at));
  return message ? { prefix: line.slice(0, at), message } : null;
}

/** The cross-chunk pass over a batch of protocol log lines (deltas of one stream split a secret). */
async function acrossProtocolLines(redactor: Redactor, batch: Array<{ line: string }>, redacted: string[], counts: Record<string, number>): Promise<string[]> {
  const records: SliceRecord[] = batch.map((entry, i) => {
    const parsed = protocolLine(entry.line);
    return parsed ? { before: parsed.message, prefix: parsed.prefix, line: redacted[i]! } : { before: null, line: redacted[i]! };
  });
  await redactAcrossChunks(redactor, records, counts, 'protocol');
  return records.map((record) => record.line);
}

/** Redacts text held in memory (a report) into `outFile`. */
export async function redactTextToFile(redactor: Redactor, text: string, outFile: string): Promise<WrittenEntry> {
  const out = new HashedFile(outFile);
  try {
    const counts: Record<string, number> = {};
    const redacted = await redactor.redact(text);
    addCounts(counts, redacted.counts);
    out.write(redacted.text);
    return out.close(counts);
  } catch (error) {
    out.abandon();
    throw error;
  }
}

/** The envelope fields redaction may never change: a redacted record keeps its place in the chain. */
const ENVELOPE = ['schema_version', 'run_id', 'seq', 'type', 'generation', 'prev', 'hash'] as const;

function sameEnvelope(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return ENVELOPE.every((key) => a[key] === b[key]);
}

/** Redacts every string inside a parsed value, key by key (the fallback for a record whose text redaction broke its JSON). */
async function redactLeaves(redactor: Redactor, value: unknown, counts: Record<string, number>): Promise<unknown> {
  if (typeof value === 'string') {
    const one = await redactor.redact(value);
    addCounts(counts, one.counts);
    return one.text;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) out.push(await redactLeaves(redactor, item, counts));
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // A value under a sensitive key name is dropped whole, whatever it looks like.
      const keyRedacted = await redactor.redact(`"${key}":"x"`);
      if (keyRedacted.text !== `"${key}":"x"` && typeof item === 'string') {
        addCounts(counts, { 'keel/key-name': 1 });
        out[key] = '[REDACTED:key-name]';
      } else {
        out[key] = await redactLeaves(redactor, item, counts);
      }
    }
    return out;
  }
  return value;
}

const parseObject = (line: string): Record<string, unknown> | null => {
  try {
    const value = JSON.parse(line) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

export interface LedgerSliceResult extends WrittenEntry {
  /** Seqs of records whose text redaction changed (their own hash no longer matches their content). */
  redactedSeqs: number[];
  records: number;
}

/**
 * Redacts a run's exported log (records, then the export trailer) into `outFile`. A record
 * whose text changes stays a record: still valid JSON, with the same seq, prev and hash, so
 * its place in the chain is kept and an import can check every link around it.
 */
export async function redactLedgerSlice(
  redactor: Redactor,
  chunks: Iterable<Buffer>,
  outFile: string,
  onProgress?: (tick: ProgressTick & { records: number }) => void,
): Promise<LedgerSliceResult> {
  const out = new HashedFile(outFile);
  const counts: Record<string, number> = {};
  const redactedSeqs = new Set<number>();
  let bytes = 0;
  let recordCount = 0;
  try {
    for (const batch of batches(splitLines(chunks))) {
      const originals = batch.map((entry) => entry.line);
      const redacted = await redactBatch(redactor, originals, counts);
      const lines: string[] = [];
      const records: SliceRecord[] = [];
      for (let i = 0; i < originals.length; i++) {
        const original = originals[i]!;
        let line = redacted[i]!;
        const before = parseObject(original);
        if (before && Object.hasOwn(before, 'keel_export')) {
          if (line !== original) throw new RedactionError('ledger-slice', new Error('redaction changed the export trailer'));
        } else if (before && typeof before.seq === 'number') {
          recordCount += 1;
          if (line !== original) {
            const after = parseObject(line);
            if (!after || !sameEnvelope(before, after)) {
              // A replacement crossed JSON syntax or the envelope: redact string by string instead.
              const leafCounts: Record<string, number> = {};
              const { hash: _hash, prev: _prev, ...rest } = before;
              const body = (await redactLeaves(redactor, { ts: rest.ts, payload: rest.payload }, leafCounts)) as Record<string, unknown>;
              const rebuilt = { ...before, ts: body.ts, payload: body.payload };
              line = JSON.stringify(rebuilt);
              addCounts(counts, leafCounts);
            }
            if (line !== original) redactedSeqs.add(before.seq);
          }
        }
        records.push({ before, line });
        bytes += Buffer.byteLength(original) + 1;
      }
      for (const record of await redactAcrossChunks(redactor, records, counts, 'ledger')) redactedSeqs.add(record.before!.seq as number);
      records.forEach((record, i) => lines.push(batch[i]!.newline ? `${record.line}\n` : record.line));
      out.write(lines.join(''));
      onProgress?.({ bytes, records: recordCount });
    }
  } catch (error) {
    out.abandon();
    throw error;
  }
  return { ...out.close(counts), redactedSeqs: [...redactedSeqs].sort((a, b) => a - b), records: recordCount };
}
