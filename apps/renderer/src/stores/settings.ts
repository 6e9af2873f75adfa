import type { KeelClient, SettingsPatch, SettingsView } from '@keel/core/contract';
import { create } from 'zustand';
import { describeError } from '../lib/errors.js';
import { applyTheme } from '../lib/theme.js';

interface SettingsState {
  view: SettingsView | null;
  error: string | null;
  open: boolean;
  setOpen(open: boolean): void;
}

/** The host's settings as last read or saved, and whether the Settings dialog is open. */
export const useSettings = create<SettingsState>((set) => ({
  view: null,
  error: null,
  open: false,
  setOpen: (open) => set({ open }),
}));

export async function loadSettings(client: KeelClient): Promise<void> {
  try {
    const view = await client.invoke('settings.get', {});
    useSettings.setState({ view, error: null });
    applyTheme(view.settings.theme);
  } catch (error) {
    useSettings.setState({ error: describeError(error) });
  }
}

/** Saves one change (written atomically by the host); the answer is what is stored. */
export async function saveSettings(client: KeelClient, patch: SettingsPatch): Promise<boolean> {
  try {
    const view = await client.invoke('settings.update', { patch });
    useSettings.setState({ view, error: null });
    applyTheme(view.settings.theme);
    return true;
  } catch (error) {
    useSettings.setState({ error: describeError(error) });
    return false;
  }
}
