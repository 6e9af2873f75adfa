import { memo, useDeferredValue } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import { useExpanded } from '../../stores/ui.js';

/**
 * Agent text as markdown. Raw HTML in it is shown as text (react-markdown without
 * rehype-raw), link targets pass react-markdown's URL filter, links open outside the app, and
 * images are never fetched (the CSP forbids remote images; a link stands in).
 */
const components: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    ) : (
      <span className="md-dead-link">{children}</span>
    ),
  img: ({ src, alt }) => (
    <a href={typeof src === 'string' ? src : undefined} target="_blank" rel="noopener noreferrer" className="md-image">
      [image{alt ? `: ${alt}` : ''}]
    </a>
  ),
};

/**
 * Past this size a message is shown as plain text, and only its last part until asked:
 * parsing and laying out a text that long again on every streamed chunk would cost more than
 * a frame, and one that long is rarely prose worth formatting.
 */
export const MARKDOWN_LIMIT = 40_000;

export const Markdown = memo(function Markdown({ text, stateKey }: { text: string; stateKey: string }) {
  // While chunks stream in, re-render at React's pace rather than on every snapshot.
  const shown = useDeferredValue(text);
  const [all, setAll] = useExpanded(`${stateKey}:all`);
  if (shown.length > MARKDOWN_LIMIT) {
    return (
      <div className="markdown plain" data-plain="true">
        <button type="button" className="link small long-text-toggle" onClick={() => setAll(!all)}>
          {all
            ? `Show only the end (this message is ${shown.length.toLocaleString()} characters)`
            : `Showing the last ${MARKDOWN_LIMIT.toLocaleString()} of ${shown.length.toLocaleString()} characters as plain text — show all`}
        </button>
        <div>{all ? shown : `…${shown.slice(-MARKDOWN_LIMIT)}`}</div>
      </div>
    );
  }
  return (
    <div className="markdown">
      <ReactMarkdown components={components}>{shown}</ReactMarkdown>
    </div>
  );
});
