// @vitest-environment jsdom
import type { RunView } from '@keel/core/contract';
import { RunViewFold } from '@keel/core/replay';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { PinnedApprovals, pendingApprovalItems } from '../src/components/conversation/PinnedApprovals.js';
import { ApprovalCard } from '../src/components/items/ApprovalCard.js';
import { useDecisions } from '../src/stores/decisions.js';
import { useUi } from '../src/stores/ui.js';
import { approvalItem, DECISIONS, mockClient, renderWithClient } from './helpers.js';

afterEach(() => {
  cleanup();
  useDecisions.setState({ inFlight: {}, errors: {} });
});

const settle = () => act(async () => {});

/** A view with the given approval items, the pending ones listed as the fold lists them. */
function viewWith(items: ReturnType<typeof approvalItem>[]): RunView {
  const base = new RunViewFold('run-1').snapshot();
  return { ...base, items, pendingApprovals: items.filter((item) => item.status === 'pending').map((item) => item.approvalId) };
}

describe('an approval card', () => {
  it.each(DECISIONS)('the %s button calls approval.decide with that decision', async (decision) => {
    const { client, invoke } = mockClient({ 'approval.decide': () => ({}) });
    renderWithClient(<ApprovalCard item={approvalItem()} runId="run-1" variant="pinned" />, client);
    fireEvent.click(screen.getByRole('button', { name: new RegExp(`^${{ allow_once: 'Allow once', allow_run: 'Allow for this run', deny: 'Deny' }[decision]}`) }));
    await settle();
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke).toHaveBeenCalledWith('approval.decide', { runId: 'run-1', approvalId: 'ap-1', decision });
  });

  it('shows the normalised action, the reason and who asked', () => {
    const { client } = mockClient();
    renderWithClient(<ApprovalCard item={approvalItem()} runId="run-1" variant="pinned" />, client);
    const card = screen.getByTestId('pinned-approval');
    expect(card.textContent).toContain('npm test -- --watch=false');
    expect(card.textContent).toContain('/work/repo');
    expect(card.textContent).toContain('Commands outside the allowlist ask (rule exec.default)');
    expect(card.textContent).toContain('asked by the agent');
    expect(card.querySelectorAll('[data-decision]')).toHaveLength(3);
  });

  it('shows the host’s refusal of a decision and lets the person try again', async () => {
    const { client, invoke } = mockClient({
      'approval.decide': () => {
        throw new Error('The approval is no longer pending.');
      },
    });
    renderWithClient(<ApprovalCard item={approvalItem()} runId="run-1" variant="pinned" />, client);
    fireEvent.click(screen.getByRole('button', { name: /^Deny/ }));
    await settle();
    expect(screen.getByRole('alert').textContent).toBe('The approval is no longer pending.');
    fireEvent.click(screen.getByRole('button', { name: /^Deny/ }));
    await settle();
    expect(invoke).toHaveBeenCalledTimes(2);
  });

  it.each(['timed_out', 'cancelled', 'orphaned'] as const)('a %s card never reads as a denial', (status) => {
    const { client } = mockClient();
    renderWithClient(<ApprovalCard item={approvalItem({ status, note: status === 'cancelled' ? 'the turn was cancelled' : null })} runId="run-1" />, client);
    const card = screen.getByTestId('approval-card');
    expect(card.dataset.status).toBe(status);
    expect(card.textContent).not.toMatch(/denied|refused|rejected/i);
    expect(card.className).not.toMatch(/deny/);
  });

  it('an orphaned card can still be decided, and says when Keel applies it', async () => {
    const { client, invoke } = mockClient({ 'approval.decide': () => ({}) });
    renderWithClient(<ApprovalCard item={approvalItem({ status: 'orphaned' })} runId="run-1" />, client);
    const card = screen.getByTestId('approval-card');
    expect(card.textContent).toContain('Keel applies it when the agent asks again');
    fireEvent.click(within(card).getByRole('button', { name: /^Allow for this run/ }));
    await settle();
    expect(invoke).toHaveBeenCalledWith('approval.decide', { runId: 'run-1', approvalId: 'ap-1', decision: 'allow_run' });
  });

  it('timed-out and cancelled cards offer no buttons; a pending one in the transcript points at its pinned copy', () => {
    const { client } = mockClient();
    renderWithClient(
      <>
        <ApprovalCard item={approvalItem({ approvalId: 'a', status: 'timed_out' })} runId="run-1" />
        <ApprovalCard item={approvalItem({ approvalId: 'b', status: 'cancelled' })} runId="run-1" />
        <ApprovalCard item={approvalItem({ approvalId: 'c', status: 'pending' })} runId="run-1" />
      </>,
      client,
    );
    expect(document.querySelectorAll('[data-decision]')).toHaveLength(0);
    expect(screen.getAllByTestId('approval-card')[2]!.textContent).toContain('Waiting for your answer');
  });

  it('a decided card says the decision and by whom; a carry-over links to the earlier approval', () => {
    const { client } = mockClient();
    renderWithClient(
      <>
        <ApprovalCard item={approvalItem({ approvalId: 'a', status: 'decided', decision: 'allow_run', by: 'user' })} runId="run-1" />
        <ApprovalCard item={approvalItem({ approvalId: 'b', status: 'decided', decision: 'deny', by: 'auto' })} runId="run-1" />
        <ApprovalCard item={approvalItem({ approvalId: 'c', status: 'decided', decision: 'allow_once', by: 'carryover', ref: 'a' })} runId="run-1" />
      </>,
      client,
    );
    const outcomes = screen.getAllByTestId('approval-outcome').map((node) => node.textContent);
    expect(outcomes[0]).toContain('Allowed for this run by you');
    expect(outcomes[1]).toContain('Denied automatically (policy)');
    expect(outcomes[2]).toContain('Allowed once by carry-over from approval a');
    fireEvent.click(screen.getByTestId('approval-ref'));
    expect(useUi.getState().reveal?.approvalId).toBe('a');
  });
});

describe('pinned approvals and keyboard shortcuts', () => {
  const items = [
    approvalItem({ approvalId: 'old', seq: 5, lastSeq: 5 }),
    approvalItem({ approvalId: 'gone', seq: 6, lastSeq: 6, status: 'orphaned' }),
    approvalItem({ approvalId: 'new', seq: 7, lastSeq: 7 }),
  ];

  it('pins the pending ones from the view, oldest first, with the shortcut hints on the oldest', () => {
    const view = viewWith(items);
    expect(pendingApprovalItems(view).map((item) => item.approvalId)).toEqual(['old', 'new']);
    const { client } = mockClient();
    renderWithClient(<PinnedApprovals view={view} readOnly={null} />, client);
    const pinned = screen.getAllByTestId('pinned-approval');
    expect(pinned.map((card) => card.dataset.approvalId)).toEqual(['old', 'new']);
    expect(pinned[0]!.querySelectorAll('kbd')).toHaveLength(3);
    expect(pinned[1]!.querySelectorAll('kbd')).toHaveLength(0);
    expect(screen.getByText(/keys 1 \/ 2 \/ 3/)).toBeTruthy();
  });

  it.each([
    ['1', 'allow_once'],
    ['a', 'allow_once'],
    ['2', 'allow_run'],
    ['r', 'allow_run'],
    ['3', 'deny'],
    ['d', 'deny'],
  ])('key %s decides the oldest pending request: %s', async (key, decision) => {
    const { client, invoke } = mockClient({ 'approval.decide': () => ({}) });
    renderWithClient(<PinnedApprovals view={viewWith(items)} readOnly={null} />, client);
    fireEvent.keyDown(document.body, { key });
    await settle();
    expect(invoke).toHaveBeenCalledWith('approval.decide', { runId: 'run-1', approvalId: 'old', decision });
  });

  it('keys typed into a text field, or with a modifier, decide nothing', async () => {
    const { client, invoke } = mockClient({ 'approval.decide': () => ({}) });
    renderWithClient(
      <>
        <textarea data-testid="text" />
        <PinnedApprovals view={viewWith(items)} readOnly={null} />
      </>,
      client,
    );
    fireEvent.keyDown(screen.getByTestId('text'), { key: '1' });
    fireEvent.keyDown(document.body, { key: '1', ctrlKey: true });
    fireEvent.keyDown(document.body, { key: 'x' });
    await settle();
    expect(invoke).not.toHaveBeenCalled();
  });

  it('from the empty prompt box the digits decide (focus stays there after Ctrl+Enter), and letters or a typed prompt do not', async () => {
    const { client, invoke } = mockClient({ 'approval.decide': () => ({}) });
    renderWithClient(
      <>
        <textarea data-testid="composer-input" defaultValue="" />
        <textarea data-testid="other" defaultValue="" />
        <PinnedApprovals view={viewWith(items)} readOnly={null} />
      </>,
      client,
    );
    const box = screen.getByTestId('composer-input') as HTMLTextAreaElement;
    fireEvent.keyDown(box, { key: 'a' });
    fireEvent.keyDown(screen.getByTestId('other'), { key: '2' });
    await settle();
    expect(invoke).not.toHaveBeenCalled();
    box.value = 'fix the bug';
    fireEvent.keyDown(box, { key: '1' });
    await settle();
    expect(invoke).not.toHaveBeenCalled();
    box.value = '';
    fireEvent.keyDown(box, { key: '2' });
    await settle();
    expect(invoke).toHaveBeenCalledWith('approval.decide', { runId: 'run-1', approvalId: 'old', decision: 'allow_run' });
  });

  it('no shortcuts while the run is read-only', async () => {
    const { client, invoke } = mockClient({ 'approval.decide': () => ({}) });
    renderWithClient(<PinnedApprovals view={viewWith(items)} readOnly="Disconnected — reconnecting" />, client);
    fireEvent.keyDown(document.body, { key: '1' });
    await settle();
    expect(invoke).not.toHaveBeenCalled();
    expect(screen.getAllByRole('button', { name: /^Allow once/ })[0]!.hasAttribute('disabled')).toBe(true);
  });
});
