/**
 * The version of what RunViewFold produces from a given sequence of events. Persisted run-view
 * snapshots (ledger `fold_snapshots`) are valid only for the version that wrote them: bump this
 * whenever a change to the fold (run-view-fold.ts, view-items.ts, recovery.ts, progress.ts, the
 * RunView schema) makes the same events fold to a different view, and every stored snapshot is
 * rebuilt from the events on its next use. test/fold-version.test.ts fails when these sources change
 * until the change is looked at (and this bumped, when the view changes).
 */
export const RUN_VIEW_FOLD_VERSION = 4;
