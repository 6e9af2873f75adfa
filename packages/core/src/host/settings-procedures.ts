import type { ProcedureHandlers } from './router.js';
import type { SettingsStore } from './settings-store.js';

type SettingsHandlers = Pick<ProcedureHandlers, 'settings.get' | 'settings.update'>;

/** The settings procedures (issue 15): read, and change atomically. */
export function settingsProcedures(store: SettingsStore): SettingsHandlers {
  return {
    'settings.get': () => store.view(),
    'settings.update': ({ patch }) => store.update(patch),
  };
}
