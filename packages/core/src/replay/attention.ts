import { stopReasonInfo } from '../contract/index.js';

/**
 * When Keel asks for a person's attention (issue 15 point 22): a run starts waiting for an
 * approval, or a run that was working finishes or stops. One pure rule over the run list's
 * facts (each the fold of the run's `run.state` events, I9), used alike by the browser page
 * (Notification API, tab title, favicon badge) and by Electron's main process (desktop
 * notification, dock badge).
 */

/** The facts attention reads of a run: what the run list holds. */
export interface AttentionRun {
  id: string;
  state: string;
  title: string | null;
  stopReason: string | null;
}

export type AttentionKind = 'approval' | 'finished' | 'stopped';

export interface AttentionNotice {
  runId: string;
  kind: AttentionKind;
  /** The notification's title and body, in plain words. */
  title: string;
  body: string;
}

/** Where the person is: whether Keel's window has focus (and is visible), and which run it shows. */
export interface AttentionContext {
  focused: boolean;
  viewingRunId: string | null;
}

export const AWAITING_APPROVAL = 'awaiting_approval';
/** States of a run in a turn (working or asking): leaving them for a resting state is news. */
const IN_TURN = new Set(['running', AWAITING_APPROVAL]);
const RESTING = new Set(['idle', 'completed', 'failed', 'stopped', 'interrupted']);
/** An agent that was starting and is ready (idle) is no news; one that could not start is. */
const FAILED_START = new Set(['failed', 'stopped']);

/** Runs waiting for a person: the tab title's and the badges' count. */
export function waitingCount(runs: Iterable<{ state: string }>): number {
  let count = 0;
  for (const run of runs) if (run.state === AWAITING_APPROVAL) count++;
  return count;
}

const nameOf = (run: AttentionRun) => run.title ?? run.id;

/**
 * The notices a change of the run list calls for. `before` holds each run's previous state: a
 * run it does not know (first seen, e.g. in a snapshot after a reload) is not news. Nothing is
 * shown while the person is looking at Keel (its window focused): the run list, the pinned
 * approval and the tab title already say it — so a run the person is looking at never notifies.
 */
export function attentionNotices(before: ReadonlyMap<string, string>, runs: readonly AttentionRun[], context: AttentionContext): AttentionNotice[] {
  const notices: AttentionNotice[] = [];
  for (const run of runs) {
    const previous = before.get(run.id);
    if (previous === undefined || previous === run.state) continue;
    if (context.focused) continue;
    if (run.state === AWAITING_APPROVAL) {
      notices.push({ runId: run.id, kind: 'approval', title: 'Keel: an agent is waiting for you', body: `${nameOf(run)} asks for an approval.` });
    } else if ((IN_TURN.has(previous) && RESTING.has(run.state)) || (previous === 'starting' && FAILED_START.has(run.state))) {
      const stop = run.stopReason ? stopReasonInfo(run.stopReason) : null;
      if (stop === null || stop.family === 'completed') {
        notices.push({ runId: run.id, kind: 'finished', title: 'Keel: a run finished', body: `${nameOf(run)} finished its turn.` });
      } else {
        notices.push({ runId: run.id, kind: 'stopped', title: 'Keel: a run stopped', body: `${nameOf(run)} stopped: ${stop.diagnosis}` });
      }
    }
  }
  return notices;
}

/** The states to compare the next change with: `before` updated with `runs`. */
export function rememberStates(before: ReadonlyMap<string, string>, runs: readonly AttentionRun[]): Map<string, string> {
  const next = new Map(before);
  for (const run of runs) next.set(run.id, run.state);
  return next;
}
