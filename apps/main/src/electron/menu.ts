import { app, Menu } from 'electron';
import { appMenuTemplate } from './menu-template.js';

/** Installs the native application menu. */
export function installAppMenu(): void {
  const template = appMenuTemplate({ appName: app.getName(), isPackaged: app.isPackaged, showAbout: () => app.showAboutPanel() });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
