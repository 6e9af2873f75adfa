import type { RunSummary } from '@keel/core/contract';
import { attentionNotices, rememberStates, waitingCount, type AttentionNotice } from '@keel/core/replay';
import { useEffect } from 'react';
import { useRuns } from '../stores/runs.js';
import { useSettings } from '../stores/settings.js';
import { askPermissionOnce, showBrowserNotification } from './browser-notifications.js';
import { faviconUrl, setFavicon } from './favicon.js';

/**
 * The tab title for what needs a person: "(2) Keel — approval needed" while runs wait for an
 * approval, "• Keel — run finished" after a run finished unseen (until the page is in front), else "Keel".
 */
export function attentionTitle(waiting: number, finishedUnseen = false): string {
  if (waiting > 0) return `(${waiting}) Keel — approval needed`;
  return finishedUnseen ? '• Keel — run finished' : 'Keel';
}

/** In Electron the preload exposes `window.keel` and the main process notifies; the browser page notifies itself. */
const inBrowser = () => !('keel' in globalThis);

/** The person sees the page: its window has focus and the tab is visible. */
export const pageInFront = () => document.visibilityState === 'visible' && document.hasFocus();

export interface AttentionOutlets {
  /** Browser notifications (headless page only; Electron's main process shows its own). */
  notify(notice: AttentionNotice): void;
  /** A turn was just started by the person: the moment to ask for the notification permission. */
  turnStarted(): void;
  setTitle(title: string): void;
  setFavicon(href: string): void;
}

/**
 * Watches the run list for what needs the person (core's attentionNotices, the same rule
 * Electron's main process applies) and shows it: notices, the tab title and the favicon badge.
 * A run that finished while the page was in the background leaves a dot until the page is in
 * front again.
 */
export class AttentionWatcher {
  private before = new Map<string, string>();
  private unseenFinished = false;

  constructor(
    private readonly outlets: AttentionOutlets,
    private readonly context: () => { focused: boolean; viewingRunId: string | null; enabled: boolean },
  ) {}

  /** A new run list (snapshot or merged change). */
  runs(runs: readonly RunSummary[]): void {
    const context = this.context();
    const notices = context.enabled ? attentionNotices(this.before, runs, context) : [];
    if (context.focused && runs.some((run) => this.before.has(run.id) && this.before.get(run.id) !== run.state && (run.state === 'starting' || run.state === 'running'))) {
      this.outlets.turnStarted();
    }
    this.before = rememberStates(this.before, runs);
    for (const notice of notices) {
      if (notice.kind !== 'approval') this.unseenFinished = true;
      this.outlets.notify(notice);
    }
    this.show(runs, context.enabled);
  }

  /** The page came to the front: what finished is now seen. */
  inFront(runs: readonly RunSummary[]): void {
    this.unseenFinished = false;
    this.show(runs, this.context().enabled);
  }

  private show(runs: readonly RunSummary[], enabled: boolean): void {
    const waiting = enabled ? waitingCount(runs) : 0;
    const dot = enabled && this.unseenFinished;
    this.outlets.setTitle(attentionTitle(waiting, dot));
    this.outlets.setFavicon(faviconUrl(waiting, dot));
  }
}

/** Runs the AttentionWatcher for the app: mounted once, in App. */
export function useAttention(): void {
  useEffect(() => {
    const browser = inBrowser();
    const enabled = () => useSettings.getState().view?.settings.notifications ?? true;
    const watcher = new AttentionWatcher(
      {
        notify: (notice) => {
          if (browser) showBrowserNotification(notice, (runId) => useRuns.getState().select(runId));
        },
        turnStarted: () => {
          if (browser && enabled()) void askPermissionOnce();
        },
        setTitle: (title) => {
          document.title = title;
        },
        setFavicon,
      },
      () => ({ focused: pageInFront(), viewingRunId: useRuns.getState().selectedRunId, enabled: enabled() }),
    );
    watcher.runs(useRuns.getState().runs);
    const stopRuns = useRuns.subscribe((state, previous) => {
      if (state.runs !== previous.runs) watcher.runs(state.runs);
    });
    const stopSettings = useSettings.subscribe((state, previous) => {
      if (state.view?.settings.notifications !== previous.view?.settings.notifications) watcher.inFront(useRuns.getState().runs);
    });
    // `#run=<id>` opens a run: what Electron's notification click sets.
    const openFromHash = () => {
      const match = /^#run=([A-Za-z0-9][A-Za-z0-9_-]{0,63})$/.exec(location.hash);
      if (!match) return;
      useRuns.getState().select(match[1]!);
      history.replaceState(history.state, '', `${location.pathname}${location.search}`);
    };
    openFromHash();
    window.addEventListener('hashchange', openFromHash);
    const onFront = () => {
      if (pageInFront()) watcher.inFront(useRuns.getState().runs);
    };
    window.addEventListener('focus', onFront);
    document.addEventListener('visibilitychange', onFront);
    return () => {
      stopRuns();
      stopSettings();
      window.removeEventListener('hashchange', openFromHash);
      window.removeEventListener('focus', onFront);
      document.removeEventListener('visibilitychange', onFront);
    };
  }, []);
}
