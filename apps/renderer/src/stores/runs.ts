import type { KeelClient, RunSummary } from '@keel/core/contract';
import { create } from 'zustand';
import { describeError } from '../lib/errors.js';

const SELECTED_KEY = 'keel.selectedRun';

interface RunsState {
  /** As `runs.changed` last said, newest activity first. */
  runs: RunSummary[];
  loaded: boolean;
  /** Why the run list stream failed; cleared by the next list. */
  error: string | null;
  selectedRunId: string | null;
  /** Replace the whole list (a snapshot). */
  setRuns(runs: RunSummary[]): void;
  /** Add or update runs by id; a summary older than the one held (lower lastSeq) is ignored. */
  mergeRuns(runs: RunSummary[]): void;
  fail(message: string): void;
  select(runId: string | null): void;
}

function storedSelection(): string | null {
  try {
    return globalThis.sessionStorage?.getItem(SELECTED_KEY) ?? null;
  } catch {
    return null;
  }
}

const byActivity = (a: RunSummary, b: RunSummary) => (a.updated < b.updated ? 1 : a.updated > b.updated ? -1 : a.id.localeCompare(b.id));

export const useRuns = create<RunsState>((set) => ({
  runs: [],
  loaded: false,
  error: null,
  selectedRunId: storedSelection(),
  setRuns: (runs) => set({ runs: runs.slice().sort(byActivity), loaded: true, error: null }),
  mergeRuns: (changed) =>
    set((state) => {
      const byId = new Map(state.runs.map((run) => [run.id, run]));
      for (const run of changed) {
        const held = byId.get(run.id);
        if (!held || run.lastSeq >= held.lastSeq) byId.set(run.id, run);
      }
      return { runs: [...byId.values()].sort(byActivity) };
    }),
  fail: (error) => set({ error }),
  select: (selectedRunId) => {
    try {
      if (selectedRunId) globalThis.sessionStorage?.setItem(SELECTED_KEY, selectedRunId);
      else globalThis.sessionStorage?.removeItem(SELECTED_KEY);
    } catch {
      // Storage is a convenience only.
    }
    set({ selectedRunId });
  },
}));

/** The summary of the selected run, if the list has it. */
export const useSelectedRun = () => useRuns((state) => state.runs.find((run) => run.id === state.selectedRunId) ?? null);

export interface RunsSync {
  stop(): void;
}

/**
 * Keeps the runs store fed from the `runs.changed` stream: a snapshot replaces the list, a
 * change merges by id. The transport re-opens the stream after a reconnect and the host
 * starts it with a fresh snapshot, so nothing missed while disconnected stays missing. If the
 * host ends the stream (a failure), the list says so and the stream is opened again after
 * `retryMs`.
 */
export function startRunsSync(client: KeelClient, options: { retryMs?: number } = {}): RunsSync {
  const retryMs = options.retryMs ?? 2000;
  let stopped = false;
  let unsubscribe: () => void = () => {};
  let retry: ReturnType<typeof setTimeout> | null = null;

  const follow = () => {
    retry = null;
    unsubscribe = client.subscribe('runs.changed', {}, {
      onEvent(update) {
        if (stopped) return;
        if (update.kind === 'snapshot') useRuns.getState().setRuns(update.runs);
        else useRuns.getState().mergeRuns(update.runs);
      },
      onEnd(error) {
        if (stopped) return;
        useRuns.getState().fail(error ? describeError(error) : 'The host ended the run list stream.');
        retry = setTimeout(follow, retryMs);
      },
    });
  };
  follow();

  return {
    stop() {
      if (stopped) return;
      stopped = true;
      if (retry) clearTimeout(retry);
      unsubscribe();
    },
  };
}
