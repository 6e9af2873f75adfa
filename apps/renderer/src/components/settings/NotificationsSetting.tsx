import type { SettingsPatch } from '@keel/core/contract';
import { useState } from 'react';
import { askPermissionOnce, notificationSupport, type NotificationSupport } from '../../lib/browser-notifications.js';
import { useKeel } from '../../lib/client-context.js';

const BROWSER_SAYS: Record<NotificationSupport, string | null> = {
  granted: null,
  default: 'The browser will ask whether Keel may show notifications.',
  denied: 'This browser blocks notifications from this page: allow them in the site settings (the icon left of the address).',
  unsupported: 'This browser has no notifications; the tab title and icon still show when a run needs you.',
};

/** The notifications switch; turning it on in the browser asks for the permission (a person's click). */
export function NotificationsSetting({ enabled, save }: { enabled: boolean; save(patch: SettingsPatch, what: string): Promise<void> }) {
  const { mode } = useKeel();
  const [support, setSupport] = useState<NotificationSupport>(() => notificationSupport());
  const note = mode === 'socket' && enabled ? BROWSER_SAYS[support] : null;
  return (
    <label className="choice">
      <input
        type="checkbox"
        checked={enabled}
        data-testid="settings-notifications"
        onChange={(event) => {
          const on = event.target.checked;
          void save({ notifications: on }, 'notifications');
          if (on && mode === 'socket') void askPermissionOnce(true).then(setSupport);
        }}
      />
      <span>
        Tell me when a run waits for an approval or finishes while Keel is in the background (notification, tab title, icon badge)
        {note && <span className="muted small"> — {note}</span>}
      </span>
    </label>
  );
}
