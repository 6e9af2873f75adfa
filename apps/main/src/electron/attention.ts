import { app, BrowserWindow, Notification } from 'electron';
import { AttentionTracker, type Workstation } from '@keel/core';

/**
 * When a run waits for you: the dock badge counts waiting approvals, and a desktop
 * notification says which action asks — unless Keel's window is already in front.
 * Auto-decided requests settle in the same batch and never notify.
 */
export function watchAttention(workstation: Workstation): () => void {
  const tracker = new AttentionTracker();
  let pendingNotice: ReturnType<typeof setTimeout> | null = null;
  return workstation.ledger.onCommit((event) => {
    const change = tracker.observe(event);
    if (!change) return;
    app.setBadgeCount(change.pending);
    if (change.newRequest && Notification.isSupported()) {
      const request = change.newRequest;
      if (pendingNotice) clearTimeout(pendingNotice);
      // Wait one tick: an automatic decision commits right after its request.
      pendingNotice = setTimeout(() => {
        pendingNotice = null;
        if (change.pending === 0 || BrowserWindow.getFocusedWindow()) return;
        new Notification({ title: 'Keel: an agent is waiting for you', body: request.title }).show();
      }, 50);
    }
  });
}
