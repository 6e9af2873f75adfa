import { Disclosure } from './Disclosure.js';

/** Lines shown while collapsed: the tail is what matters while a command runs. */
const TAIL_LINES = 3;
/** Longest output rendered at once; the rest is summarised (the full text stays in the ledger). */
const MAX_CHARS = 200_000;

/** Command or tool output: the last lines while collapsed, all of it (up to a bound) when open. */
export function OutputBlock({ output, stateKey, label, defaultOpen = false }: { output: string; stateKey: string; label: string; defaultOpen?: boolean }) {
  const lines = output.replace(/\n$/, '').split('\n');
  const clipped = output.length > MAX_CHARS;
  return (
    <Disclosure
      stateKey={stateKey}
      defaultOpen={defaultOpen}
      className="output-block"
      testId="output"
      summary={
        <span className="muted small">
          {label} · {lines.length} line{lines.length === 1 ? '' : 's'}
        </span>
      }
      preview={lines.length > TAIL_LINES || clipped ? <pre className="code-block output faded">{lines.slice(-TAIL_LINES).join('\n')}</pre> : <pre className="code-block output">{lines.join('\n')}</pre>}
    >
      {clipped && <p className="muted small">Showing the last {MAX_CHARS.toLocaleString()} characters of {output.length.toLocaleString()}.</p>}
      <pre className="code-block output">{clipped ? output.slice(-MAX_CHARS) : output}</pre>
    </Disclosure>
  );
}
