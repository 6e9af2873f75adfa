import { createContext, memo, useContext, useDeferredValue, useEffect, useMemo, useRef, useState, type ComponentProps } from 'react';
import ReactMarkdown, { type Components, type ExtraProps } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { useExpanded } from '../../stores/ui.js';
import { CodeBlock } from './code/CodeBlock.js';
import { isCodeBlockComplete, languageOf } from './code/fence.js';
import { appendBlocks, BLOCKS_FROM, GROWING_QUIET_MS, LIVE_PLAIN_FROM, plainChunkStarts, plainTail, RELEX_MS, type SplitText } from './markdown-blocks.js';

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

/** One top-level block (or the whole text) as markdown: kept as rendered while its text is the same. */
const MarkdownBlock = memo(function MarkdownBlock({ text }: { text: string }) {
  return (
    <MarkdownSource.Provider value={text}>
      <ReactMarkdown remarkPlugins={remarkPlugins} components={components}>
        {text}
      </ReactMarkdown>
    </MarkdownSource.Provider>
  );
});

/** A part of a long plain-text tail (markdown-blocks.ts): laid out again only when it changes. */
const PlainChunk = memo(function PlainChunk({ text }: { text: string }) {
  return <div className="plain-chunk">{text}</div>;
});

/** A long block still growing (LIVE_PLAIN_FROM): plain text in chunks, so only the last chunk is laid out again. */
const GrowingBlock = memo(function GrowingBlock({ text }: { text: string }) {
  const starts = plainChunkStarts(text);
  return (
    <div className="plain growing" data-growing="true">
      {starts.map((at, index) => (
        <PlainChunk key={at} text={text.slice(at, starts[index + 1] ?? text.length)} />
      ))}
    </div>
  );
});

/**
 * When each message last grew (by its stateKey), across mounts: a row mounted again while its
 * text streams (the virtualizer, a refetched window's copy of the item) is still growing on its
 * first render, instead of parsing its long last block whole (a ~200 ms task). A few are kept.
 */
const lastGrowth = new Map<string, number>();
const GROWTH_KEPT = 32;

function noteGrowth(key: string, at: number): void {
  lastGrowth.delete(key);
  lastGrowth.set(key, at);
  if (lastGrowth.size > GROWTH_KEPT) lastGrowth.delete(lastGrowth.keys().next().value!);
}

/**
 * True while `text` keeps being appended to (a streamed message): it grew less than
 * GROWING_QUIET_MS ago, in this mount or an earlier one of the same message (`key`). Turns
 * false (re-rendering) once it has been quiet that long.
 */
function useGrowing(text: string, key: string): boolean {
  const last = useRef<{ text: string; grewAt: number | null } | null>(null);
  const [, setQuiet] = useState(0);
  const before = last.current;
  const now = Date.now();
  if (before === null || text !== before.text) {
    const appended = before !== null && text.startsWith(before.text);
    const recent = lastGrowth.get(key);
    const recentlyGrew = recent !== undefined && now - recent < GROWING_QUIET_MS;
    // A first render, or a text that was replaced rather than appended to, keeps the growth seen recently.
    const grewAt = appended ? now : recentlyGrew ? (before === null ? recent : now) : null;
    if (appended) noteGrowth(key, now);
    last.current = { text, grewAt };
  }
  const grewAt = last.current!.grewAt;
  const growing = grewAt !== null && now - grewAt < GROWING_QUIET_MS;
  useEffect(() => {
    if (!growing) return;
    const timer = setTimeout(() => setQuiet((n) => n + 1), GROWING_QUIET_MS - (Date.now() - grewAt!));
    return () => clearTimeout(timer);
  }, [text, growing, grewAt]);
  return growing;
}

export const Markdown = memo(function Markdown({ text, stateKey, blocksFrom = BLOCKS_FROM }: { text: string; stateKey: string; blocksFrom?: number }) {
  // While chunks stream in, re-render at React's pace rather than on every snapshot.
  const shown = useDeferredValue(text);
  const [all, setAll] = useExpanded(`${stateKey}:all`);
  const growing = useGrowing(shown, stateKey);
  // While the text is appended to, only its last block is split again (markdown-blocks.ts); a
  // long last block shown as plain text while it grows is split again at most every RELEX_MS.
  const split = useRef<(SplitText & { at: number }) | null>(null);
  const blocks = useMemo(() => {
    if (shown.length > MARKDOWN_LIMIT) return [];
    const before = split.current;
    const now = Date.now();
    const last = before?.blocks[before.blocks.length - 1];
    if (growing && before && last !== undefined && last.length >= LIVE_PLAIN_FROM && now - before.at < RELEX_MS && shown.startsWith(before.text)) {
      const next = [...before.blocks.slice(0, -1), last + shown.slice(before.text.length)];
      split.current = { text: shown, blocks: next, at: before.at };
      return next;
    }
    const next = appendBlocks(before, shown, blocksFrom);
    split.current = { text: shown, blocks: next, at: now };
    return next;
  }, [shown, blocksFrom, growing]);
  if (shown.length > MARKDOWN_LIMIT) {
    // The tail in chunks cut at line ends that stay put as text arrives: only the last one changes.
    const tail = all ? null : plainTail(shown, MARKDOWN_LIMIT);
    return (
      <div className="markdown plain" data-plain="true">
        <button type="button" className="link small long-text-toggle" onClick={() => setAll(!all)}>
          {tail
            ? `Showing the last ${(shown.length - tail.from).toLocaleString()} of ${shown.length.toLocaleString()} characters as plain text — show all`
            : `Show only the end (this message is ${shown.length.toLocaleString()} characters)`}
        </button>
        <div>
          {tail
            ? tail.chunks.map((chunk, index) => <PlainChunk key={chunk.at} text={index === 0 ? `…${chunk.text}` : chunk.text} />)
            : shown}
        </div>
      </div>
    );
  }
  return (
    <div className="markdown">
      {blocks.map((block, index) => (
        // Positional keys: appending text changes only the last blocks; the ones before keep their render.
        <div key={index} className="md-block" data-md-block="">
          {growing && index === blocks.length - 1 && block.length >= LIVE_PLAIN_FROM ? <GrowingBlock text={block} /> : <MarkdownBlock text={block} />}
        </div>
      ))}
    </div>
  );
});
