import { app, BrowserWindow, Notification } from 'electron';
import {
  attentionNotices,
  rememberStates,
  RunId,
  SettingsView,
  waitingCount,
  type AttentionNotice,
  type AttentionRun,
  type LedgerEvent,
  type Workstation,
} from '@keel/core';

/** Waits this long after a change: an automatic decision commits right after its request, and a turn's last events come in a burst. */
const SETTLE_MS = 50;

/**
 * Electron's side of attention (issue 15 point 22), by the same rule as the browser page
 * (core's attentionNotices over the runs' folded states): the dock badge counts the runs waiting
 * for an approval; a desktop notification says when a run starts waiting or finishes while no
 * Keel window is in front; clicking it brings the window forward and opens that run. The
 * `notifications` setting turns both off.
 */
export function watchAttention(workstation: Workstation, focusWindow: () => BrowserWindow | null): () => void {
  let before = rememberStates(new Map(), workstation.ledger.runs());
  const changed = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const enabled = async (): Promise<boolean> => {
    const outcome = await workstation.router.call('settings.get', {}, { transport: 'memory' });
    if (!outcome.ok) return true;
    const view = SettingsView.safeParse(outcome.value);
    return view.success ? view.data.settings.notifications : true;
  };

  const flush = async () => {
    timer = null;
    const runs: AttentionRun[] = [];
    for (const runId of changed) {
      const summary = workstation.ledger.run(runId);
      if (summary) runs.push(summary);
    }
    changed.clear();
    const on = await enabled();
    const notices = on ? attentionNotices(before, runs, { focused: BrowserWindow.getFocusedWindow() !== null, viewingRunId: null }) : [];
    before = rememberStates(before, runs);
    app.setBadgeCount(on ? waitingCount(workstation.ledger.runs()) : 0);
    if (Notification.isSupported()) for (const notice of notices) show(notice, focusWindow);
  };

  const stop = workstation.ledger.onCommit((event: LedgerEvent) => {
    if (event.type !== 'run.state') return;
    changed.add(event.run_id);
    timer ??= setTimeout(() => void flush().catch((error: unknown) => console.warn('[keel] attention:', error)), SETTLE_MS);
  });
  return () => {
    stop();
    if (timer) clearTimeout(timer);
  };
}

function show(notice: AttentionNotice, focusWindow: () => BrowserWindow | null): void {
  const notification = new Notification({ title: notice.title, body: notice.body });
  notification.on('click', () => {
    const window = focusWindow();
    // The page opens `#run=<id>` (a hash change is no navigation); the id is checked first (it becomes script text).
    if (window && RunId.safeParse(notice.runId).success) {
      void window.webContents.executeJavaScript(`location.hash = ${JSON.stringify(`run=${notice.runId}`)}`).catch(() => {});
    }
  });
  notification.show();
}
