import { useEffect, useRef } from 'react';
import { loadEarlierItems, useTranscript } from '../../../stores/transcript.js';
import { describeCount } from './search-index.js';
import { useSearchUi } from './search-ui.js';
import type { TranscriptSearch } from './use-transcript-search.js';

/**
 * The transcript's find bar: Enter / Shift+Enter for the next / previous match, Esc to close,
 * and where you are ("3 of 12"). On a windowed transcript, `notSearched` earlier items are not
 * loaded yet: they load while the search is open, and the bar says so (or why they could not).
 */
export function SearchBar({ search, notSearched = 0, onClose }: { search: TranscriptSearch; notSearched?: number; onClose: () => void }) {
  const earlier = useTranscript((state) => state.earlier);
  const input = useRef<HTMLInputElement>(null);
  const focusRequest = useSearchUi((state) => state.focusRequest);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, [focusRequest]);
  const hasQuery = search.query.trim() !== '';
  const none = hasQuery && !search.pending && search.matches.total === 0;
  return (
    <div className="transcript-search" role="search" data-testid="transcript-search">
      <input
        ref={input}
        type="text"
        className={none ? 'no-results' : undefined}
        value={search.query}
        placeholder="Find in this transcript"
        aria-label="Find in this transcript"
        spellCheck={false}
        onChange={(event) => search.setQuery(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter') {
            event.preventDefault();
            search.enter(event.shiftKey);
          } else if (event.key === 'Escape') {
            event.preventDefault();
            event.stopPropagation();
            onClose();
          }
        }}
        data-testid="transcript-search-input"
      />
      <span className="search-count muted small" aria-live="polite" data-testid="transcript-search-count">
        {hasQuery ? (search.pending ? 'Searching…' : describeCount(search.matches, search.current)) : ''}
      </span>
      <button type="button" className="icon" onClick={search.previous} disabled={search.matches.kept === 0} title="Previous match (Shift+Enter)" aria-label="Previous match">
        ↑
      </button>
      <button type="button" className="icon" onClick={search.next} disabled={search.matches.kept === 0} title="Next match (Enter)" aria-label="Next match">
        ↓
      </button>
      <button type="button" className="icon" onClick={onClose} title="Close (Esc)" aria-label="Close search" data-testid="transcript-search-close">
        ×
      </button>
      {notSearched > 0 && (
        <span className="search-earlier muted small" data-testid="transcript-search-earlier" data-count={notSearched}>
          {earlier === 'failed' ? (
            <>
              {notSearched.toLocaleString()} earlier items not searched: they could not be loaded.{' '}
              <button type="button" className="link" onClick={() => void loadEarlierItems()}>
                Retry
              </button>
            </>
          ) : (
            `Loading ${notSearched.toLocaleString()} earlier items to search them too…`
          )}
        </span>
      )}
    </div>
  );
}
