import type { LedgerEvent, RunView } from '../contract/index.js';
import { RunViewFold } from './run-view-fold.js';

/** The state of a run before its first event. */
export function initialView(runId = ''): RunView {
  return new RunViewFold(runId).snapshot();
}

/**
 * One step of the fold: a new view, the input untouched. Unchanged parts are shared; a
 * step that changes the transcript copies the items array (pointers only), so folding a
 * long run step by step is quadratic: use `fold` or a `RunViewFold` for that.
 */
export function apply(view: RunView, event: LedgerEvent): RunView {
  const folder = RunViewFold.fromView(view);
  folder.push(event);
  return folder.snapshot();
}

/** The state after every event, in order. Pure: same events, same view. */
export function fold(events: Iterable<LedgerEvent>, runId = ''): RunView {
  const folder = new RunViewFold(runId);
  for (const event of events) folder.push(event);
  return folder.snapshot();
}
