/**
 * Electron main entry: wires the Workstation to one window through the checked IPC bridge.
 * Everything security-relevant lives in its own module; this file only orders the steps.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import { ensureDataDir, KEEL_VERSION, openWorkstation, reportUnhandledRejections, type Workstation } from '@keel/core';
import { watchAttention } from './attention.js';
import { rendererDistDir } from '../headless/renderer-dir.js';
import { APP_ENTRY_URL } from './app-origin.js';
import { configureAppPaths } from './app-paths.js';
import { registerIpcBridge, type IpcBridge } from './ipc.js';
import { installAppMenu } from './menu.js';
import { guardWebContents } from './navigation-guard.js';
import { denyAllPermissions } from './permissions.js';
import { registerAppScheme, serveAppScheme } from './protocol.js';
import { createSenderCheck } from './sender.js';
import { createMainWindow } from './window.js';

const PRELOAD_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'preload.cjs');

/** Scheme and host only: blocked URLs may carry secrets in their path or query. */
function originOf(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}`;
  } catch {
    return '(unparseable)';
  }
}

// Before `ready`: name, paths, scheme privileges and the global sandbox switch.
app.setName('Keel');
app.setAboutPanelOptions({ applicationName: 'Keel', applicationVersion: KEEL_VERSION });
configureAppPaths(app);
registerAppScheme();
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  // Another Keel owns the data directory; it gets focused through 'second-instance'.
  app.quit();
} else {
  start();
}

function start(): void {
  /** Ids of the web contents of our own windows: the only ones the IPC bridge answers. */
  const appContents = new Set<number>();
  let mainWindow: BrowserWindow | null = null;
  /** Set once opening starts, so a quit during startup still waits for it and closes it. */
  let workstation: Promise<Workstation> | null = null;
  let bridge: IpcBridge | null = null;
  let shutDown = false;

  const openMainWindow = () => {
    const window = createMainWindow({ preloadPath: PRELOAD_PATH, url: APP_ENTRY_URL });
    const contentsId = window.webContents.id;
    appContents.add(contentsId);
    window.on('closed', () => {
      appContents.delete(contentsId);
      if (mainWindow === window) mainWindow = null;
    });
    mainWindow = window;
  };

  const focusMainWindow = () => {
    if (!mainWindow) {
      if (bridge && !shutDown) openMainWindow();
      return;
    }
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  };

  app.on('web-contents-created', (_event, contents) => {
    guardWebContents(contents, (what, url) => console.warn(`[keel] blocked ${what} to ${originOf(url)}`));
  });
  app.on('session-created', denyAllPermissions);
  app.on('second-instance', focusMainWindow);
  app.on('activate', focusMainWindow);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', (event) => {
    if (shutDown || !workstation) return;
    // Hold the quit until the Workstation has closed its stores, then quit for real.
    event.preventDefault();
    shutDown = true;
    bridge?.dispose();
    void workstation
      .then((opened) => opened.close())
      .catch((error: unknown) => console.error('[keel] error while closing the workstation:', error))
      .finally(() => app.quit());
  });

  const ready = async () => {
    reportUnhandledRejections((message) => console.error(message));
    await app.whenReady();
    denyAllPermissions(session.defaultSession);
    serveAppScheme(rendererDistDir());
    // File > Export diagnostics… / Open bundle…: the renderer acts on the run it shows, through the
    // same procedures as its buttons (app.menu stream); nothing happens before the Workstation is open.
    const menuCommand = (command: 'export-diagnostics' | 'open-bundle') => {
      void workstation?.then((opened) => {
        if (!opened.menuCommand(command)) console.warn(`[keel] ${command}: no window is listening`);
      });
    };
    installAppMenu({ exportDiagnostics: () => menuCommand('export-diagnostics'), openBundle: () => menuCommand('open-bundle') });
    const dataDir = ensureDataDir(app.getPath('userData'));
    workstation = openWorkstation({
      dataDir,
      mode: 'electron',
      chooseFolder: async (title) => {
        const parent = BrowserWindow.getFocusedWindow();
        const options = { title, properties: ['openDirectory' as const, 'createDirectory' as const] };
        const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
        return result.canceled ? null : (result.filePaths[0] ?? null);
      },
      // Diagnostics bundles (issue 14): the user picks where a bundle goes and which one to open.
      chooseBundleFile: async (defaultName) => {
        const parent = BrowserWindow.getFocusedWindow();
        const options = { title: 'Export diagnostics', defaultPath: defaultName, filters: [{ name: 'Keel diagnostics bundle', extensions: ['zip'] }] };
        const result = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
        return result.canceled ? null : (result.filePath ?? null);
      },
      chooseBundleToOpen: async () => {
        const parent = BrowserWindow.getFocusedWindow();
        const options = { title: 'Open a diagnostics bundle', properties: ['openFile' as const], filters: [{ name: 'Keel diagnostics bundle', extensions: ['zip'] }] };
        const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
        return result.canceled ? null : (result.filePaths[0] ?? null);
      },
    });
    const opened = await workstation;
    if (shutDown) return; // quit while opening; will-quit closes it
    watchAttention(opened, () => {
      focusMainWindow();
      return mainWindow;
    });
    bridge = registerIpcBridge({
      ipcMain,
      router: opened.router,
      checkSender: createSenderCheck({ isAppContents: (contents) => appContents.has(contents.id) }),
      onRejected: (channel, reason) => console.warn(`[keel] refused ${channel}: ${reason}`),
    });
    openMainWindow();
  };

  ready().catch((error: unknown) => {
    dialog.showErrorBox('Keel could not start', error instanceof Error ? error.message : String(error));
    app.exit(1);
  });
}
