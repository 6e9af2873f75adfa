import { loadEarlierItems, useTranscript } from '../../stores/transcript.js';

/** Height of the line above a windowed transcript's first loaded item (the list's top padding makes room for it). */
export const EARLIER_LINE_PX = 40;

/**
 * The line at the top of a windowed transcript (a long run opens with its newest items only):
 * how many earlier items there are, and whether they are loading. Scrolling to the top loads
 * them a page at a time; the button does the same, and retries after a failure.
 */
export function EarlierItems({ count }: { count: number }) {
  const earlier = useTranscript((state) => state.earlier);
  const error = useTranscript((state) => state.earlierError);
  const label = `${count.toLocaleString()} earlier ${count === 1 ? 'item' : 'items'}`;
  return (
    <div className="transcript-earlier muted small" style={{ height: EARLIER_LINE_PX }} data-testid="transcript-earlier" data-count={count} data-state={earlier} role="status">
      {earlier === 'loading' && <span>{label} — loading…</span>}
      {earlier === 'idle' && (
        <>
          <span>{label}</span>
          <button type="button" className="link" onClick={() => void loadEarlierItems()} data-testid="transcript-earlier-load">
            Load earlier
          </button>
        </>
      )}
      {earlier === 'failed' && (
        <>
          <span className="error">
            {label} could not be loaded: {error}
          </span>
          <button type="button" className="link" onClick={() => void loadEarlierItems()} data-testid="transcript-earlier-load">
            Retry
          </button>
        </>
      )}
    </div>
  );
}
