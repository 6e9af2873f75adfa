import type { AttentionNotice } from '@keel/core/replay';

/**
 * The browser's Notification API, for the headless server's page (Electron's main process
 * shows its own). Keel asks for the permission once, never on page load: the first time the
 * person starts a turn (they just acted, and a notification is what they will want when it ends),
 * or when they turn notifications on in Settings.
 */

const ASKED_KEY = 'keel.notifications.asked';

export type NotificationSupport = 'unsupported' | NotificationPermission;

export function notificationSupport(): NotificationSupport {
  return typeof globalThis.Notification === 'function' ? globalThis.Notification.permission : 'unsupported';
}

function askedBefore(): boolean {
  try {
    return globalThis.localStorage?.getItem(ASKED_KEY) === '1';
  } catch {
    return false;
  }
}

/** Asks for the permission if it was never asked on this page's origin; resolves with the answer. */
export async function askPermissionOnce(force = false): Promise<NotificationSupport> {
  const support = notificationSupport();
  if (support !== 'default' || (askedBefore() && !force)) return support;
  try {
    globalThis.localStorage?.setItem(ASKED_KEY, '1');
  } catch {
    // Storage is a convenience: at worst the browser is asked again next session (it remembers a "block").
  }
  try {
    return await globalThis.Notification.requestPermission();
  } catch {
    return notificationSupport();
  }
}

/**
 * Shows one notice; a click focuses the page and calls `onOpen` (which opens the run). One
 * notice per run and kind at a time (`tag`): a newer one replaces it. Null when not allowed.
 */
export function showBrowserNotification(notice: AttentionNotice, onOpen: (runId: string) => void): Notification | null {
  if (notificationSupport() !== 'granted') return null;
  const notification = new globalThis.Notification(notice.title, { body: notice.body, tag: `keel:${notice.runId}:${notice.kind}` });
  notification.onclick = () => {
    globalThis.focus?.();
    onOpen(notice.runId);
    notification.close();
  };
  return notification;
}
