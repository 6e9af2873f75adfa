import { MAX_VIEW_WINDOW_ITEMS, type KeelClient, type LedgerEvent, type RunView, type RunViewWindow, type TranscriptItem } from '@keel/core/contract';
import { RunViewFold } from '@keel/core/replay';
import { create } from 'zustand';
import { describeError } from '../lib/errors.js';
import { frameScheduler, type FrameScheduler } from '../lib/frames.js';
import { changesUnknown, noteKeys, windowKeys, type WindowKey } from './window-keys.js';

export type TranscriptStatus = 'idle' | 'loading' | 'live' | 'ended' | 'error';

interface TranscriptState {
  /** The run whose events are being folded; null when none is open. */
  runId: string | null;
  /**
   * Core's fold for this run (ADR 0003): every event received is pushed into it. Mutable and
   * not rendered directly; what components read is `view`. On a long run it holds the window
   * the host sent (the newest items), not the whole transcript.
   */
  folder: RunViewFold | null;
  /** Highest seq received; a resumed subscription asks from lastSeq + 1. */
  lastSeq: number;
  /**
   * The latest snapshot, taken at most once per animation frame. Its head is the whole run's;
   * its `items` are the loaded part of the transcript: items `itemsFrom`.. of the whole.
   */
  view: RunView | null;
  /** How many of the run's first transcript items are not loaded (0: `view.items` is the whole transcript). */
  itemsFrom: number;
  /** An earlier page is being asked for, or the last ask failed (with why). */
  earlier: 'idle' | 'loading' | 'failed';
  earlierError: string | null;
  status: TranscriptStatus;
  error: string | null;
}

const CLOSED: TranscriptState = {
  runId: null,
  folder: null,
  lastSeq: 0,
  view: null,
  itemsFrom: 0,
  earlier: 'idle',
  earlierError: null,
  status: 'idle',
  error: null,
};

export const useTranscript = create<TranscriptState>(() => ({ ...CLOSED }));

export interface TranscriptFeed {
  /** Snapshot now instead of on the next frame (tests; a frame that never comes in a hidden tab). */
  flush(): void;
  /** Loads the page of (up to MAX_VIEW_WINDOW_ITEMS) items just before the loaded ones; resolves when shown. */
  loadEarlier(): Promise<void>;
  close(): void;
}

export interface OpenTranscriptOptions {
  frames?: FrameScheduler;
}

let current: TranscriptFeed | null = null;

/**
 * Taking the host's fold again happens at most this often: an old item that keeps changing (a
 * long tool call streaming output after 2,000 newer items) makes the view lag by up to this much
 * instead of asking the host for a window per event.
 */
export const RESYNC_GAP_MS = 1_000;

/** A failed re-fetch is tried again after RESYNC_GAP_MS, doubling per failure up to this. */
export const RESYNC_RETRY_MAX_MS = 30_000;

/**
 * Pages of earlier items asked for at once: the host refuses more than 64 calls in flight per
 * connection, and a re-fetch of a long run's loaded pages can be more than that.
 */
export const PAGES_IN_FLIGHT = 4;

/** Loads the page of earlier items of the open transcript (the top line's button, scrolling to the top, search). */
export function loadEarlierItems(): Promise<void> {
  return current?.loadEarlier() ?? Promise.resolve();
}

/**
 * Opens one run's transcript: the host's folded view with a window of its newest items
 * (`run.viewWindow`: a run of a million events opens without sending its whole transcript), then
 * `run.events` from the window's lastSeq + 1, folded on top of it. The subscription's params are
 * a function, so after a reconnect the socket transport resumes from lastSeq + 1: nothing lost,
 * nothing twice (and the folder ignores a repeated seq anyway). Earlier items come a page at a
 * time on request, as the host's fold has them; item positions never change, so a page lines up
 * with what is loaded. Opening another run closes the previous one.
 *
 * The live fold knows only the window's items. An event that changes an item before the window
 * (rare: an old tool call updated, an old approval settled) is not folded here: the store takes
 * the host's fold again (window and loaded pages; see window-keys.ts), so nothing goes missing.
 * Known limitation (ADR 0023): a `tool.started` restating a call more than the window back shows
 * a second card until the run is reopened.
 */
export function openTranscript(client: KeelClient, runId: string, options: OpenTranscriptOptions = {}): TranscriptFeed {
  current?.close();
  const frames = options.frames ?? frameScheduler();
  let folder = new RunViewFold(runId);
  /** Whole-transcript index of the folder's first item; items before it are `earlier` (loaded) or not loaded. */
  let windowFrom = 0;
  /** Items `loadedFrom`..`windowFrom` of the whole, as the host's fold had them when asked. */
  let earlier: TranscriptItem[] = [];
  let loadedFrom = 0;
  /** The window's keyed items, while there is anything before the window. */
  let known = new Set<WindowKey>();
  let lastSeq = 0;
  let closed = false;
  /** Bumped when the host's fold is taken again: a page asked for before that is dropped. */
  let epoch = 0;
  /** Events received while the host's fold is being taken again; folded on top of it after. */
  let held: LedgerEvent[] | null = null;
  let retryOnNext = false;
  /** Re-fetches failed in a row (the retry timer's backoff), and that timer. */
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let lastResync = 0;
  let earlierLoad: Promise<void> | null = null;
  let unsubscribe: () => void = () => {};
  useTranscript.setState({ ...CLOSED, runId, folder, status: 'loading' });

  const publish = () => {
    if (closed) return;
    const state = useTranscript.getState();
    const snapshot = folder.snapshot();
    useTranscript.setState({
      folder,
      view: earlier.length === 0 ? snapshot : { ...snapshot, items: earlier.concat(snapshot.items) },
      itemsFrom: loadedFrom,
      lastSeq,
      status: state.status === 'loading' ? 'live' : state.status,
    });
  };
  const schedule = frames.coalesce(publish);

  /** Folds one event on the window, or holds it (and what follows) while the host's fold is taken again. */
  const receive = (event: LedgerEvent) => {
    if (held !== null) {
      held.push(event);
      if (retryOnNext) void resync();
      return;
    }
    if (windowFrom > 0) {
      if (changesUnknown(event, known)) {
        held = [event];
        const wait = lastResync + RESYNC_GAP_MS - Date.now();
        if (wait > 0) setTimeout(() => void resync(), wait);
        else void resync();
        return;
      }
      noteKeys(event, known);
    }
    folder.push(event);
    schedule();
  };

  const startWindow = (window: RunViewWindow) => {
    folder = RunViewFold.fromView(window.view);
    windowFrom = window.itemsFrom;
    known = windowFrom > 0 ? windowKeys(window.view.items) : new Set();
  };

  /** Items `from`..`to` of the whole, from the host's fold, in pages. */
  const fetchItems = async (from: number, to: number): Promise<TranscriptItem[]> => {
    const starts: number[] = [];
    for (let at = from; at < to; at += MAX_VIEW_WINDOW_ITEMS) starts.push(at);
    const pages: TranscriptItem[][] = [];
    // PAGES_IN_FLIGHT asks at a time, taking pages in order; the first failure stops the rest.
    let next = 0;
    let failed = false;
    const ask = async () => {
      while (!failed && !closed && next < starts.length) {
        const index = next++;
        const at = starts[index]!;
        try {
          const page = await client.invoke('run.viewWindow', { runId, itemsFrom: at, itemsLimit: Math.min(MAX_VIEW_WINDOW_ITEMS, to - at) });
          pages[index] = page.view.items;
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PAGES_IN_FLIGHT, starts.length) }, ask));
    return pages.flat();
  };

  /**
   * Takes the host's fold again: its newest window (the host has folded every event received
   * here, so the window's lastSeq covers them) and the pages loaded before it, then folds the
   * events that came meanwhile. If asking fails, asks again on the next live event or after a
   * backoff (RESYNC_GAP_MS, doubling, up to RESYNC_RETRY_MAX_MS), whichever comes first.
   */
  const resync = async () => {
    if (closed) return;
    const mine = ++epoch;
    retryOnNext = false;
    if (retryTimer !== null) clearTimeout(retryTimer);
    retryTimer = null;
    lastResync = Date.now();
    earlierLoad = null;
    try {
      const window = await client.invoke('run.viewWindow', { runId });
      const before = await fetchItems(Math.min(loadedFrom, window.itemsFrom), window.itemsFrom);
      if (closed || mine !== epoch) return;
      startWindow(window);
      earlier = before;
      loadedFrom = window.itemsFrom - before.length;
      // The host's window may have folded events the stream has not sent here yet: they are
      // dropped when they come, as repeats (not pushed on the folder as out of order).
      lastSeq = Math.max(lastSeq, window.view.lastSeq);
      failures = 0;
      const pending = held ?? [];
      held = null;
      useTranscript.setState({ earlier: 'idle', earlierError: null });
      schedule();
      for (const event of pending) if (event.seq > window.view.lastSeq) receive(event);
    } catch (failure: unknown) {
      // Keep holding the events: the next one received, or the retry timer, asks again.
      if (closed || mine !== epoch) return;
      retryOnNext = true;
      retryTimer = setTimeout(() => {
        retryTimer = null;
        if (!closed && mine === epoch && retryOnNext) void resync();
      }, Math.min(RESYNC_GAP_MS * 2 ** failures, RESYNC_RETRY_MAX_MS));
      failures++;
      // An earlier page being loaded was dropped with the loaded range: say it did not load.
      if (useTranscript.getState().earlier === 'loading') useTranscript.setState({ earlier: 'failed', earlierError: describeError(failure) });
    }
  };

  const follow = () => {
    unsubscribe = client.subscribe('run.events', () => ({ runId, fromSeq: lastSeq + 1 }), {
      onEvent(event) {
        // A seq already folded is the transport repeating itself (a resumed stream that
        // overlaps): drop it here so the view stays exactly the fold of the ledger.
        if (closed) return;
        if (Number.isInteger(event.seq)) {
          if (event.seq <= lastSeq) return;
          lastSeq = event.seq;
        }
        receive(event);
      },
      onEnd(error) {
        if (closed) return;
        schedule.flush();
        useTranscript.setState(error ? { status: 'error', error: describeError(error) } : { status: 'ended' });
      },
    });
  };

  // The host folds the history and sends its newest items (one snapshot instead of every event
  // over the wire), then the stream continues from the snapshot's seq. Without a snapshot, the
  // stream starts at seq 1.
  client.invoke('run.viewWindow', { runId }).then(
    (window) => {
      if (closed) return;
      startWindow(window);
      loadedFrom = windowFrom;
      lastSeq = window.view.lastSeq;
      publish();
      follow();
    },
    () => {
      if (closed) return;
      publish();
      follow();
    },
  );

  const loadEarlier = (): Promise<void> => {
    // While the host's fold is taken again, the loaded range is being replaced: ask after.
    if (closed || loadedFrom === 0) return Promise.resolve();
    if (held !== null) {
      // The top line's retry after a failed re-fetch asks again now (not scrolling or search,
      // which ask only while `earlier` is idle: they wait for the backoff).
      if (retryOnNext && useTranscript.getState().earlier === 'failed') {
        useTranscript.setState({ earlier: 'loading', earlierError: null });
        void resync();
      }
      return Promise.resolve();
    }
    if (earlierLoad) return earlierLoad;
    const mine = epoch;
    const to = loadedFrom;
    const from = Math.max(0, to - MAX_VIEW_WINDOW_ITEMS);
    useTranscript.setState({ earlier: 'loading', earlierError: null });
    const load = fetchItems(from, to).then(
      (page) => {
        if (closed || mine !== epoch || earlierLoad !== load) return;
        earlierLoad = null;
        earlier = page.concat(earlier);
        loadedFrom = to - page.length;
        useTranscript.setState({ earlier: 'idle' });
        schedule.cancel();
        publish();
      },
      (failure: unknown) => {
        if (closed || earlierLoad !== load) return;
        earlierLoad = null;
        useTranscript.setState({ earlier: 'failed', earlierError: describeError(failure) });
      },
    );
    earlierLoad = load;
    return load;
  };

  const feed: TranscriptFeed = {
    flush: () => schedule.flush(),
    loadEarlier,
    close() {
      if (closed) return;
      closed = true;
      schedule.cancel();
      if (retryTimer !== null) clearTimeout(retryTimer);
      unsubscribe();
      if (current === feed) current = null;
      if (useTranscript.getState().folder === folder) useTranscript.setState({ ...CLOSED });
    },
  };
  current = feed;
  return feed;
}
