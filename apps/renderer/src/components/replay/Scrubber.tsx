import type { ReplayMarker, ReplayMarkerKind } from '@keel/core/contract';
import { useEffect, useRef, useState } from 'react';

const SPEEDS = [0.5, 1, 2, 5] as const;
/** Events per second at 1x. */
const BASE_RATE = 8;
export const MARKER_KINDS: ReadonlyArray<{ kind: ReplayMarkerKind; label: string }> = [
  { kind: 'turn', label: 'Turn' },
  { kind: 'approval', label: 'Approval' },
  { kind: 'restart', label: 'Restart' },
  { kind: 'error', label: 'Error' },
  { kind: 'checkpoint', label: 'Checkpoint' },
];

/** The nearest marker of `kind` after (or before) `seq`. */
export function jump(markers: readonly ReplayMarker[], kind: ReplayMarkerKind, seq: number, direction: 1 | -1): number | null {
  let best: number | null = null;
  for (const marker of markers) {
    if (marker.kind !== kind) continue;
    if (direction === 1 && marker.seq > seq && (best === null || marker.seq < best)) best = marker.seq;
    if (direction === -1 && marker.seq < seq && (best === null || marker.seq > best)) best = marker.seq;
  }
  return best;
}

/**
 * The timeline over seq: a slider (drag; arrow keys step one event, PageUp/PageDown ten), play
 * at 0.5x–5x, jumps to the previous / next marker of a kind, and the markers drawn on the track.
 */
export function Scrubber({ seq, lastSeq, markers, onSeq }: { seq: number; lastSeq: number; markers: readonly ReplayMarker[]; onSeq: (seq: number) => void }) {
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<(typeof SPEEDS)[number]>(1);
  const [kind, setKind] = useState<ReplayMarkerKind>('turn');
  const seqRef = useRef(seq);
  seqRef.current = seq;

  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => {
      const next = seqRef.current + 1;
      if (next > lastSeq) {
        setPlaying(false);
        return;
      }
      onSeq(next);
    }, 1000 / (BASE_RATE * speed));
    return () => clearInterval(timer);
  }, [playing, speed, lastSeq, onSeq]);

  const step = (delta: number) => onSeq(Math.max(0, Math.min(lastSeq, seq + delta)));
  const jumpTo = (direction: 1 | -1) => {
    const target = jump(markers, kind, seq, direction);
    if (target !== null) onSeq(target);
  };
  const width = Math.max(1, lastSeq);
  return (
    <div className="replay-scrubber" data-testid="replay-scrubber">
      <div className="replay-track">
        <input
          type="range"
          min={0}
          max={lastSeq}
          value={seq}
          aria-label="Event (seq)"
          data-testid="replay-slider"
          onChange={(event) => onSeq(Number(event.target.value))}
          onKeyDown={(event) => {
            if (event.key === 'PageUp' || event.key === 'PageDown') {
              event.preventDefault();
              step(event.key === 'PageUp' ? 10 : -10);
            }
          }}
        />
        <div className="replay-markers" aria-hidden="true">
          {markers.map((marker) => (
            <span
              key={`${marker.kind}-${marker.seq}`}
              className={`replay-marker replay-marker-${marker.kind}`}
              style={{ left: `${(marker.seq / width) * 100}%` }}
              title={`${marker.seq}: ${marker.label}`}
            />
          ))}
        </div>
      </div>
      <div className="replay-controls">
        <button type="button" onClick={() => step(-1)} disabled={seq <= 0} aria-label="Step back" data-testid="replay-back">
          ◀
        </button>
        <button type="button" onClick={() => setPlaying(!playing)} data-testid="replay-play" aria-pressed={playing}>
          {playing ? 'Pause' : 'Play'}
        </button>
        <button type="button" onClick={() => step(1)} disabled={seq >= lastSeq} aria-label="Step forward" data-testid="replay-forward">
          ▶
        </button>
        <label className="small">
          speed{' '}
          <select value={speed} onChange={(event) => setSpeed(Number(event.target.value) as (typeof SPEEDS)[number])} data-testid="replay-speed">
            {SPEEDS.map((value) => (
              <option key={value} value={value}>
                {value}x
              </option>
            ))}
          </select>
        </label>
        <span className="replay-jump">
          <button type="button" onClick={() => jumpTo(-1)} aria-label={`Previous ${kind}`} data-testid="replay-prev-marker">
            ‹ Prev
          </button>
          <select value={kind} onChange={(event) => setKind(event.target.value as ReplayMarkerKind)} aria-label="Marker kind" data-testid="replay-marker-kind">
            {MARKER_KINDS.map((entry) => (
              <option key={entry.kind} value={entry.kind}>
                {entry.label} ({markers.filter((marker) => marker.kind === entry.kind).length})
              </option>
            ))}
          </select>
          <button type="button" onClick={() => jumpTo(1)} aria-label={`Next ${kind}`} data-testid="replay-next-marker">
            Next ›
          </button>
        </span>
        <span className="replay-position" data-testid="replay-position">
          seq {seq} / {lastSeq}
        </span>
      </div>
    </div>
  );
}
