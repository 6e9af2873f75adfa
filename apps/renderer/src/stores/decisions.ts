import type { ApprovalDecision, KeelClient } from '@keel/core/contract';
import { create } from 'zustand';
import { describeError } from '../lib/errors.js';

/**
 * Decisions on their way to the host, and the ones the host refused. What was decided is
 * not kept here: it arrives as an `approval.decided` event and shows through the view.
 */
interface DecisionsState {
  inFlight: Record<string, ApprovalDecision>;
  errors: Record<string, string>;
}

export const useDecisions = create<DecisionsState>(() => ({ inFlight: {}, errors: {} }));

const key = (runId: string, approvalId: string) => `${runId}/${approvalId}`;

export const useDecisionState = (runId: string, approvalId: string) => {
  const k = key(runId, approvalId);
  const inFlight = useDecisions((state) => state.inFlight[k] ?? null);
  const error = useDecisions((state) => state.errors[k] ?? null);
  return { inFlight, error };
};

/** Sends one decision (a second one for the same approval while the first is in flight is ignored). */
export async function decide(client: KeelClient, runId: string, approvalId: string, decision: ApprovalDecision): Promise<void> {
  const k = key(runId, approvalId);
  if (useDecisions.getState().inFlight[k]) return;
  useDecisions.setState((state) => ({ inFlight: { ...state.inFlight, [k]: decision }, errors: without(state.errors, k) }));
  try {
    await client.invoke('approval.decide', { runId, approvalId, decision });
  } catch (error) {
    useDecisions.setState((state) => ({ errors: { ...state.errors, [k]: describeError(error) } }));
  } finally {
    useDecisions.setState((state) => ({ inFlight: without(state.inFlight, k) }));
  }
}

function without<T>(record: Record<string, T>, k: string): Record<string, T> {
  if (!(k in record)) return record;
  const next = { ...record };
  delete next[k];
  return next;
}
