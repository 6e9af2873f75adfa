import type { LedgerEvent } from '../contract/index.js';
import { fold } from './fold.js';
import { DEFAULT_SNAPSHOT_EVERY, ReplayIndex } from './replay-index.js';
import { mulberry32, syntheticRun } from './synthetic.js';

export interface ReplayMeasurement {
  events: number;
  snapshot_every: number;
  marks: number;
  transcript_items: number;
  /** Building a ReplayIndex over the events (fold + marks). */
  build_ms: number;
  /** One straight fold of every event. */
  fold_ms: number;
  state_at_seq_ms_max: number;
  state_at_seq_ms_p50: number;
  /** Fold throughput. */
  events_per_s: number;
}

export interface MeasureReplayOptions {
  readonly every?: number;
  /** How many random seqs to look up. */
  readonly lookups?: number;
  readonly seed?: number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Replay speed on a synthetic mixed run held in memory (generation not timed): one
 * straight fold, an index build, then `stateAt` for random seqs.
 */
export function measureReplay(eventCount = 1_000_000, options: MeasureReplayOptions = {}): ReplayMeasurement {
  const seed = options.seed ?? 1;
  const events: LedgerEvent[] = Array.from(syntheticRun(eventCount, { seed }));

  let started = performance.now();
  const view = fold(events);
  const foldMs = performance.now() - started;

  started = performance.now();
  const index = ReplayIndex.build(events, { every: options.every ?? DEFAULT_SNAPSHOT_EVERY });
  const buildMs = performance.now() - started;

  const random = mulberry32(seed + 1);
  const timings: number[] = [];
  for (let n = options.lookups ?? 200; n > 0; n--) {
    const seq = Math.floor(random() * (eventCount + 1));
    started = performance.now();
    index.stateAt(seq);
    timings.push(performance.now() - started);
  }
  timings.sort((a, b) => a - b);

  return {
    events: eventCount,
    snapshot_every: index.every,
    marks: index.markCount,
    transcript_items: view.items.length,
    build_ms: round(buildMs),
    fold_ms: round(foldMs),
    state_at_seq_ms_max: round(timings.at(-1) ?? 0),
    state_at_seq_ms_p50: round(timings[Math.floor(timings.length / 2)] ?? 0),
    events_per_s: foldMs > 0 ? Math.round((eventCount / foldMs) * 1000) : 0,
  };
}
