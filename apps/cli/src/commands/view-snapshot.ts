import { RunViews, type Ledger } from '@keel/core';

/**
 * A long run written by a command (`keel run`, `keel ledger import`) leaves its view snapshot
 * behind, so the app's first open of it starts from there instead of folding every event
 * (issue 16); a short run needs none. Derived data: a failure costs that fold later (the app's
 * start-up pass, or the first open).
 */
export async function storeViewSnapshot(ledger: Ledger, runId: string): Promise<void> {
  const views = new RunViews(ledger);
  try {
    await views.foldBehind([runId]);
    // The window snapshot a load keeps, if any, before the ledger closes.
    await views.idle();
  } catch {
    // Folded later instead.
  } finally {
    views.close();
  }
}
