import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RunReliabilityFacts } from '../contract/schemas/reliability.js';
import type { Ledger } from '../ledger/index.js';
import { FACT_EVENT_TYPES, RunFactsFold } from './facts.js';

/** Events read per event-loop turn. */
const PAGE = 2_000;
/** Runs whose fold is kept for the next ask. */
const KEPT = 32;

/**
 * Runs' reliability facts for the host (issue 16: never O(a run's events) in memory or in one
 * turn). A run is read a page per event-loop turn, skimmed (only the records the facts read are
 * parsed), and its fold is kept for the newest KEPT runs, so asking again reads only the events
 * committed since.
 */
export class RunFactsReader {
  private readonly folds = new Map<string, RunFactsFold>();

  constructor(private readonly ledger: Ledger) {}

  async facts(runId: string): Promise<RunReliabilityFacts> {
    // Taken out while it is read: a second ask meanwhile folds on its own fold, never on this one.
    const fold = this.folds.get(runId) ?? new RunFactsFold();
    this.folds.delete(runId);
    for (;;) {
      const page = this.ledger.skim(runId, { fromSeq: fold.lastSeq + 1, limit: PAGE, recordsOf: FACT_EVENT_TYPES });
      for (const event of page) fold.push(event);
      if (page.length < PAGE) break;
      await nextTurn();
    }
    this.folds.set(runId, fold);
    if (this.folds.size > KEPT) this.folds.delete(this.folds.keys().next().value!);
    return fold.facts(runId);
  }
}
