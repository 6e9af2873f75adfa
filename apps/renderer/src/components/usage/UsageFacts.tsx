import type { RunUsage } from '@keel/core/contract';
import { useNow } from '../../lib/time.js';
import { elapsedMs, formatCost, formatDuration, formatTokens, tokensDetail } from '../../lib/usage-format.js';

/**
 * A run's usage in the header's facts (one <div> per fact, for the run-facts list): tokens and
 * cost only as the agent reported them (never estimated), the context window, the time spent
 * in turns and the tool calls. The numbers are core's fold (I9).
 */
export function UsageFacts({ usage }: { usage: RunUsage }) {
  // The running turn's time moves every second; between turns nothing moves.
  const now = useNow(usage.turnSince === null ? 60_000 : 1_000);
  const { tokens, cost, context } = usage;
  return (
    <>
      <div title={tokens ? tokensDetail(tokens) : 'The agent has not reported token usage.'}>
        <dt>tokens</dt>
        <dd data-testid="run-tokens">{tokens ? `${formatTokens(tokens.input)} in · ${formatTokens(tokens.output)} out` : '—'}</dd>
      </div>
      {cost.length > 0 && (
        <div title="As the agent reported it; Keel never estimates prices.">
          <dt>cost</dt>
          <dd data-testid="run-cost">{cost.map(formatCost).join(' + ')}</dd>
        </div>
      )}
      {context && context.size > 0 && (
        <div title={`${context.used.toLocaleString()} of ${context.size.toLocaleString()} tokens in the agent's context window`}>
          <dt>context</dt>
          <dd data-testid="run-context">{Math.round((context.used / context.size) * 100)}%</dd>
        </div>
      )}
      <div title="Time spent in turns, from each prompt to the end of its turn.">
        <dt>time</dt>
        <dd data-testid="run-duration">{formatDuration(elapsedMs(usage, now))}</dd>
      </div>
      <div>
        <dt>tool calls</dt>
        <dd data-testid="run-tool-calls">{usage.toolCalls}</dd>
      </div>
    </>
  );
}
