import type { SettingsView } from '../contract/schemas/settings.js';
import type { ProcedureHandlers } from './router.js';
import type { SettingsStore } from './settings-store.js';

type SettingsHandlers = Pick<ProcedureHandlers, 'settings.get' | 'settings.update'>;

/** The settings procedures (issue 15): read, and change atomically; `onChanged` applies a stored change. */
export function settingsProcedures(store: SettingsStore, onChanged: (view: SettingsView) => void | Promise<void> = () => {}): SettingsHandlers {
  return {
    'settings.get': () => store.view(),
    'settings.update': async ({ patch }) => {
      const view = store.update(patch);
      await onChanged(view);
      return view;
    },
  };
}
