import { stateLabel, stateTone } from '../lib/run-state.js';

export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span className={`state-badge tone-${stateTone(state)}`} data-state={state} data-testid={testId}>
      {stateLabel(state)}
    </span>
  );
}
