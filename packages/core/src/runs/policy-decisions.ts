import type { AppendInput, ApprovalMode, ApprovalDecision } from '../contract/index.js';
import type { Decision, PermissionRequest } from './inputs.js';
import type { PolicyJudgement } from './policy-gate.js';

// The decider's policy rules (pure): what a judged request or an observed tool call records
// and does. The judgement itself comes with the input (runs/policy-gate.ts does the I/O).

type Event = Decision['events'][number];
const critical = (body: AppendInput): Event => ({ body, durability: 'critical' });
const inGeneration = (generation: number, body: AppendInput): AppendInput => ({ ...body, generation }) as AppendInput;

const ruleText = (judgement: PolicyJudgement) => (judgement.decided.rule ? `rule ${judgement.decided.rule}` : 'no rule');

/** The `policy.decided` event of a request. */
export function policyDecidedEvent(request: PermissionRequest & { policy: PolicyJudgement }): Event {
  return critical(inGeneration(request.generation, { type: 'policy.decided', payload: { ...request.policy.decided, approvalId: request.approvalId } }));
}

/**
 * A request the policy allows or denies is answered at once, recorded as `policy.decided`
 * (a deny also as a note in the transcript, with the rule and its why). Nothing overrides a
 * deny: not `--approve all`, not an earlier decision. An `ask` returns null: the approval
 * broker takes it.
 */
export function settleByPolicy(request: PermissionRequest & { policy: PolicyJudgement }): Decision | null {
  const { decided } = request.policy;
  if (decided.decision === 'ask') return null;
  const events = [policyDecidedEvent(request)];
  if (decided.decision === 'allow') {
    return { events, effects: [{ kind: 'answer', approvalId: request.approvalId, answer: 'allow_once', grant: request.action }] };
  }
  const text = `Policy denied "${request.action.title}" (${ruleText(request.policy)}): ${decided.why}`;
  events.push(critical(inGeneration(request.generation, { type: 'note', payload: { text: text.slice(0, 90_000) } })));
  return { events, effects: [{ kind: 'answer', approvalId: request.approvalId, answer: 'deny' }] };
}

/** How a run's approval mode answers a policy's `ask` (interactive: a person does). */
export function askAnsweredByMode(mode: ApprovalMode): ApprovalDecision | null {
  if (mode === 'interactive') return null;
  return mode === 'all' ? 'allow_once' : 'deny';
}

/**
 * A tool call the agent made without asking: recorded `observed`; one the policy would deny
 * is a violation, shown in the transcript, and with `on_violation: stop` the run stops.
 */
export function observedDecision(
  generation: number,
  judgement: PolicyJudgement,
  live: boolean,
  stop: (stopReason: string, detail: string) => Event[],
): Decision {
  const events: Event[] = [critical(inGeneration(generation, { type: 'policy.decided', payload: judgement.decided }))];
  if (!judgement.decided.violation) return { events, effects: [] };
  const stopping = judgement.onViolation === 'stop' && live;
  const text =
    `Policy violation: the agent did "${judgement.decided.action.title}" without asking, and the policy denies it (${ruleText(judgement)}: ${judgement.decided.why}).` +
    (stopping ? ' The policy says on_violation: stop, so Keel stopped the agent.' : '');
  events.push(critical(inGeneration(generation, { type: 'note', payload: { text: text.slice(0, 90_000) } })));
  if (!stopping) return { events, effects: [] };
  return { events: [...events, ...stop('policy_violation', text.slice(0, 4000))], effects: [{ kind: 'stop', generation }] };
}
