import { useExpanded } from '../../stores/ui.js';
import { Disclosure } from './Disclosure.js';

/** Lines shown while collapsed: the tail is what matters while a command runs. */
export const TAIL_LINES = 3;
/** Longest output rendered at once; the rest is summarised (the full text stays in the ledger). */
const MAX_CHARS = 200_000;

/**
 * Command or tool output. Short output (up to TAIL_LINES lines) is simply shown, with no toggle.
 * Longer output shows its last lines while collapsed and says so next to the arrow, so the arrow
 * never sits beside content it claims to hide; open, all of it (up to a bound).
 * `hiddenWhenClosed`: show nothing while collapsed (the output is already visible elsewhere).
 */
export function OutputBlock({
  output,
  stateKey,
  label,
  defaultOpen = false,
  hiddenWhenClosed = false,
}: {
  output: string;
  stateKey: string;
  label: string;
  defaultOpen?: boolean;
  hiddenWhenClosed?: boolean;
}) {
  const lines = output.replace(/\n$/, '').split('\n');
  const clipped = output.length > MAX_CHARS;
  const [open] = useExpanded(stateKey, defaultOpen);
  const count = `${lines.length} line${lines.length === 1 ? '' : 's'}`;
  if (!hiddenWhenClosed && lines.length <= TAIL_LINES && !clipped) {
    return (
      <div className="output-block output-short" data-testid="output" data-open="true">
        <div className="muted small output-label">
          {label} · {count}
        </div>
        <pre className="code-block output">{lines.join('\n')}</pre>
      </div>
    );
  }
  const closedSummary = hiddenWhenClosed ? `${label} · ${count} · show` : `${label} · last ${TAIL_LINES} of ${count} · show all`;
  return (
    <Disclosure
      stateKey={stateKey}
      defaultOpen={defaultOpen}
      className="output-block"
      testId="output"
      summary={<span className="muted small">{open ? `${label} · ${count}` : closedSummary}</span>}
      preview={hiddenWhenClosed ? undefined : <pre className="code-block output faded">{lines.slice(-TAIL_LINES).join('\n')}</pre>}
    >
      {clipped && <p className="muted small">Showing the last {MAX_CHARS.toLocaleString()} characters of {output.length.toLocaleString()}.</p>}
      <pre className="code-block output">{clipped ? output.slice(-MAX_CHARS) : output}</pre>
    </Disclosure>
  );
}
