import { z } from 'zod';
import { AgentSpec } from './ledger.js';

/**
 * A person changed a run's agent (issue 15): the next start uses `agent`. `previous` keeps what
 * it was, so the ledger alone says which agent produced which turns. Lazy: ledger.ts spreads
 * these bodies into its EventBody while AgentSpec is defined there.
 */
export const RunAgentChangedPayload = z.object({
  agent: z.lazy(() => AgentSpec),
  previous: z.lazy(() => AgentSpec),
});

/** Run agent events, spread into the ledger's EventBody. */
export const runAgentEventBodies = [z.object({ type: z.literal('run.agent_changed'), payload: RunAgentChangedPayload })] as const;
