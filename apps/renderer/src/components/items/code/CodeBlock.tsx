import { Fragment, memo, useEffect, useMemo, useState, type CSSProperties } from 'react';
import { CopyButton } from './CopyButton.js';
import { highlighterIfLoaded, loadHighlighter, type HighlightedLines } from './highlighter.js';
import './code.css';

/**
 * A fenced code block: plain text at once, coloured when the (lazily loaded) highlighter has
 * arrived and the block is complete. The coloured version holds exactly the same text in the
 * same font, so nothing moves when it swaps in. A block still streaming is never tokenized
 * (its text changes with every chunk); a finished one is tokenized once (memo + cache).
 */
export const CodeBlock = memo(function CodeBlock({ code, lang, complete }: { code: string; lang: string | null; complete: boolean }) {
  // The language the highlighter is known to be ready for (its grammar loaded).
  const [readyFor, setReadyFor] = useState<string | null>(() => (highlighterIfLoaded(lang) ? lang : null));
  useEffect(() => {
    if (!complete || lang === null || readyFor === lang) return;
    if (highlighterIfLoaded(lang)) return setReadyFor(lang);
    let alive = true;
    void loadHighlighter(lang).then((loaded) => {
      if (alive && loaded) setReadyFor(lang);
    });
    return () => {
      alive = false;
    };
  }, [complete, lang, readyFor]);
  const lines = useMemo(() => {
    if (!complete || lang === null || readyFor !== lang) return null;
    return highlighterIfLoaded(lang)?.highlight(code, lang) ?? null;
  }, [complete, readyFor, code, lang]);
  return (
    <div className="md-code" data-testid="code-block" data-lang={lang ?? ''} data-highlighted={lines ? 'true' : 'false'}>
      <div className="md-code-bar">
        <span className="code-lang">{lang ?? 'text'}</span>
        <CopyButton text={code} />
      </div>
      <pre className="md-code-pre">
        <code>{lines ? <Tokens lines={lines} /> : code}</code>
      </pre>
    </div>
  );
});

function Tokens({ lines }: { lines: HighlightedLines }) {
  return lines.map((line, index) => (
    <Fragment key={index}>
      {line.map((token, at) => (
        <span key={at} className="tok" style={{ color: token.light, '--tok-dark': token.dark } as CSSProperties}>
          {token.content}
        </span>
      ))}
      {index < lines.length - 1 ? '\n' : null}
    </Fragment>
  ));
}
