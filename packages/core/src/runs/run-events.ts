import type { LedgerEvent } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';

/** Every committed event of a run, in order. */
export function readRunEvents(ledger: Ledger, runId: string): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  for (let from = 1; ; ) {
    const page = ledger.read(runId, { fromSeq: from, limit: 5_000 });
    events.push(...page);
    if (page.length < 5_000) return events;
    from = page[page.length - 1]!.seq + 1;
  }
}
