import { describe, expect, it } from 'vitest';
import type { LedgerEvent, RunView } from '../src/contract/index.js';
import { RunViewFold, fold, ReplayIndex } from '../src/replay/index.js';
import { mulberry32, syntheticRun } from '../src/replay/synthetic.js';

// Correctness at scale only: speed is measured by `measureReplay` (the bench command), not timed here.
const COUNT = 1_000_000;
const LOOKUPS = 200;
const SEED = 20250101;

/** What is cheap to compare for every lookup: the whole header plus both ends of the transcript. */
function summary(view: RunView) {
  const { items, ...head } = view;
  return { head, itemCount: items.length, first: items.slice(0, 2), last: items.slice(-3) };
}

describe('replay at scale', () => {
  it(`stateAt is right for ${LOOKUPS} random seqs of a ${COUNT.toLocaleString('en')}-event run`, () => {
    const events: LedgerEvent[] = Array.from(syntheticRun(COUNT, { seed: SEED }));
    const index = ReplayIndex.build(events);
    expect(index).toMatchObject({ length: COUNT, lastSeq: COUNT });

    const random = mulberry32(SEED);
    const seqs = Array.from({ length: LOOKUPS }, () => Math.floor(random() * (COUNT + 1)));
    const fullCheck = new Set(seqs.slice(0, 5));
    const summaries = new Map<number, ReturnType<typeof summary>>();
    const full = new Map<number, RunView>();
    for (const seq of seqs) {
      const view = index.stateAt(seq);
      summaries.set(seq, summary(view));
      if (fullCheck.has(seq)) full.set(seq, view);
    }

    // Every lookup against one independent forward walk over the events.
    const walker = new RunViewFold();
    let next = 0;
    for (const seq of [...summaries.keys()].sort((a, b) => a - b)) {
      while (next < seq) walker.push(events[next++]!);
      expect(summaries.get(seq), `seed ${SEED}, seq ${seq}`).toEqual(summary(walker.snapshot()));
    }

    // A few in full against a straight fold of the prefix.
    for (const [seq, view] of full) {
      expect(view, `seed ${SEED}, seq ${seq}`).toEqual(fold(events.slice(0, seq)));
    }
  }, 120_000);
});
