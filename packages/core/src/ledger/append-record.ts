import { EventBody, LEDGER_SCHEMA_VERSION, type AppendInput, type LedgerEvent } from '../contract/schemas/ledger.js';
import { LedgerError } from './errors.js';
import { seal } from './hash-chain.js';

/** A record larger than this is refused at append (the agent framing limit is 16 MiB too). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Validates what a producer hands to `append`; the error names every offending field. */
export function parseAppendInput(input: unknown): AppendInput {
  const parsed = EventBody.safeParse(input);
  const generation = (input as { generation?: unknown } | null)?.generation;
  const generationOk = generation === undefined || (Number.isSafeInteger(generation) && (generation as number) >= 0);
  if (parsed.success && generationOk) {
    return generation === undefined ? parsed.data : { ...parsed.data, generation: generation as number };
  }
  const issues = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  if (!generationOk) issues.push('generation: expected a non-negative integer');
  throw new LedgerError('invalid_event', `Refused an invalid "${String((input as { type?: unknown } | null)?.type)}" event: ${issues.join('; ')}`);
}

/**
 * The record that follows `after` in a run's chain: the event, its NDJSON line without the
 * newline (`text`, written to the log and to SQLite as it is) and the line's size in the log
 * with its newline (`bytes`). Refuses what has no JSON encoding or exceeds MAX_RECORD_BYTES.
 */
export function sealRecord(
  runId: string,
  body: AppendInput,
  after: { lastSeq: number; lastHash: string },
  now: () => Date,
): { event: LedgerEvent; text: string; bytes: number } {
  let sealed: ReturnType<typeof seal>;
  try {
    // Keys in canonical (sorted) order, so the top level stringifies natively (hash-chain.ts);
    // two literals rather than a spread, so the record keeps a fast object shape.
    const seq = after.lastSeq + 1;
    const ts = now().toISOString();
    const { generation, payload, type } = body;
    sealed = seal(
      (generation === undefined
        ? { payload, prev: after.lastHash, run_id: runId, schema_version: LEDGER_SCHEMA_VERSION, seq, ts, type }
        : { generation, payload, prev: after.lastHash, run_id: runId, schema_version: LEDGER_SCHEMA_VERSION, seq, ts, type }) as Parameters<typeof seal>[0],
    );
  } catch (error) {
    throw new LedgerError('invalid_event', `Refused a "${body.type}" event that has no JSON encoding: ${(error as Error).message}`);
  }
  const { event, line } = sealed;
  // Measured, not encoded: the batch is encoded once when it is written (group-commit.ts).
  const bytes = Buffer.byteLength(line) + 1;
  if (bytes > MAX_RECORD_BYTES) {
    throw new LedgerError('record_too_large', `A ${body.type} record of ${bytes} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit.`);
  }
  return { event, text: line, bytes };
}
