import type { LedgerEvent } from '../contract/schemas/ledger.js';

export interface AttentionChange {
  /** Approvals waiting for a person across all runs. */
  pending: number;
  /** Set when this event made a new request wait: what to tell the user. */
  newRequest: { runId: string; approvalId: string; title: string } | null;
}

/**
 * Counts approvals that wait for a person, from committed ledger events only (I1): a request
 * waits from `approval.requested` until it is decided, times out, is cancelled or reset.
 * Feeds the dock badge and desktop notifications.
 */
export class AttentionTracker {
  private readonly waiting = new Map<string, string>();

  /** Call with every committed event, in order; returns the new count when it changed. */
  observe(event: LedgerEvent): AttentionChange | null {
    const payload = event.payload as { approvalId?: string; approvalIds?: string[]; action?: { title: string } };
    switch (event.type) {
      case 'approval.requested':
        this.waiting.set(payload.approvalId!, event.run_id);
        return { pending: this.waiting.size, newRequest: { runId: event.run_id, approvalId: payload.approvalId!, title: payload.action?.title ?? 'An agent asks for approval' } };
      case 'approval.decided':
      case 'approval.timed_out':
      case 'approval.cancelled':
        return this.waiting.delete(payload.approvalId!) ? { pending: this.waiting.size, newRequest: null } : null;
      case 'approval.reset': {
        const removed = (payload.approvalIds ?? []).filter((id) => this.waiting.delete(id)).length;
        return removed > 0 ? { pending: this.waiting.size, newRequest: null } : null;
      }
      default:
        return null;
    }
  }
}
