/** Words for run states; the state names themselves come from the contract. */
export const STATE_LABEL: Record<string, string> = {
  created: 'New',
  starting: 'Starting',
  idle: 'Idle',
  running: 'Running',
  awaiting_approval: 'Needs approval',
  interrupted: 'Interrupted',
  stopped: 'Stopped',
  completed: 'Completed',
  failed: 'Failed',
};

export const stateLabel = (state: string) => STATE_LABEL[state] ?? state;

/** A coarse tone for a state badge. */
export function stateTone(state: string): 'active' | 'attention' | 'ok' | 'bad' | 'neutral' {
  switch (state) {
    case 'starting':
    case 'running':
      return 'active';
    case 'awaiting_approval':
    case 'interrupted':
      return 'attention';
    case 'completed':
      return 'ok';
    case 'failed':
    case 'stopped':
      return 'bad';
    default:
      return 'neutral';
  }
}
