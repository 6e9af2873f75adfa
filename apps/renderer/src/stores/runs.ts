import type { KeelClient, RunSummary } from '@keel/core/contract';
import { create } from 'zustand';
import { describeError } from '../lib/errors.js';

const SELECTED_KEY = 'keel.selectedRun';

interface RunsState {
  /** As `runs.list` last answered, newest activity first. */
  runs: RunSummary[];
  loaded: boolean;
  /** Why the last `runs.list` failed; cleared by the next success. */
  error: string | null;
  selectedRunId: string | null;
  setRuns(runs: RunSummary[]): void;
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
  /** Ask `runs.list` now (concurrent requests collapse into one more after the current). */
  refresh(): Promise<void>;
  /** Refresh soon: many calls within `debounceMs` make one request (used on every run event). */
  poke(): void;
  stop(): void;
}

/**
 * Keeps the runs store fed from `runs.list`: on demand, on a poke (a run event arrived), and
 * every `intervalMs` as a fallback. The store holds exactly what the host answered.
 */
export function startRunsSync(client: KeelClient, options: { intervalMs?: number; debounceMs?: number } = {}): RunsSync {
  const intervalMs = options.intervalMs ?? 4000;
  const debounceMs = options.debounceMs ?? 250;
  let inFlight: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let pokeTimer: ReturnType<typeof setTimeout> | null = null;

  const once = async () => {
    try {
      const runs = await client.invoke('runs.list', {});
      if (!stopped) useRuns.getState().setRuns(runs);
    } catch (error) {
      if (!stopped) useRuns.getState().fail(describeError(error));
    }
  };

  const refresh = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      do {
        again = false;
        await once();
      } while (again && !stopped);
      inFlight = null;
    })();
    return inFlight;
  };

  const interval = setInterval(() => void refresh(), intervalMs);
  void refresh();

  const sync: RunsSync = {
    refresh,
    poke() {
      if (stopped || pokeTimer) return;
      pokeTimer = setTimeout(() => {
        pokeTimer = null;
        void refresh();
      }, debounceMs);
    },
    stop() {
      stopped = true;
      clearInterval(interval);
      if (pokeTimer) clearTimeout(pokeTimer);
      if (active === sync) active = null;
    },
  };
  active = sync;
  return sync;
}

let active: RunsSync | null = null;

/** Refresh the run list soon (no-op before the sync starts). */
export const pokeRuns = () => active?.poke();
/** Refresh the run list now. */
export const refreshRuns = () => active?.refresh() ?? Promise.resolve();
