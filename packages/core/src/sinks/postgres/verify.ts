import type pg from 'pg';
import { canonicalJson } from '../../contract/canonical-json.js';
import type { MirrorVerifyReport } from '../../contract/schemas/sinks.js';
import { hashOf } from '../../ledger/index.js';
import { redactValues, type TextRedactor } from '../redaction.js';
import type { LedgerSource } from './mirror.js';

interface MirrorRow {
  seq: number;
  hash: string;
  prev: string;
  type: string;
  record: string;
  redacted: boolean;
}

const PAGE = 1000;

/**
 * Compares the mirror with the local ledger, run by run and record by record: the same seqs,
 * contiguous, each with the same hash, prev and type; an unredacted mirror record must be the
 * local record byte for byte and hash to its `hash`; a redacted one must be what redaction
 * makes of the local record. Runs the mirror holds from other workstations are only listed.
 */
export async function verifyMirror(client: pg.ClientBase, source: LedgerSource, redactor: TextRedactor): Promise<MirrorVerifyReport> {
  const runs = source.runs();
  const local = new Set(runs.map((run) => run.id));
  const { rows: heads } = await client.query<{ run_id: string; last_seq: number }>('SELECT run_id, last_seq FROM keel_runs ORDER BY run_id');
  const mirrorHeads = new Map(heads.map((row) => [row.run_id, row.last_seq]));
  const report: MirrorVerifyReport = { ok: true, runs: [], foreignRuns: heads.map((row) => row.run_id).filter((id) => !local.has(id)) };
  for (const run of runs) {
    const problems: string[] = [];
    const mirrorSeq = mirrorHeads.get(run.id) ?? 0;
    if (!mirrorHeads.has(run.id)) problems.push('not in the mirror');
    else if (mirrorSeq < run.lastSeq) problems.push(`the mirror ends at seq ${mirrorSeq}, the ledger at ${run.lastSeq}`);
    else if (mirrorSeq > run.lastSeq) problems.push(`the mirror holds seq ${mirrorSeq}, past the ledger's end at ${run.lastSeq}`);
    let next = 1;
    let counted = 0;
    while (mirrorHeads.has(run.id) && problems.length < 20) {
      const { rows } = await client.query<MirrorRow>(
        'SELECT seq, hash, prev, type, record::text AS record, redacted FROM keel_events WHERE run_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3',
        [run.id, next, PAGE],
      );
      if (rows.length === 0) break;
      const localPage = new Map(source.read(run.id, { fromSeq: next, limit: rows[rows.length - 1]!.seq - next + 1 }).map((event) => [event.seq, event]));
      // What redaction makes of the ledger's records, for the rows the mirror holds redacted.
      const redactedRows = rows.filter((row) => row.redacted && localPage.has(row.seq));
      const expectedRedacted = new Map(
        (await redactValues(redactedRows.map((row) => localPage.get(row.seq)!), redactor)).map(({ value }, i) => [redactedRows[i]!.seq, canonicalJson(value)]),
      );
      for (const row of rows) {
        counted += 1;
        if (row.seq !== next) problems.push(`seq ${next}${row.seq > next + 1 ? `..${row.seq - 1}` : ''} missing from the mirror`);
        next = row.seq + 1;
        const event = localPage.get(row.seq);
        if (!event) {
          problems.push(`seq ${row.seq} is in the mirror but not in the ledger`);
          continue;
        }
        if (row.hash !== event.hash || row.prev !== event.prev || row.type !== event.type) {
          problems.push(`seq ${row.seq}: the mirror's hash, prev or type differs from the ledger's`);
          continue;
        }
        if (!row.redacted) {
          const { hash, ...unhashed } = JSON.parse(row.record) as typeof event;
          if (row.record !== canonicalJson(event)) problems.push(`seq ${row.seq}: the mirror's record differs from the ledger's`);
          else if (hashOf(unhashed) !== hash) problems.push(`seq ${row.seq}: the mirror's record does not hash to its hash`);
        } else {
          if (row.record !== expectedRedacted.get(row.seq)) problems.push(`seq ${row.seq}: the mirror's redacted record is not the ledger's record redacted`);
        }
      }
    }
    if (mirrorHeads.has(run.id) && counted !== Math.min(mirrorSeq, run.lastSeq) && problems.length === 0) {
      problems.push(`the mirror holds ${counted} records for seq 1..${mirrorSeq}`);
    }
    const agree = problems.length === 0;
    report.ok &&= agree;
    report.runs.push({ runId: run.id, localSeq: run.lastSeq, mirrorSeq, agree, problems });
  }
  return report;
}
