import { KeelRpcError } from '../contract/errors.js';
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import type { Ledger } from '../ledger/index.js';
import type { StreamSink } from './router.js';

/**
 * Events read from the ledger per step of history. A step runs in one event-loop turn, then
 * yields (other clients' calls get their turn); a pause mid-step drops the rest of the page,
 * read again on resume, so this also bounds the work thrown away (~250 short reads).
 */
export const HISTORY_PAGE = 250;

/**
 * `run.events` with backpressure: a run's events from `fromSeq`, in order, each exactly once,
 * then live ones. History is paged from the ledger only while the sink is not paused, so a
 * client that reads slowly (or not at all) makes the host wait instead of buffer. Once caught
 * up it follows live commits; if it then falls behind (a fast turn, a slow client) it leaves
 * the live feed and pages again from where it stopped once it has caught up — the ledger is
 * the buffer, not the socket.
 */
export function followRunEvents(ledger: Ledger, runId: string, fromSeq: number, sink: StreamSink<LedgerEvent>): () => void {
  let next = Math.max(1, fromSeq);
  let stopped = false;
  let step: ReturnType<typeof setImmediate> | null = null;
  let cancelWait: (() => void) | null = null;
  let stopLive: (() => void) | null = null;

  const send = (event: LedgerEvent) => {
    next = event.seq + 1;
    sink.next(event);
  };
  const waitThenPage = () => {
    cancelWait = sink.whenReady(() => {
      cancelWait = null;
      page();
    });
  };
  const fail = (error: unknown) => {
    stop();
    sink.end(new KeelRpcError('unavailable', `Could not read run ${runId}: ${error instanceof Error ? error.message : String(error)}`));
  };

  const page = () => {
    step = null;
    if (stopped) return;
    if (sink.paused) return waitThenPage();
    let events: LedgerEvent[];
    try {
      events = ledger.read(runId, { fromSeq: next, limit: HISTORY_PAGE });
    } catch (error) {
      return fail(error);
    }
    for (const event of events) {
      send(event);
      if (stopped) return;
      if (sink.paused) return waitThenPage();
    }
    if (events.length === HISTORY_PAGE) step = setImmediate(page);
    else goLive();
  };

  // Called in the same turn as the short read that found the end of history: nothing can commit
  // in between (commits and reads share this thread), and the ledger's own subscription delivers
  // from `next` — what was committed since, then live — without gaps or repeats.
  const goLive = () => {
    stopLive = ledger.subscribe(runId, next, (event) => {
      if (stopped || event.seq < next) return;
      send(event);
      if (stopped || !sink.paused) return;
      stopLive?.();
      stopLive = null;
      waitThenPage();
    });
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (step) clearImmediate(step);
    cancelWait?.();
    stopLive?.();
    step = null;
    cancelWait = null;
    stopLive = null;
  };

  step = setImmediate(page);
  return stop;
}
