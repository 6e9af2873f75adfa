import type { ItemOfKind, RunView } from '@keel/core/contract';
import { useEffect, useMemo } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { isTypingTarget } from '../../lib/keyboard.js';
import { decide } from '../../stores/decisions.js';
import { loadEarlierItems, useTranscript } from '../../stores/transcript.js';
import { useUi } from '../../stores/ui.js';
import { ApprovalCard, DECISIONS } from '../items/ApprovalCard.js';

type ApprovalItem = ItemOfKind<'approval'>;

const DIGITS = ['1', '2', '3'];

/** The composer's prompt box with nothing typed in it. */
function isEmptyPromptBox(target: EventTarget | null): boolean {
  const element = target as HTMLTextAreaElement | null;
  return element?.tagName === 'TEXTAREA' && element.dataset.testid === 'composer-input' && element.value.trim() === '';
}

/** The view's pending approvals (its own list of ids, oldest first) as their transcript items. */
export function pendingApprovalItems(view: RunView): ApprovalItem[] {
  if (view.pendingApprovals.length === 0) return [];
  const wanted = new Set(view.pendingApprovals);
  const found = new Map<string, ApprovalItem>();
  // Pending requests are recent: search from the end and stop once all are found.
  for (let i = view.items.length - 1; i >= 0 && found.size < wanted.size; i--) {
    const item = view.items[i]!;
    if (item.kind === 'approval' && wanted.has(item.approvalId)) found.set(item.approvalId, item);
  }
  return view.pendingApprovals.flatMap((id) => {
    const item = found.get(id);
    return item ? [item] : [];
  });
}

/**
 * Pending approvals pinned above the composer, with keyboard shortcuts acting on the oldest
 * one: 1/A allow once, 2/R allow for this run, 3/D deny when focus is not in a text field, and
 * the digits 1/2/3 also from the empty prompt box.
 */
export function PinnedApprovals({ view, itemsFrom = 0, readOnly }: { view: RunView; itemsFrom?: number; readOnly: string | null }) {
  const { client } = useKeel();
  const pending = useMemo(() => pendingApprovalItems(view), [view.pendingApprovals, view.items]);
  const oldest = pending[0] ?? null;
  // A windowed transcript (a long run) may not hold a request that still waits: load earlier
  // pages until every pending request has its card.
  const missing = pending.length < view.pendingApprovals.length && itemsFrom > 0;
  const earlier = useTranscript((state) => state.earlier);
  useEffect(() => {
    if (missing && earlier === 'idle') void loadEarlierItems();
  }, [missing, itemsFrom, earlier]);

  useEffect(() => {
    if (!oldest || readOnly) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
      if (useUi.getState().newRunOpen) return;
      const key = event.key.toLowerCase();
      // In the empty prompt box (where focus stays after Ctrl+Enter) the digits still answer:
      // nothing can be sent while an approval waits, so a digit there is meant for the card.
      if (isTypingTarget(event.target) && !(isEmptyPromptBox(event.target) && DIGITS.includes(key))) return;
      const choice = DECISIONS.find((entry) => entry.keys.includes(key));
      if (!choice) return;
      event.preventDefault();
      void decide(client, view.runId, oldest.approvalId, choice.decision);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [client, oldest, readOnly, view.runId]);

  if (pending.length === 0) return null;
  return (
    <section className="pinned-approvals" aria-label="Pending approvals" data-testid="pinned-approvals">
      {pending.length > 1 && (
        <div className="pinned-head small">
          <strong>{pending.length} approvals waiting</strong>
          <span className="muted"> · shortcuts answer the oldest first</span>
        </div>
      )}
      {pending.map((item, index) => (
        <ApprovalCard key={item.approvalId} item={item} runId={view.runId} variant="pinned" shortcuts={index === 0 && !readOnly} readOnly={readOnly} />
      ))}
    </section>
  );
}
