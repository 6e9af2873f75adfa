// @vitest-environment jsdom
// The policy in the app (issue 11): the approval card's rule and why, "Always allow this" as a
// shown diff confirmed by the person, and the Policy view's filters.
import type { PolicyLog, PolicyOverview, PolicyRuleProposal } from '@keel/core/contract';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalCard } from '../src/components/items/ApprovalCard.js';
import { PolicyView } from '../src/components/policy/PolicyView.js';
import { useDecisions } from '../src/stores/decisions.js';
import { useRuns } from '../src/stores/runs.js';
import { approvalItem, mockClient, renderWithClient } from './helpers.js';

afterEach(() => {
  cleanup();
  useDecisions.setState({ inFlight: {}, errors: {} });
  useRuns.setState({ selectedRunId: null });
});

const settle = () => act(async () => {});
const HASH = 'c'.repeat(64);

describe('the approval card and the policy', () => {
  it('shows the deciding rule, its layer and its why', () => {
    const { client } = mockClient();
    const item = approvalItem({ policy: { decision: 'ask', rule: 'pushes', layer: 'workspace', why: 'Pushes to shared branches need a person.', policyHash: HASH, kind: 'push' } });
    renderWithClient(<ApprovalCard item={item} runId="run-1" variant="pinned" />, client);
    const policy = screen.getByTestId('approval-policy');
    expect(policy.textContent).toContain('rule pushes (workspace): Pushes to shared branches need a person.');
    expect(policy.textContent).toContain(`policy ${HASH.slice(0, 8)}`);
  });

  it('with no rule, says which default decided ("no rule: default for exec")', () => {
    const { client } = mockClient();
    const item = approvalItem({ policy: { decision: 'ask', rule: null, layer: 'builtin', why: 'no rule: default for exec', policyHash: HASH, kind: 'exec' } });
    renderWithClient(<ApprovalCard item={item} runId="run-1" variant="pinned" />, client);
    const policy = screen.getByTestId('approval-policy');
    expect(policy.textContent).toContain('no rule: default for exec');
    expect(policy.textContent).not.toContain('rule no');
  });

  it('a card from before policies shows no policy row and no "Always allow this"', () => {
    const { client } = mockClient();
    renderWithClient(<ApprovalCard item={approvalItem()} runId="run-1" variant="pinned" />, client);
    expect(screen.queryByTestId('approval-policy')).toBeNull();
    expect(screen.queryByTestId('always-allow')).toBeNull();
  });

  it('"Always allow this" shows the rule as a diff first and writes it only on confirmation', async () => {
    const proposal: PolicyRuleProposal = {
      file: '/work/repo/.keel/policy.yaml',
      rules: [{ id: 'allow-exec-1234abcd', exec: ['npm test -- --watch=false'], decision: 'allow' }],
      before: null,
      diff: '--- /dev/null\n+++ b/.keel/policy.yaml\n@@ -0,0 +1,5 @@\n+schema_version: 1\n+rules:\n+  - id: allow-exec-1234abcd\n',
      valid: true,
      errors: [],
      decision: 'allow',
      why: 'Allowed from an approval card: Run the tests',
    };
    const { client, invoke } = mockClient({ 'policy.proposeRule': () => proposal, 'policy.addRule': () => ({ file: proposal.file, sha256: 'd'.repeat(64), hash: HASH }) });
    const item = approvalItem({ policy: { decision: 'ask', rule: null, layer: 'builtin', why: 'no rule: default for exec', policyHash: HASH, kind: 'exec' } });
    renderWithClient(<ApprovalCard item={item} runId="run-1" variant="pinned" />, client);
    fireEvent.click(screen.getByTestId('always-allow'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('policy.proposeRule', { runId: 'run-1', approvalId: 'ap-1' });
    const panel = screen.getByTestId('always-allow-panel');
    expect(within(panel).getByTestId('policy-rule-diff').textContent).toContain('+  - id: allow-exec-1234abcd');
    expect(within(panel).getByTestId('always-allow-outcome').textContent).toContain('With it, this request is allow');
    expect(invoke).not.toHaveBeenCalledWith('policy.addRule', expect.anything());
    fireEvent.click(screen.getByTestId('always-allow-confirm'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('policy.addRule', { runId: 'run-1', approvalId: 'ap-1', before: null });
    expect(screen.getByTestId('always-allow-added').textContent).toContain('/work/repo/.keel/policy.yaml');
  });

  it('an invalid proposal cannot be confirmed, and a refusal is shown in plain words', async () => {
    const invalid: PolicyRuleProposal = { file: '/w/.keel/policy.yaml', rules: [{ id: 'x' }], before: 'e'.repeat(64), diff: '', valid: false, errors: ['/w/.keel/policy.yaml:3:5: bad'], decision: 'ask', why: 'the new file is invalid; nothing changes' };
    const { client } = mockClient({ 'policy.proposeRule': () => invalid });
    const item = approvalItem({ policy: { decision: 'ask', rule: null, layer: 'builtin', why: 'no rule: default for exec', policyHash: HASH, kind: 'exec' } });
    renderWithClient(<ApprovalCard item={item} runId="run-1" variant="pinned" />, client);
    fireEvent.click(screen.getByTestId('always-allow'));
    await settle();
    expect(screen.getByTestId('always-allow-invalid').textContent).toContain('policy.yaml:3:5: bad');
    expect((screen.getByTestId('always-allow-confirm') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('the Policy view', () => {
  const overview: PolicyOverview = {
    workspace: '/work/repo',
    valid: true,
    errors: [],
    hash: HASH,
    runHash: HASH,
    files: [{ layer: 'workspace', file: '/work/repo/.keel/policy.yaml', exists: true }],
    rules: [{ id: 'no-force-push', layer: 'workspace', decision: 'deny', kind: 'push', why: 'History is never rewritten.', patterns: ['force: true'] }],
    defaults: { exec: 'ask', write_inside: 'allow' },
    defaultLayers: { write_inside: 'workspace' },
    onViolation: 'record',
  };
  const decided = (seq: number, decision: 'allow' | 'ask' | 'deny', kind: 'exec' | 'write' | 'push', title: string, extra: object = {}) => ({
    type: 'policy.decided' as const,
    seq,
    ts: '2026-01-01T00:00:00.000Z',
    payload: { action: { kind, title }, decision, rule: decision === 'deny' ? 'no-force-push' : null, layer: null, why: `why ${seq}`, policyHash: HASH, source: 'acp.permission' as const, ...extra },
  });
  const log: PolicyLog = {
    runId: 'run-1',
    entries: [
      decided(3, 'allow', 'write', 'Write hello.txt'),
      decided(4, 'ask', 'exec', 'Run npm test'),
      decided(5, 'deny', 'push', 'git push --force', { observed: true, violation: true, source: 'tool_call' }),
    ],
    counts: { allow: 1, ask: 1, deny: 1, violations: 1 },
  };

  it('shows the policy in force with its hash and validity, and the run\'s decisions filterable by decision and kind', async () => {
    useRuns.setState({ selectedRunId: 'run-1' });
    const { client, invoke } = mockClient({ 'policy.show': () => overview, 'policy.decisions': () => log });
    renderWithClient(<PolicyView />, client);
    await settle();
    await settle();
    expect(invoke).toHaveBeenCalledWith('policy.show', { runId: 'run-1' });
    expect(screen.getByTestId('policy-validity').textContent).toBe('valid');
    expect(screen.getByTestId('policy-in-force').textContent).toContain(HASH.slice(0, 12));
    expect(screen.getByTestId('policy-in-force').textContent).toContain('exec ask, write_inside allow (workspace)');
    expect(screen.getAllByTestId('policy-decision').map((row) => row.dataset.decision)).toEqual(['allow', 'ask', 'deny']);
    const violation = screen.getAllByTestId('policy-decision')[2]!;
    expect(violation.textContent).toContain('violation');
    expect(violation.textContent).toContain('rule no-force-push');

    fireEvent.change(screen.getByTestId('policy-filter-decision'), { target: { value: 'deny' } });
    expect(screen.getAllByTestId('policy-decision').map((row) => row.dataset.kind)).toEqual(['push']);
    fireEvent.change(screen.getByTestId('policy-filter-decision'), { target: { value: 'all' } });
    fireEvent.change(screen.getByTestId('policy-filter-kind'), { target: { value: 'exec' } });
    expect(screen.getAllByTestId('policy-decision').map((row) => row.dataset.decision)).toEqual(['ask']);
    fireEvent.change(screen.getByTestId('policy-filter-kind'), { target: { value: 'network' } });
    expect(screen.queryAllByTestId('policy-decision')).toEqual([]);
    expect(screen.getByText('No decision matches the filters.')).toBeTruthy();
  });

  it('an invalid policy is shown as invalid with its errors, and says runs keep the last valid one', async () => {
    const { client } = mockClient({ 'policy.show': () => ({ ...overview, valid: false, hash: null, errors: ['/work/repo/.keel/policy.yaml:4:15: decision must be allow, ask or deny'] }) });
    renderWithClient(<PolicyView />, client);
    await settle();
    await settle();
    expect(screen.getByTestId('policy-validity').textContent).toBe('invalid');
    expect(screen.getByTestId('policy-errors').textContent).toContain('policy.yaml:4:15');
    expect(screen.getByTestId('policy-errors').textContent).toContain('keep the last valid policy');
  });
});
