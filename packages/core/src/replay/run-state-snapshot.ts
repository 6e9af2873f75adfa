import type { RunState } from './run-state.js';

/** The `fold` name run-state snapshots are stored under (ledger `fold_snapshots`). */
export const RUN_STATE_FOLD = 'run-state';
/**
 * The version of what the run state fold (run-state.ts) produces and of this encoding. A stored
 * run state is valid only for the version that wrote it: bump this whenever the same events can
 * fold to a different RunState, or the encoding changes (test/fold-version.test.ts fails until
 * such a change is looked at).
 */
export const RUN_STATE_FOLD_VERSION = 1;

/** The RunState fields that are Maps, encoded as arrays of entries. */
const MAPS = ['agents', 'openTerminals', 'openTools', 'turnStops', 'approvals', 'decisions'] as const;

/** A run state as snapshot text (JSON; its Maps as entry arrays). */
export function encodeRunState(state: RunState): string {
  const encoded: Record<string, unknown> = { ...state };
  for (const key of MAPS) encoded[key] = [...state[key].entries()];
  return JSON.stringify(encoded);
}

/** The run state back from `encodeRunState`'s text, or null when it is not one of `runId` this build wrote. */
export function decodeRunState(text: string, runId: string): RunState | null {
  try {
    const decoded = JSON.parse(text) as Record<string, unknown>;
    if (decoded === null || typeof decoded !== 'object' || decoded.runId !== runId || typeof decoded.lastSeq !== 'number') return null;
    for (const key of MAPS) {
      if (!Array.isArray(decoded[key])) return null;
      decoded[key] = new Map(decoded[key] as Array<[unknown, unknown]>);
    }
    return decoded as unknown as RunState;
  } catch {
    return null;
  }
}
