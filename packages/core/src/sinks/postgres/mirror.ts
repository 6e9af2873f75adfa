import os from 'node:os';
import type pg from 'pg';
import { canonicalJson } from '../../contract/canonical-json.js';
import type { LedgerEvent, RunSummary } from '../../contract/schemas/ledger.js';
import type { MirrorReport } from '../../contract/schemas/sinks.js';
import { ChainCheck, ChainMismatchError } from '../chain-check.js';
import { redactValues, type TextRedactor } from '../redaction.js';

/** What the mirror reads: a ledger, normally opened read-only beside the live Keel. */
export interface LedgerSource {
  runs(): RunSummary[];
  read(runId: string, options?: { fromSeq?: number; limit?: number }): LedgerEvent[];
}

export interface MirrorOptions {
  redactor: TextRedactor;
  /** Events per transaction (default 500). */
  batch?: number;
  /** The name runs are filed under (default: this machine's host name). */
  workstation?: string;
  /** Called after each committed batch. */
  onBatch?: (progress: { runId: string; fromSeq: number; toSeq: number }) => void;
}

interface MirrorHead {
  last_seq: number;
  last_hash: string;
}

/** What the runs row learns from a batch of events. */
interface RunFacts {
  createdAt?: string;
  workspace?: string | null;
  agent?: unknown;
  title?: string | null;
  state?: string;
  stopReason?: string | null;
}

function factsOf(events: readonly LedgerEvent[]): RunFacts {
  const facts: RunFacts = {};
  for (const event of events) {
    const payload = event.payload as Record<string, unknown>;
    if (event.type === 'run.created') {
      facts.createdAt = event.ts;
      facts.workspace = typeof payload.workspace === 'string' ? payload.workspace : null;
      facts.agent = payload.agent ?? null;
      facts.title = typeof payload.title === 'string' ? payload.title : null;
    } else if (event.type === 'run.state') {
      facts.state = String(payload.state);
      facts.stopReason = typeof payload.stopReason === 'string' ? payload.stopReason : null;
    }
  }
  return facts;
}

async function headOf(client: pg.ClientBase, runId: string, lock = false): Promise<MirrorHead | null> {
  const { rows } = await client.query<MirrorHead>(`SELECT last_seq, last_hash FROM keel_runs WHERE run_id = $1${lock ? ' FOR UPDATE' : ''}`, [runId]);
  return rows[0] ?? null;
}

/** The position moved under us (another mirror of the same ledger): start the run again from the new head. */
class HeadMoved extends Error {}

/**
 * Copies one verified batch in one transaction: the runs row first (created or advanced), then
 * the events. The head is re-read under a row lock, so two mirrors of one ledger cannot
 * interleave; a kill at any point leaves the mirror at a batch boundary.
 */
async function commitBatch(
  client: pg.ClientBase,
  runId: string,
  expected: MirrorHead | null,
  events: readonly LedgerEvent[],
  rows: ReadonlyArray<{ record: string; redacted: boolean }>,
  workstation: string,
  facts: RunFacts,
): Promise<void> {
  const last = events[events.length - 1]!;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`keel-run:${runId}`]);
    const head = await headOf(client, runId, true);
    if ((head?.last_seq ?? 0) !== (expected?.last_seq ?? 0)) throw new HeadMoved();
    if (!head) {
      await client.query(
        `INSERT INTO keel_runs (run_id, workstation, created_at, workspace, agent, title, state, stop_reason, last_seq, last_hash, last_event_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [runId, workstation, facts.createdAt ?? null, facts.workspace ?? null, facts.agent === undefined ? null : JSON.stringify(facts.agent), facts.title ?? null, facts.state ?? null, facts.stopReason ?? null, last.seq, last.hash, last.ts],
      );
    } else {
      await client.query(
        `UPDATE keel_runs SET last_seq = $2, last_hash = $3, last_event_at = $4, mirrored_at = now(),
           state = CASE WHEN $5::boolean THEN $6 ELSE state END,
           stop_reason = CASE WHEN $5::boolean THEN $7 ELSE stop_reason END
         WHERE run_id = $1`,
        [runId, last.seq, last.hash, last.ts, facts.state !== undefined, facts.state ?? null, facts.stopReason ?? null],
      );
    }
    await client.query(
      `INSERT INTO keel_events (run_id, seq, ts, type, generation, record, hash, prev, redacted)
       SELECT $1, * FROM unnest($2::integer[], $3::timestamptz[], $4::text[], $5::integer[], $6::json[], $7::text[], $8::text[], $9::boolean[])`,
      [
        runId,
        events.map((event) => event.seq),
        events.map((event) => event.ts),
        events.map((event) => event.type),
        events.map((event) => event.generation ?? null),
        rows.map((row) => row.record),
        events.map((event) => event.hash),
        events.map((event) => event.prev),
        rows.map((row) => row.redacted),
      ],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * One run from the mirror's head to the local ledger's end. The mirror's last record must be
 * the local record at that seq (same hash), and every record after it must continue the chain;
 * otherwise ChainMismatchError and nothing at or after the bad seq is copied.
 */
async function mirrorRun(client: pg.ClientBase, source: LedgerSource, run: RunSummary, options: MirrorOptions, workstation: string) {
  const batch = options.batch ?? 500;
  for (;;) {
    const head = await headOf(client, run.id);
    const fromSeq = head?.last_seq ?? 0;
    if (head && head.last_seq > run.lastSeq) {
      throw new ChainMismatchError(run.id, run.lastSeq + 1, `the mirror holds seq ${head.last_seq} but this ledger ends at ${run.lastSeq} (a different history)`);
    }
    if (head && head.last_seq > 0) {
      const local = source.read(run.id, { fromSeq: head.last_seq, limit: 1 })[0];
      if (!local || local.hash !== head.last_hash) {
        throw new ChainMismatchError(run.id, head.last_seq, `the mirror's record has hash ${head.last_hash.slice(0, 12)}…, this ledger's ${local ? `${local.hash.slice(0, 12)}…` : 'is missing'} (a different history)`);
      }
    }
    const chain = new ChainCheck(run.id, head ? { seq: head.last_seq, hash: head.last_hash } : undefined);
    let expected: MirrorHead | null = head;
    let copied = 0;
    try {
      while (chain.lastSeq < run.lastSeq) {
        const page = source.read(run.id, { fromSeq: chain.lastSeq + 1, limit: Math.min(batch, run.lastSeq - chain.lastSeq) });
        if (page.length === 0) break;
        const good: LedgerEvent[] = [];
        let broken: unknown = null;
        for (const event of page) {
          try {
            chain.accept(event);
            good.push(event);
          } catch (error) {
            broken = error;
            break;
          }
        }
        if (good.length > 0) {
          const rows = (await redactValues(good, options.redactor)).map(({ value, redacted }) => ({ record: canonicalJson(value), redacted }));
          await commitBatch(client, run.id, expected, good, rows, workstation, factsOf(good));
          const last = good[good.length - 1]!;
          options.onBatch?.({ runId: run.id, fromSeq: good[0]!.seq, toSeq: last.seq });
          copied += good.length;
          expected = { last_seq: last.seq, last_hash: last.hash };
        }
        if (broken) throw broken;
      }
    } catch (error) {
      if (error instanceof HeadMoved) continue;
      throw error;
    }
    return { runId: run.id, fromSeq, toSeq: chain.lastSeq, copied };
  }
}

/** One pass: every run of the ledger brought up to date in the mirror, oldest run first. */
export async function mirrorOnce(client: pg.ClientBase, source: LedgerSource, options: MirrorOptions): Promise<MirrorReport> {
  const workstation = options.workstation ?? os.hostname();
  const report: MirrorReport = { runs: [], copied: 0 };
  const runs = source.runs();
  const { rows } = await client.query<{ run_id: string; last_seq: number }>('SELECT run_id, last_seq FROM keel_runs WHERE run_id = ANY($1::text[])', [runs.map((run) => run.id)]);
  const mirrored = new Map(rows.map((row) => [row.run_id, row.last_seq]));
  for (const run of runs) {
    if (run.lastSeq === 0 || (mirrored.get(run.id) ?? 0) === run.lastSeq) continue;
    const result = await mirrorRun(client, source, run, options, workstation);
    report.runs.push(result);
    report.copied += result.copied;
  }
  return report;
}
