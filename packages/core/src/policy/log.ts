import type { LedgerEvent, PolicyLog, PolicyLogEntry } from '../contract/index.js';
import { PolicyLogEntry as PolicyLogEntrySchema } from '../contract/index.js';

/** The events a policy log is made of: read only these of a run (`Ledger.eventsOfTypes`). */
export const POLICY_EVENT_TYPES = ['policy.loaded', 'policy.refused', 'policy.decided', 'policy.rule_added'] as const;
const POLICY_EVENTS: ReadonlySet<string> = new Set(POLICY_EVENT_TYPES);

/**
 * A run's policy events, in ledger order, with counts per decision: what `keel policy log` prints
 * and the Policy view lists. An event that does not read as its schema (from a newer build) is
 * left out rather than guessed at.
 */
export function policyLog(runId: string, events: Iterable<LedgerEvent>): PolicyLog {
  const entries: PolicyLogEntry[] = [];
  const counts = { allow: 0, ask: 0, deny: 0, violations: 0 };
  for (const event of events) {
    if (!POLICY_EVENTS.has(event.type)) continue;
    const parsed = PolicyLogEntrySchema.safeParse({
      type: event.type,
      seq: event.seq,
      ts: event.ts,
      ...(event.generation !== undefined ? { generation: event.generation } : {}),
      payload: event.payload,
    });
    if (!parsed.success) continue;
    const entry = parsed.data;
    entries.push(entry);
    if (entry.type === 'policy.decided') {
      counts[entry.payload.decision]++;
      if (entry.payload.violation) counts.violations++;
    }
  }
  return { runId, entries, counts };
}
