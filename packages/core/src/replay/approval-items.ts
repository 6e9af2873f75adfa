import type { ItemOfKind, LedgerEvent, PayloadOf } from '../contract/index.js';
import type { FoldItems } from './fold-items.js';
import { approvalStatusAfter } from './run-state.js';
import type { Head } from './view-items.js';

type ApprovalItem = ItemOfKind<'approval'>;

/**
 * A new request's card (pending, listed in the head's `pendingApprovals`), or, for the same id
 * again, its request fields updated in place with its status kept. `turn`: the request's, or the
 * run's current one.
 */
export function approvalRequested(items: FoldItems, head: Head, payload: PayloadOf<'approval.requested'>, event: LedgerEvent, turn: number | null): void {
  const { approvalId, generation, action, actionKey, reason, source } = payload;
  const timeoutMs = payload.timeoutMs ?? null;
  const policy = payload.policy ? { policy: payload.policy } : {};
  const found = items.find('approval', approvalId);
  if (found !== undefined) {
    setApproval(items, head, found, event, { generation, turn, action, actionKey, reason, source, timeoutMs, ...policy });
    return;
  }
  const item: ApprovalItem = {
    kind: 'approval',
    seq: event.seq,
    lastSeq: event.seq,
    ts: event.ts,
    turn,
    approvalId,
    generation,
    action,
    actionKey,
    reason,
    source,
    status: 'pending',
    decision: null,
    by: null,
    ref: null,
    note: null,
    timeoutMs,
    ...policy,
  };
  items.addKeyed('approval', approvalId, item);
  head.pendingApprovals = [...head.pendingApprovals, approvalId];
}

/**
 * Settles a known request (an unknown id has no card to settle and is skipped) by the run
 * state's transition rule; a settlement that changes nothing leaves the card as it is.
 */
export function settleApproval(
  items: FoldItems,
  head: Head,
  approvalId: string,
  event: LedgerEvent,
  settlement: Parameters<typeof approvalStatusAfter>[1],
  change: Partial<ApprovalItem>,
): void {
  const found = items.find('approval', approvalId);
  if (found === undefined) return;
  const status = approvalStatusAfter(found[1].status, settlement);
  if (status === found[1].status && settlement !== 'approval.decided') return;
  setApproval(items, head, found, event, { ...change, status });
}

/** Replaces an approval card and keeps the head's `pendingApprovals` (request order) in step. */
function setApproval(items: FoldItems, head: Head, [slot, item]: [number, ApprovalItem], event: LedgerEvent, change: Partial<ApprovalItem>): void {
  const next: ApprovalItem = { ...item, ...change, lastSeq: event.seq };
  items.set(slot, next);
  // Only a new request is pending, so a change can only take an id out. A new array (the
  // snapshots share the old one): O(pending), and few requests wait at any one time.
  if (item.status === 'pending' && next.status !== 'pending') {
    head.pendingApprovals = head.pendingApprovals.filter((id) => id !== item.approvalId);
  }
}
