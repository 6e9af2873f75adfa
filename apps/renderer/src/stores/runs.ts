import type { KeelClient, RunSummary } from '@keel/core/contract';
import { create } from 'zustand';
import { NO_FILTER, type RunListFilter } from '../components/runs/list/run-filter.js';
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
  // A snapshot is the whole list: a run deleted (here or in another tab) leaves it, and the selection with it.
  setRuns: (runs) =>
    set((state) => ({
      runs: runs.slice().sort(byActivity),
      loaded: true,
      error: null,
      selectedRunId: state.selectedRunId && !runs.some((run) => run.id === state.selectedRunId) && state.loaded ? null : state.selectedRunId,
    })),
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

const FILTER_KEY = 'keel.runList';

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** The remembered filter; anything unreadable falls back to no filter. */
export function storedFilter(stored = storage()?.getItem(FILTER_KEY) ?? null): RunListFilter {
  if (!stored) return NO_FILTER;
  try {
    const value = JSON.parse(stored) as Partial<RunListFilter>;
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    return {
      query: text(value.query) ?? '',
      state: text(value.state),
      agent: text(value.agent),
      workspace: text(value.workspace),
      showArchived: value.showArchived === true,
      groupByWorkspace: value.groupByWorkspace === true,
    };
  } catch {
    return NO_FILTER;
  }
}

interface RunListFilterState {
  filter: RunListFilter;
  setFilter(change: Partial<RunListFilter>): void;
  clearFilter(): void;
}

/** Search, filters, "show archived" and grouping of the run list, remembered across reloads (localStorage). */
export const useRunListFilter = create<RunListFilterState>((set, get) => {
  const save = (filter: RunListFilter) => {
    try {
      storage()?.setItem(FILTER_KEY, JSON.stringify(filter));
    } catch {
      // Remembering is a convenience only.
    }
    set({ filter });
  };
  return {
    filter: storedFilter(),
    setFilter: (change) => save({ ...get().filter, ...change }),
    clearFilter: () => save({ ...NO_FILTER, groupByWorkspace: get().filter.groupByWorkspace, showArchived: get().filter.showArchived }),
  };
});

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
