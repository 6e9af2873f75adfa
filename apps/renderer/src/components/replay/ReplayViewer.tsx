import {
  MAX_REPLAY_WINDOW_ITEMS,
  REPLAY_WINDOW_ITEMS,
  type ReplayEventRow,
  type ReplayIndexProgress,
  type ReplaySource,
  type ReplayTimeline,
  type RunView,
} from '@keel/core/contract';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';
import { itemSeq, TranscriptItemView } from '../items/TranscriptItemView.js';
import { EventInspector } from './EventInspector.js';
import { ExportDiagnosticsButton } from './ExportDiagnostics.js';
import { Scrubber } from './Scrubber.js';
import { useReplay } from './replay-store.js';

/** Loads the timeline of `source`, and again whenever `refreshKey` changes (a live run grows). */
function useTimeline(source: ReplaySource): { timeline: ReplayTimeline | null; error: string | null } {
  const { client } = useKeel();
  const [timeline, setTimeline] = useState<ReplayTimeline | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client
      .invoke('replay.open', source)
      .then((opened) => live && (setTimeline(opened), setError(null)))
      .catch((failure: unknown) => live && setError(describeError(failure)));
    return () => {
      live = false;
    };
  }, [client, source]);
  return { timeline, error };
}

interface StateAt {
  view: RunView | null;
  /** Transcript items at this seq in all; `view.items` are the last `limit` of them. */
  itemCount: number;
  row: ReplayEventRow | null;
  error: string | null;
}

/** The view (its last `limit` transcript items) and the raw record at `seq`, latest request wins (a drag sends many). */
function useStateAt(source: ReplaySource, seq: number | null, limit: number): StateAt {
  const { client } = useKeel();
  const [state, setState] = useState<StateAt>({ view: null, itemCount: 0, row: null, error: null });
  const latest = useRef(0);
  useEffect(() => {
    if (seq === null) return;
    const ask = ++latest.current;
    Promise.all([
      client.invoke('replay.stateAt', { ...source, seq, itemsLimit: limit }),
      seq > 0 ? client.invoke('replay.events', { ...source, fromSeq: seq, limit: 1 }) : Promise.resolve({ rows: [], lastSeq: 0 }),
    ])
      .then(([at, page]) => {
        if (ask === latest.current) setState({ view: at.view, itemCount: at.itemCount, row: page.rows[0] ?? null, error: null });
      })
      .catch((failure: unknown) => {
        if (ask === latest.current) setState((previous) => ({ ...previous, error: describeError(failure) }));
      });
  }, [client, source, seq, limit]);
  return state;
}

/**
 * How far the host's index of the run has got (`replay.progress`), while the viewer waits for
 * the timeline; mounted only meanwhile, so the subscription ends when the timeline arrives.
 */
function IndexProgress({ source }: { source: ReplaySource }) {
  const { client } = useKeel();
  const [progress, setProgress] = useState<ReplayIndexProgress | null>(null);
  useEffect(() => client.subscribe('replay.progress', source, { onEvent: setProgress }), [client, source]);
  // Idle (the host has not begun) or nothing to count: the sentence above says enough.
  if (!progress || progress.state === 'idle' || progress.eventsTotal === 0) return null;
  const { eventsRead, eventsTotal } = progress;
  const percent = Math.floor((eventsRead / eventsTotal) * 100);
  return (
    <div className="replay-index-progress" data-testid="replay-progress">
      <progress max={eventsTotal} value={eventsRead} aria-label="Events checked" data-testid="replay-progress-bar" />
      <span data-testid="replay-progress-text">
        Checked {eventsRead.toLocaleString()} of {eventsTotal.toLocaleString()} events ({percent} %)
      </span>
    </div>
  );
}

/** Replay mode: any run (live, finished, quarantined, imported) scrubbed event by event. */
export function ReplayViewer({ source }: { source: ReplaySource }) {
  const { seq: wanted, setSeq, close } = useReplay();
  const { timeline, error } = useTimeline(source);
  const seq = timeline ? Math.min(wanted ?? timeline.lastSeq, timeline.lastSeq) : null;
  const [limit, setLimit] = useState(REPLAY_WINDOW_ITEMS);
  const { view, itemCount, row, error: stateError } = useStateAt(source, seq, limit);
  const onSeq = useCallback((next: number) => setSeq(next), [setSeq]);
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => dialog.current?.focus(), []);

  return (
    <div
      className="replay-overlay"
      role="dialog"
      aria-modal="true"
      aria-label="Replay"
      data-testid="replay-viewer"
      tabIndex={-1}
      ref={dialog}
      onKeyDown={(event) => {
        if (event.key === 'Escape') close();
        const target = event.target as HTMLElement;
        if (!timeline || seq === null || target.tagName === 'SELECT' || target.tagName === 'INPUT') return;
        if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
          event.preventDefault();
          onSeq(Math.max(0, Math.min(timeline.lastSeq, seq + (event.key === 'ArrowRight' ? 1 : -1))));
        }
      }}
    >
      <div className="replay-head">
        <h3>
          Replay <code>{source.runId}</code>
          {source.bundleId && <span className="flag">imported · read-only</span>}
          {timeline?.readOnly && !source.bundleId && <span className="flag">read-only</span>}
        </h3>
        <span className="replay-head-actions">
          {!source.bundleId && <ExportDiagnosticsButton runId={source.runId} />}
          <button type="button" onClick={close} data-testid="replay-close">
            Close
          </button>
        </span>
      </div>
      {error && <div className="status-failed">{error}</div>}
      {!timeline && !error && (
        // A long run's first replay reads and checks every event (seconds for a million): say so.
        <div className="muted replay-loading" role="status" data-testid="replay-loading">
          <div>Reading the run’s events and checking their hash chain…</div>
          <IndexProgress source={source} />
        </div>
      )}
      {stateError && <div className="status-failed">{stateError}</div>}
      {timeline && seq !== null && (
        <>
          <Scrubber seq={seq} lastSeq={timeline.lastSeq} markers={timeline.markers} onSeq={onSeq} />
          {timeline.chain.firstBadSeq !== null && (
            <div className="status-failed small">The hash chain breaks at seq {timeline.chain.firstBadSeq}: records from there on are not verified.</div>
          )}
          <div className="replay-body">
            <section className="replay-transcript" aria-label={`Transcript at seq ${seq}`} data-testid="replay-transcript">
              {view && (
                <>
                  <div className="muted small" data-testid="replay-state">
                    state {view.state} · turn {view.currentTurn} · {view.eventCount} events folded
                  </div>
                  {view.items.length === 0 && <div className="muted">Nothing yet at this point.</div>}
                  {itemCount > view.items.length && (
                    <div className="muted small" data-testid="replay-window">
                      the last {view.items.length} of {itemCount} transcript items{' '}
                      {limit < MAX_REPLAY_WINDOW_ITEMS && (
                        <button type="button" className="link" onClick={() => setLimit(Math.min(MAX_REPLAY_WINDOW_ITEMS, limit + REPLAY_WINDOW_ITEMS))}>
                          show {REPLAY_WINDOW_ITEMS} earlier
                        </button>
                      )}
                    </div>
                  )}
                  {view.items.map((item) => (
                    <TranscriptItemView key={`${item.kind}-${itemSeq(item)}`} item={item} context={{ runId: source.runId, readOnly: 'replay' }} />
                  ))}
                </>
              )}
            </section>
            <EventInspector row={row} />
          </div>
        </>
      )}
    </div>
  );
}
