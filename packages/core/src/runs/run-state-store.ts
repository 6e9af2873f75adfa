import type { Ledger } from '../ledger/index.js';
import { decodeRunState, encodeRunState, initialRunState, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION, type RunState } from '../replay/index.js';

/** Events a run must have gained since its stored state before a closing controller stores it again. */
const STORE_EVERY = 1_000;

/**
 * A run's stored run state (issue 16: opening a long run's controller without folding its whole
 * history), or the initial state when none fits: none stored, another fold version, or one past
 * the run's last event (its log was cut shorter since). `storedSeq` is the stored state's seq (0: none).
 */
export function loadRunState(ledger: Ledger, runId: string): { state: RunState; storedSeq: number } {
  const stored = ledger.snapshots.nearest(runId, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION);
  const state = stored ? decodeRunState(stored.data, runId) : null;
  if (stored && state && state.lastSeq === stored.seq && stored.seq <= (ledger.run(runId)?.lastSeq ?? 0)) return { state, storedSeq: stored.seq };
  return { state: initialRunState(runId), storedSeq: 0 };
}

/**
 * Stores a closing controller's run state (a fold of committed events only) when the run has
 * gained STORE_EVERY events since the stored one; returns the stored seq. Derived data: a
 * failure to store costs the next open a longer fold, nothing else.
 */
export function saveRunState(ledger: Ledger, state: RunState, storedSeq: number): number {
  if (state.lastSeq - storedSeq < STORE_EVERY) return storedSeq;
  try {
    ledger.snapshots.save(state.runId, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION, state.lastSeq, encodeRunState(state));
    return state.lastSeq;
  } catch {
    return storedSeq;
  }
}
