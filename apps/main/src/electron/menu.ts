import { app, Menu } from 'electron';
import { appMenuTemplate, type MenuOptions } from './menu-template.js';

/** Installs the native application menu; `commands` carry out the File menu's entries. */
export function installAppMenu(commands: Pick<MenuOptions, 'exportDiagnostics' | 'openBundle'>): void {
  const template = appMenuTemplate({ appName: app.getName(), isPackaged: app.isPackaged, showAbout: () => app.showAboutPanel(), ...commands });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
