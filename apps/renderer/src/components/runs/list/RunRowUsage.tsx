import type { RunUsage } from '@keel/core/contract';
import { elapsedMs, formatCost, formatDuration, formatTokens, tokensDetail } from '../../../lib/usage-format.js';

/**
 * A run's usage in one line of its run list row ("1.23k tokens · $0.42 · 3 tools · 45 s"), from
 * the runs projection (the same steps as the header's fold, I9; nothing folded here). Tokens and
 * cost only as the agent reported them; nothing at all for a run that has not worked yet.
 */
export function RunRowUsage({ usage, now }: { usage: RunUsage | undefined; now: number }) {
  if (!usage) return null;
  const elapsed = elapsedMs(usage, now);
  const { tokens, cost, toolCalls } = usage;
  if (!tokens && cost.length === 0 && toolCalls === 0 && elapsed === 0 && usage.turnSince === null) return null;
  const parts: Array<{ key: string; text: string; title?: string }> = [];
  if (tokens) parts.push({ key: 'tokens', text: `${formatTokens(tokens.total)} tokens`, title: tokensDetail(tokens) });
  if (cost.length > 0) parts.push({ key: 'cost', text: cost.map(formatCost).join(' + '), title: 'As the agent reported it; Keel never estimates prices.' });
  parts.push({ key: 'tools', text: toolCalls === 1 ? '1 tool' : `${toolCalls} tools`, title: 'Tool calls the agent made' });
  parts.push({ key: 'time', text: formatDuration(elapsed), title: 'Time spent in turns, from each prompt to the end of its turn' });
  return (
    <div className="run-row-meta muted">
      {/* One span: the row's flex gap does not split the line; each part keeps its own tooltip. */}
      <span className="run-usage" data-testid="run-row-usage">
        {parts.map((part, index) => (
          <span key={part.key} data-usage={part.key} title={part.title}>
            {index > 0 && <span aria-hidden="true"> · </span>}
            {part.text}
          </span>
        ))}
      </span>
    </div>
  );
}
