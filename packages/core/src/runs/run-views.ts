import type { LedgerEvent } from '../contract/index.js';
import type { RunView } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';
import { RunViewFold } from '../replay/index.js';

/**
 * Folded views of recently opened runs, kept current from ledger commits, so a client can
 * open a run of 100,000 events with one snapshot instead of replaying every event over the
 * wire. The fold is core's (I9); this only caches it.
 */
export class RunViews {
  private readonly folders = new Map<string, RunViewFold>();
  private readonly stop: () => void;

  constructor(
    private readonly ledger: Ledger,
    private readonly capacity = 8,
  ) {
    this.stop = ledger.onCommit((event: LedgerEvent) => this.folders.get(event.run_id)?.push(event));
  }

  /** The run's view at its latest committed seq. */
  view(runId: string): RunView {
    let folder = this.folders.get(runId);
    if (folder) {
      // Most recently used last: Map keeps insertion order.
      this.folders.delete(runId);
    } else {
      folder = new RunViewFold(runId);
      for (let from = 1; ; ) {
        const page = this.ledger.read(runId, { fromSeq: from, limit: 5_000 });
        for (const event of page) folder.push(event);
        if (page.length < 5_000) break;
        from = page[page.length - 1]!.seq + 1;
      }
    }
    this.folders.set(runId, folder);
    while (this.folders.size > this.capacity) this.folders.delete(this.folders.keys().next().value!);
    return folder.snapshot();
  }

  close(): void {
    this.stop();
    this.folders.clear();
  }
}
