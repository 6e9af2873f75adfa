import type { MenuItemConstructorOptions } from 'electron';

export interface MenuOptions {
  appName: string;
  /** Packaged builds get no Reload and no DevTools. */
  isPackaged: boolean;
  showAbout(): void;
  /** File > Export diagnostics…: the renderer exports the run it shows (the same `diagnostics.export` as the run's button). */
  exportDiagnostics(): void;
  /** File > Open bundle…: the open dialog, then the bundle's runs under "Imported" (`diagnostics.import`). */
  openBundle(): void;
}

/**
 * The native menu: About and Quit; File with Export diagnostics… and Open bundle… (issue 14);
 * the standard Edit roles (copy/paste need them on macOS); dev tools when unpackaged.
 */
export function appMenuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const template: MenuItemConstructorOptions[] = [
    {
      label: options.appName,
      submenu: [
        { label: `About ${options.appName}`, click: () => options.showAbout() },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    {
      label: 'File',
      submenu: [
        { id: 'export-diagnostics', label: 'Export diagnostics…', accelerator: 'CmdOrCtrl+Shift+E', click: () => options.exportDiagnostics() },
        { id: 'open-bundle', label: 'Open bundle…', accelerator: 'CmdOrCtrl+O', click: () => options.openBundle() },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
  ];
  if (!options.isPackaged) {
    template.push({ label: 'Develop', submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }] });
  }
  template.push({ role: 'windowMenu' });
  return template;
}
