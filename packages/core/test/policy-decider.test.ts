// The decider's policy rules, without spawning anything (ADR 0009): a judgement comes with the
// input; allow and deny answer at once and are no approvals; nothing overrides a deny; an ask
// is an approval carrying the rule and its why; an observed violation may stop the run.
import { describe, expect, it } from 'vitest';
import type { Action, ApprovalMode, PolicyDecidedPayload, PolicyDecision } from '../src/contract/index.js';
import { readRunState, type RunState } from '../src/replay/index.js';
import { actionKey, decide, idempotencyKey, type Decision, type PermissionRequest, type RuntimeFacts } from '../src/runs/index.js';
import type { PolicyJudgement } from '../src/runs/policy-gate.js';
import { events, step, type Step } from './fixtures/replay-kit.js';

const EXEC: Action = { kind: 'exec', title: 'Run the check', command: 'sh', args: ['-c', 'cat hello.txt'], cwd: '/ws' };
const HASH = 'f'.repeat(64);

const steps = (mode: ApprovalMode): Step[] => [
  step('run.created', { workspace: '/ws', agent: { kind: 'builtin' }, approvalMode: mode }),
  step('runtime.started', { generation: 1, pid: 101, command: ['agent'], hostPid: 1 }),
  step('session.bound', { generation: 1, sessionId: 's1', outcome: 'new', method: 'session/new', remapped: false }, 1),
  step('prompt.sent', { turn: 1, text: 'hi', ik: idempotencyKey({ runId: 'run-1', turn: 1, text: 'hi' }) }, 1),
  step('run.state', { state: 'running' }),
];
const fold = (extra: Step[] = [], mode: ApprovalMode = 'interactive'): RunState => readRunState('run-1', events([...steps(mode), ...extra]));
const facts: RuntimeFacts = { live: { generation: 1, lifecycle: 'ready', killedFor: null }, restartArmed: false, closed: false, readOnly: false, ledgerFailure: null, approvalTimeoutMs: 1000 };
const types = (decision: Decision) => decision.events.map((event) => event.body.type);

function judgement(decision: PolicyDecision, extra: Partial<PolicyDecidedPayload> = {}, onViolation: 'record' | 'stop' = 'record'): PolicyJudgement {
  const rule = decision === 'deny' ? 'no-cat' : null;
  const why = decision === 'deny' ? 'Nothing is read with cat.' : 'no rule: default for exec';
  return {
    decided: { action: { kind: 'exec', title: EXEC.title }, decision, rule, layer: 'workspace', why, policyHash: HASH, source: 'builtin.permission', ...extra },
    context: { decision, rule, layer: 'workspace', why, policyHash: HASH, kind: 'exec' },
    onViolation,
  };
}
const request = (policy: PolicyJudgement | undefined, approvalId = 'a1'): PermissionRequest => ({ approvalId, generation: 1, action: EXEC, reason: 'check', source: 'agent', insideWorkspace: true, ...(policy ? { policy } : {}) });

describe('decide: a judged permission request', () => {
  it('allow: recorded as policy.decided and answered at once with a grant; no approval', () => {
    const decision = decide(fold(), facts, { kind: 'permission_requested', request: request(judgement('allow')) });
    expect(types(decision)).toEqual(['policy.decided']);
    expect(decision.events[0]!.body).toMatchObject({ generation: 1, payload: { decision: 'allow', approvalId: 'a1', policyHash: HASH } });
    expect(decision.effects).toEqual([{ kind: 'answer', approvalId: 'a1', answer: 'allow_once', grant: EXEC }]);
  });

  it('deny: refused with the rule and its why in a transcript note, in every approval mode, even over an earlier allow for the run', () => {
    const earlierAllow: Step[] = [
      step('approval.requested', { approvalId: 'a0', generation: 1, turn: 1, action: EXEC, actionKey: actionKey(EXEC), reason: 'check', source: 'agent' }, 1),
      step('approval.decided', { approvalId: 'a0', decision: 'allow_run', by: 'user' }),
    ];
    for (const mode of ['interactive', 'all', 'none', 'reads'] as const) {
      const decision = decide(fold(earlierAllow, mode), facts, { kind: 'permission_requested', request: request(judgement('deny')) });
      expect(types(decision), mode).toEqual(['policy.decided', 'note']);
      expect(decision.events[1]!.body.payload).toEqual({ text: 'Policy denied "Run the check" (rule no-cat): Nothing is read with cat.' });
      expect(decision.effects, mode).toEqual([{ kind: 'answer', approvalId: 'a1', answer: 'deny' }]);
    }
  });

  it('ask: an approval carrying the policy context, after the policy.decided; the run waits for a person', () => {
    const decision = decide(fold(), facts, { kind: 'permission_requested', request: request(judgement('ask')) });
    expect(types(decision)).toEqual(['policy.decided', 'approval.requested', 'run.state']);
    expect(decision.events[1]!.body.payload).toMatchObject({ approvalId: 'a1', policy: { decision: 'ask', rule: null, why: 'no rule: default for exec', policyHash: HASH, kind: 'exec' } });
    expect(decision.effects).toEqual([{ kind: 'arm_approval_timer', approvalId: 'a1', timeoutMs: 1000 }]);
  });

  it('ask under --approve all is allowed automatically; a policy ask is never auto-allowed as a read in interactive runs', () => {
    const all = decide(fold([], 'all'), facts, { kind: 'permission_requested', request: request(judgement('ask')) });
    expect(types(all)).toEqual(['policy.decided', 'approval.requested', 'approval.decided']);
    expect(all.events[2]!.body.payload).toMatchObject({ decision: 'allow_once', by: 'auto' });
    const read: Action = { kind: 'read', title: 'Read a.txt', paths: ['/ws/a.txt'] };
    const asked = decide(fold(), facts, { kind: 'permission_requested', request: { ...request(judgement('ask')), action: read } });
    expect(types(asked)).toEqual(['policy.decided', 'approval.requested', 'run.state']);
  });

  it('without a judgement (runs from before policies) the approval mode decides as before', () => {
    const decision = decide(fold([], 'all'), facts, { kind: 'permission_requested', request: request(undefined) });
    expect(types(decision)).toEqual(['approval.requested', 'approval.decided']);
    expect(decision.events[0]!.body.payload).not.toHaveProperty('policy');
  });
});

describe('decide: observed actions and recorded policy events', () => {
  const observed = (onViolation: 'record' | 'stop', decision: PolicyDecision = 'deny') =>
    judgement(decision, { observed: true, ...(decision === 'deny' ? { violation: true } : {}), source: 'tool_call', toolCallId: 'call-1' }, onViolation);

  it('an allowed observed action is only recorded', () => {
    const decision = decide(fold(), facts, { kind: 'policy_observed', generation: 1, judgement: observed('stop', 'allow') });
    expect(types(decision)).toEqual(['policy.decided']);
    expect(decision.effects).toEqual([]);
  });

  it('a violation is recorded and shown; on_violation: record lets the run go on', () => {
    const decision = decide(fold(), facts, { kind: 'policy_observed', generation: 1, judgement: observed('record') });
    expect(types(decision)).toEqual(['policy.decided', 'note']);
    expect(String((decision.events[1]!.body.payload as { text: string }).text)).toContain('Policy violation: the agent did "Run the check" without asking');
    expect(decision.effects).toEqual([]);
  });

  it('with on_violation: stop, the runtime stops as policy_violation and the open turn ends', () => {
    const decision = decide(fold(), facts, { kind: 'policy_observed', generation: 1, judgement: observed('stop') });
    expect(types(decision)).toEqual(['policy.decided', 'note', 'runtime.stopped', 'turn.ended', 'run.state']);
    expect(decision.events[3]!.body.payload).toEqual({ turn: 1, stopReason: 'policy_violation' });
    expect(decision.events[4]!.body.payload).toMatchObject({ state: 'stopped', stopReason: 'policy_violation' });
    expect(decision.effects).toEqual([{ kind: 'stop', generation: 1 }]);
  });

  it('a stale generation\'s observation is dropped; one of a generation on its way out is recorded without stopping', () => {
    const later = fold([step('runtime.started', { generation: 2, pid: 102, command: ['agent'], hostPid: 1 })]);
    expect(decide(later, { ...facts, live: { generation: 2, lifecycle: 'ready', killedFor: null } }, { kind: 'policy_observed', generation: 1, judgement: observed('stop') })).toEqual({ events: [], effects: [] });
    const stopping = decide(fold(), { ...facts, live: { generation: 1, lifecycle: 'stopping', killedFor: null } }, { kind: 'policy_observed', generation: 1, judgement: observed('stop') });
    expect(types(stopping)).toEqual(['policy.decided', 'note']);
  });

  it('policy_recorded records its events as they are, critical', () => {
    const body = { type: 'policy.refused' as const, payload: { files: ['/ws/.keel/policy.yaml'], errors: ['/ws/.keel/policy.yaml:1:1: YAML: bad'], kept: HASH } };
    const decision = decide(fold(), facts, { kind: 'policy_recorded', events: [body] });
    expect(decision.events).toEqual([{ body, durability: 'critical' }]);
  });
});
