import { createContext, memo, useContext, useDeferredValue, type ComponentProps } from 'react';
import ReactMarkdown, { type Components, type ExtraProps } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { useExpanded } from '../../stores/ui.js';
import { CodeBlock } from './code/CodeBlock.js';
import { isCodeBlockComplete, languageOf } from './code/fence.js';

/** The markdown source being shown, so a code block can tell whether its closing fence has arrived. */
const MarkdownSource = createContext('');

type HastNode = { type: string; value?: string; tagName?: string; properties?: Record<string, unknown>; children?: HastNode[] };
const textOf = (node: HastNode): string => (node.type === 'text' ? (node.value ?? '') : (node.children ?? []).map(textOf).join(''));

/** A fenced or indented code block (`pre > code`), shown by CodeBlock with highlighting and a Copy button. */
function Pre({ node, children }: ComponentProps<'pre'> & ExtraProps) {
  const source = useContext(MarkdownSource);
  const code = ((node?.children ?? []) as HastNode[]).find((child) => child.type === 'element' && child.tagName === 'code');
  if (!code) return <pre>{children}</pre>;
  const start = node?.position?.start.offset;
  const end = node?.position?.end.offset;
  const complete = start !== undefined && end !== undefined && isCodeBlockComplete(source, start, end);
  return <CodeBlock code={textOf(code).replace(/\n$/, '')} lang={languageOf(code.properties?.className)} complete={complete} />;
}

/**
 * Agent text as markdown, with GitHub's extensions (tables, task lists, strikethrough,
 * autolinks). Raw HTML in it is never rendered (react-markdown without rehype-raw), link
 * targets pass react-markdown's URL filter, links open outside the app, and images are never
 * fetched (the CSP forbids remote images; a link stands in).
 */
const components: Components = {
  pre: Pre,
  // Wide tables scroll sideways inside the message instead of widening the transcript.
  table: ({ children }) => (
    <div className="md-table-wrap" data-testid="md-table">
      <table>{children}</table>
    </div>
  ),
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

const remarkPlugins = [remarkGfm];

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
      <MarkdownSource.Provider value={shown}>
        <ReactMarkdown remarkPlugins={remarkPlugins} components={components}>
          {shown}
        </ReactMarkdown>
      </MarkdownSource.Provider>
    </div>
  );
});
