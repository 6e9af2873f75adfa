import type { RunSummary } from '../contract/schemas/ledger.js';
import { parseUsage } from './usage-projection.js';

/** A `runs` row as SQLite holds it. */
export interface RunRow {
  id: string;
  state: string;
  created: string;
  updated: string;
  last_seq: number;
  last_hash: string;
  quarantined: number;
  quarantine_reason: string | null;
  read_only: number;
  origin: 'local' | 'imported';
  workspace: string | null;
  agent: string | null;
  title: string | null;
  stop_reason: string | null;
  /** Absent in a keel.db before schema 9 (a read-only store may read one). */
  usage?: string | null;
  /** Absent in a keel.db before schema 11 (see projection.ts, foldAgentExit). */
  agent_generation?: number;
  agent_exited?: number;
}

/** A run's summary from its row: frozen, as the store hands summaries out. */
export function summaryOf(row: RunRow): RunSummary {
  const agent = row.agent ? Object.freeze(JSON.parse(row.agent) as NonNullable<RunSummary['agent']>) : null;
  return Object.freeze({
    id: row.id,
    state: row.state,
    created: row.created,
    updated: row.updated,
    lastSeq: row.last_seq,
    quarantined: row.quarantined === 1,
    quarantineReason: row.quarantine_reason,
    readOnly: row.read_only === 1,
    origin: row.origin,
    workspace: row.workspace,
    agent,
    title: row.title,
    stopReason: row.stop_reason,
    ...(row.usage === undefined ? {} : { usage: Object.freeze(parseUsage(row.usage)) }),
  });
}

export const byCreated = (a: RunSummary, b: RunSummary) =>
  a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

