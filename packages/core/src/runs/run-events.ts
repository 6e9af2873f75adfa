import type { LedgerEvent } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';

/**
 * A run's committed events from `fromSeq` on, a page of at most `pageSize` at a time, read as
 * the caller asks for the next page; the last page is the short one (possibly empty).
 */
export function* eventPages(ledger: Ledger, runId: string, fromSeq: number, pageSize = 5_000): Generator<LedgerEvent[]> {
  for (let from = fromSeq; ; ) {
    const page = ledger.read(runId, { fromSeq: from, limit: pageSize });
    yield page;
    if (page.length < pageSize) return;
    from = page[page.length - 1]!.seq + 1;
  }
}

/** Every committed event of a run, in order. */
export function readRunEvents(ledger: Ledger, runId: string): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  for (const page of eventPages(ledger, runId, 1)) events.push(...page);
  return events;
}
