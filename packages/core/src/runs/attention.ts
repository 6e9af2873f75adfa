import type { LedgerEvent } from '../contract/index.js';
import { approvalStatusAfter } from '../replay/index.js';

export interface AttentionChange {
  /** Approvals waiting for a person across all runs. */
  pending: number;
  /** Set when this event made a new request wait: what to tell the user. */
  newRequest: { runId: string; approvalId: string; title: string } | null;
}

/**
 * Counts approvals that wait for a person, from committed ledger events only (I1), by the run
 * state's approval rule (I9). Feeds the dock badge and desktop notifications.
 */
export class AttentionTracker {
  /** Waiting approval ids (ids are unique across runs). */
  private readonly waiting = new Set<string>();

  /** Call with every committed event, in order; returns the new count when it changed. */
  observe(event: LedgerEvent): AttentionChange | null {
    const payload = event.payload as { approvalId?: string; approvalIds?: string[]; action?: { title: string } };
    switch (event.type) {
      case 'approval.requested':
        this.waiting.add(payload.approvalId!);
        return { pending: this.waiting.size, newRequest: { runId: event.run_id, approvalId: payload.approvalId!, title: payload.action?.title ?? 'An agent asks for approval' } };
      case 'approval.decided':
      case 'approval.timed_out':
      case 'approval.cancelled':
      case 'approval.reset': {
        const ids = event.type === 'approval.reset' ? (payload.approvalIds ?? []) : [payload.approvalId!];
        const settled = approvalStatusAfter('pending', event.type) !== 'pending';
        const removed = settled ? ids.filter((id) => this.waiting.delete(id)).length : 0;
        return removed > 0 ? { pending: this.waiting.size, newRequest: null } : null;
      }
      default:
        return null;
    }
  }
}
