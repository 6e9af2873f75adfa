import type { KeelClient, RunView } from '@keel/core/contract';
import { RunViewFold } from '@keel/core/replay';
import { create } from 'zustand';
import { describeError } from '../lib/errors.js';
import { frameScheduler, type FrameScheduler } from '../lib/frames.js';

export type TranscriptStatus = 'idle' | 'loading' | 'live' | 'ended' | 'error';

interface TranscriptState {
  /** The run whose events are being folded; null when none is open. */
  runId: string | null;
  /**
   * Core's fold for this run (ADR 0003): every event received is pushed into it. Mutable and
   * not rendered directly; what components read is `view`.
   */
  folder: RunViewFold | null;
  /** Highest seq received; a resumed subscription asks from lastSeq + 1. */
  lastSeq: number;
  /** The latest snapshot of the folder, taken at most once per animation frame. */
  view: RunView | null;
  status: TranscriptStatus;
  error: string | null;
}

const CLOSED: TranscriptState = { runId: null, folder: null, lastSeq: 0, view: null, status: 'idle', error: null };

export const useTranscript = create<TranscriptState>(() => ({ ...CLOSED }));

export interface TranscriptFeed {
  /** Snapshot now instead of on the next frame (tests; a frame that never comes in a hidden tab). */
  flush(): void;
  close(): void;
}

export interface OpenTranscriptOptions {
  frames?: FrameScheduler;
}

let current: TranscriptFeed | null = null;

/**
 * Opens `run.events` for one run and folds it into the transcript store. The subscription's
 * params are a function, so after a reconnect the socket transport resumes from lastSeq + 1:
 * nothing lost, nothing twice (and the folder ignores a repeated seq anyway).
 * Opening another run closes the previous one.
 */
export function openTranscript(client: KeelClient, runId: string, options: OpenTranscriptOptions = {}): TranscriptFeed {
  current?.close();
  const frames = options.frames ?? frameScheduler();
  let folder = new RunViewFold(runId);
  let lastSeq = 0;
  let closed = false;
  let unsubscribe: () => void = () => {};
  useTranscript.setState({ runId, folder, lastSeq: 0, view: null, status: 'loading', error: null });

  const publish = () => {
    if (closed) return;
    const state = useTranscript.getState();
    useTranscript.setState({
      folder,
      view: folder.snapshot(),
      lastSeq,
      status: state.status === 'loading' ? 'live' : state.status,
    });
  };
  const schedule = frames.coalesce(publish);

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
        folder.push(event);
        schedule();
      },
      onEnd(error) {
        if (closed) return;
        schedule.flush();
        useTranscript.setState(error ? { status: 'error', error: describeError(error) } : { status: 'ended' });
      },
    });
  };

  // The host folds the history (one snapshot instead of every event over the wire), then the
  // stream continues from the snapshot's seq. Without a snapshot, the stream starts at seq 1.
  client.invoke('run.view', { runId }).then(
    (view) => {
      if (closed) return;
      folder = RunViewFold.fromView(view);
      lastSeq = view.lastSeq;
      publish();
      follow();
    },
    () => {
      if (closed) return;
      publish();
      follow();
    },
  );

  const feed: TranscriptFeed = {
    flush: () => schedule.flush(),
    close() {
      if (closed) return;
      closed = true;
      schedule.cancel();
      unsubscribe();
      if (current === feed) current = null;
      if (useTranscript.getState().folder === folder) useTranscript.setState({ ...CLOSED });
    },
  };
  current = feed;
  return feed;
}
