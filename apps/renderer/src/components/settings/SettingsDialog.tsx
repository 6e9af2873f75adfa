import type { Settings, SettingsPatch } from '@keel/core/contract';
import { useEffect, useId, useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { loadSettings, saveSettings, useSettings } from '../../stores/settings.js';
import { LiveExportSetting } from './LiveExportSetting.js';
import { NotificationsSetting } from './NotificationsSetting.js';

/** Settings: each change is saved at once (atomically, by the host) and said so. */
export function SettingsDialog() {
  const open = useSettings((state) => state.open);
  const setOpen = useSettings((state) => state.setOpen);
  if (!open) return null;
  return <SettingsForm onClose={() => setOpen(false)} />;
}

function SettingsForm({ onClose }: { onClose(): void }) {
  const { client } = useKeel();
  const ids = useId();
  const { view, error } = useSettings();
  const [saved, setSaved] = useState<string | null>(null);
  const [scripts, setScripts] = useState<string[]>([]);

  useEffect(() => {
    void loadSettings(client);
    client
      .invoke('agents.list', {})
      .then((catalog) => setScripts(catalog.builtinScripts.map((entry) => entry.name)))
      .catch(() => setScripts([]));
  }, [client]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const save = async (patch: SettingsPatch, what: string) => {
    setSaved(null);
    if (await saveSettings(client, patch)) setSaved(`Saved: ${what}.`);
  };
  const number = (value: string) => (value.trim() === '' ? NaN : Number(value));
  const settings: Settings | null = view?.settings ?? null;

  return (
    <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <div className="dialog settings-dialog" role="dialog" aria-modal="true" aria-labelledby={`${ids}-title`} data-testid="settings-dialog">
        <h2 id={`${ids}-title`}>Settings</h2>
        {!settings ? (
          <p className="muted">{error ?? 'Loading…'}</p>
        ) : (
          <div className="settings-grid">
            <label className="choice">
              <input type="checkbox" checked={settings.autoResume} onChange={(event) => void save({ autoResume: event.target.checked }, 'auto-resume')} data-testid="settings-auto-resume" />
              <span>
                Continue a run by itself after the agent restarted, hung or lost its engine (auto-resume), at most
                <input
                  type="number"
                  className="inline-number"
                  min={1}
                  max={10}
                  defaultValue={settings.autoResumeLimit}
                  onBlur={(event) => void save({ autoResumeLimit: number(event.target.value) }, 'auto-resume limit')}
                  aria-label="Auto-resume limit"
                />
                times in a row
              </span>
            </label>
            <NotificationsSetting enabled={settings.notifications} save={save} />
            <label className="field">
              <span>Stop an idle agent after (minutes; 0 = never)</span>
              <input
                type="number"
                min={0}
                defaultValue={settings.idleStopMinutes}
                onBlur={(event) => void save({ idleStopMinutes: number(event.target.value) }, 'idle stop')}
                data-testid="settings-idle-stop"
              />
              <small className="muted">The next prompt starts it again and the run continues.</small>
            </label>
            <label className="field">
              <span>An approval waits at most (seconds; 0 = forever)</span>
              <input
                type="number"
                min={0}
                defaultValue={settings.approvalTimeoutSeconds}
                onBlur={(event) => void save({ approvalTimeoutSeconds: number(event.target.value) }, 'approval timeout')}
                data-testid="settings-approval-timeout"
              />
              <small className="muted">Applies to runs opened after Keel restarts.</small>
            </label>
            <label className="field">
              <span>Theme</span>
              <select value={settings.theme} onChange={(event) => void save({ theme: event.target.value as Settings['theme'] }, 'theme')} data-testid="settings-theme">
                <option value="system">Follow the system</option>
                <option value="light">Light</option>
                <option value="dark">Dark</option>
              </select>
            </label>
            <label className="field">
              <span>Built-in script offered first for a new run</span>
              <select value={settings.defaultScript} onChange={(event) => void save({ defaultScript: event.target.value }, 'default script')} data-testid="settings-default-script">
                {(scripts.length > 0 ? scripts : [settings.defaultScript]).map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
            <LiveExportSetting enabled={settings.liveOtlpExport} onChange={(enabled) => void save({ liveOtlpExport: enabled }, 'live export')} />
            <div className="field">
              <span>Data directory</span>
              <code data-testid="settings-data-dir">{view!.dataDir}</code>
              <small className="muted">
                Settings are stored in <code>{view!.file}</code>.
              </small>
            </div>
          </div>
        )}
        {error && settings && (
          <p className="status-failed small" role="alert" data-testid="settings-error">
            {error}
          </p>
        )}
        {saved && !error && (
          <p className="status-ok small" role="status" data-testid="settings-saved">
            {saved}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={onClose} data-testid="settings-close">
            Done
          </button>
        </div>
      </div>
    </div>
  );
}
