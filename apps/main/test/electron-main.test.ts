import type { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallOutcome } from '@keel/core';

/**
 * A stand-in for the `electron` module, enough to run the real main.ts under Node and watch
 * what it asks of Electron, in which order. It cannot prove Electron behaves; it proves
 * main.ts asks for the right things.
 */
const fake = await vi.hoisted(async () => {
  // vi.hoisted runs before the imports above, so it loads what it needs itself.
  const { EventEmitter: Emitter } = await import('node:events');
  const state = {
    ready: false,
    resolveReady: () => {},
    log: [] as string[],
    paths: new Map<string, string>(),
    singleInstance: true,
    schemes: [] as unknown[],
    handledSchemes: new Map<string, (request: Request) => Promise<Response>>(),
    windows: [] as Array<{ options: { webPreferences: Record<string, unknown> }; url: string; webContents: EventEmitter & Record<string, unknown> }>,
    permission: { request: null as null | ((...args: unknown[]) => void), check: null as null | ((...args: unknown[]) => boolean), device: null as null | ((...args: unknown[]) => boolean) },
    menu: null as unknown,
  };
  let readyPromise = new Promise<void>((resolve) => (state.resolveReady = resolve));
  let nextContentsId = 1;

  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    setName: (name: string) => state.log.push(`setName:${name}`),
    getName: () => 'Keel',
    setAboutPanelOptions: () => {},
    showAboutPanel: () => {},
    setPath: (name: string, value: string) => {
      state.log.push(`setPath:${name}`);
      state.paths.set(name, value);
    },
    getPath: (name: string) => state.paths.get(name) ?? `/nonexistent/${name}`,
    enableSandbox: () => state.log.push('enableSandbox'),
    requestSingleInstanceLock: () => state.singleInstance,
    isReady: () => state.ready,
    whenReady: vi.fn(() => readyPromise),
    quit: vi.fn(() => {
      state.log.push('quit');
      const event = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
      app.emit('will-quit', event);
    }),
    exit: vi.fn(),
  });

  const makeContents = () => {
    const id = nextContentsId++;
    const contents = Object.assign(new Emitter(), {
      id,
      mainFrame: { url: '', parent: null, processId: 1000 + id, routingId: 1 },
      sent: [] as unknown[][],
      send: (...args: unknown[]) => contents.sent.push(args),
      isDestroyed: () => false,
      windowOpenHandler: null as null | ((details: { url: string }) => unknown),
      setWindowOpenHandler: (handler: (details: { url: string }) => unknown) => (contents.windowOpenHandler = handler),
    });
    return contents;
  };

  class BrowserWindow extends Emitter {
    readonly webContents = makeContents();
    url = '';
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      super();
      app.emit('web-contents-created', {}, this.webContents);
      state.windows.push(this as never);
    }
    loadURL(url: string) {
      this.url = url;
      this.webContents.mainFrame.url = url;
      return Promise.resolve();
    }
    isMinimized = () => false;
    restore = () => {};
    show = () => {};
    focus = () => {};
    isDestroyed = () => false;
    static getAllWindows = () => state.windows;
  }

  const ipcMain = Object.assign(new Emitter(), {
    handlers: new Map<string, (...args: unknown[]) => unknown>(),
    handle(channel: string, listener: (...args: unknown[]) => unknown) {
      ipcMain.handlers.set(channel, listener);
    },
    removeHandler(channel: string) {
      ipcMain.handlers.delete(channel);
    },
  });

  const electron = {
    app,
    BrowserWindow,
    ipcMain,
    dialog: { showErrorBox: vi.fn() },
    Menu: { buildFromTemplate: (template: unknown) => template, setApplicationMenu: (menu: unknown) => (state.menu = menu) },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => {
        state.log.push(`registerSchemesAsPrivileged(ready=${state.ready})`);
        state.schemes.push(...schemes);
      },
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) => state.handledSchemes.set(scheme, handler),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: (...args: unknown[]) => void) => (state.permission.request = handler),
        setPermissionCheckHandler: (handler: (...args: unknown[]) => boolean) => (state.permission.check = handler),
        setDevicePermissionHandler: (handler: (...args: unknown[]) => boolean) => (state.permission.device = handler),
      },
    },
  };

  const reset = () => {
    state.ready = false;
    readyPromise = new Promise<void>((resolve) => (state.resolveReady = resolve));
    state.log.length = 0;
    state.paths.clear();
    state.singleInstance = true;
    state.schemes.length = 0;
    state.handledSchemes.clear();
    state.windows.length = 0;
    state.menu = null;
    app.removeAllListeners();
    app.quit.mockClear();
    app.exit.mockClear();
    app.whenReady.mockClear();
    ipcMain.removeAllListeners();
    ipcMain.handlers.clear();
  };
  const makeReady = () => {
    state.ready = true;
    state.resolveReady();
  };
  return { electron, state, reset, makeReady, makeContents };
});

vi.mock('electron', () => ({ ...fake.electron, default: fake.electron }));

let dataDir = '';
const savedDataDir = process.env.KEEL_DATA_DIR;

beforeEach(() => {
  fake.reset();
  vi.resetModules();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-main-'));
  process.env.KEEL_DATA_DIR = dataDir;
});

afterEach(async () => {
  // Let main close its Workstation, as a quit would.
  if (fake.state.ready && fake.electron.ipcMain.handlers.size > 0) fake.electron.app.quit();
  await vi.waitFor(() => expect(fake.electron.ipcMain.handlers.size).toBe(0));
  if (savedDataDir === undefined) delete process.env.KEEL_DATA_DIR;
  else process.env.KEEL_DATA_DIR = savedDataDir;
});

async function startMain() {
  await import('../src/electron/main.js');
  fake.makeReady();
  await vi.waitFor(() => expect(fake.state.windows).toHaveLength(1));
  return fake.state.windows[0]!;
}

const invoke = (contents: unknown, frame: unknown, method: string, input: unknown) =>
  fake.electron.ipcMain.handlers.get('keel:invoke')!({ sender: contents, senderFrame: frame }, method, input) as Promise<CallOutcome>;

describe('Electron main', () => {
  it('does the pre-ready work before ready: name, data paths, privileged scheme, sandbox', async () => {
    await import('../src/electron/main.js');
    expect(fake.state.log).toEqual([
      'setName:Keel',
      'setPath:userData',
      'setPath:sessionData',
      'registerSchemesAsPrivileged(ready=false)',
      'enableSandbox',
    ]);
    expect(fake.state.paths.get('userData')).toBe(dataDir);
    expect(fake.state.paths.get('sessionData')).toBe(path.join(dataDir, 'chromium'));
    expect(fake.state.schemes).toEqual([{ scheme: 'keel', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    const privileges = (fake.state.schemes[0] as { privileges: Record<string, unknown> }).privileges;
    expect(privileges.corsEnabled).toBeUndefined();
    expect(privileges.bypassCSP).toBeUndefined();
    fake.makeReady();
    await vi.waitFor(() => expect(fake.state.windows).toHaveLength(1));
  });

  it('quits without opening anything when another instance holds the lock', async () => {
    fake.state.singleInstance = false;
    await import('../src/electron/main.js');
    expect(fake.electron.app.quit).toHaveBeenCalled();
    expect(fake.electron.app.listenerCount('second-instance')).toBe(0);
    // Nothing waits for ready (no whenReady, no 'ready' listener), so nothing can follow it;
    // whatever had chained on the ready promise runs before this test's own await of it.
    expect(fake.electron.app.whenReady).not.toHaveBeenCalled();
    expect(fake.electron.app.listenerCount('ready')).toBe(0);
    fake.makeReady();
    await fake.electron.app.whenReady();
    expect(fake.state.windows).toHaveLength(0);
  });

  it('opens one locked-down window on keel://app with the compiled preload', async () => {
    const window = await startMain();
    expect(window.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    });
    expect(String(window.options.webPreferences.preload)).toMatch(/preload\.cjs$/);
    expect(window.url).toBe('keel://app/index.html');
    expect([...fake.state.handledSchemes.keys()]).toEqual(['keel']);
    expect(fake.electron.app.listenerCount('second-instance')).toBe(1);
  });

  it('denies every permission request and check', async () => {
    await startMain();
    const callback = vi.fn();
    fake.state.permission.request?.({}, 'media', callback);
    expect(callback).toHaveBeenCalledWith(false);
    expect(fake.state.permission.check?.({}, 'clipboard-read')).toBe(false);
    expect(fake.state.permission.device?.({})).toBe(false);
  });

  it('guards every web contents: navigation, redirects, webviews and new windows', async () => {
    await startMain();
    const contents = fake.makeContents();
    fake.electron.app.emit('web-contents-created', {}, contents);
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      const event = { url: 'https://evil.example/', preventDefault: vi.fn() };
      contents.emit(name, event);
      expect(event.preventDefault, name).toHaveBeenCalled();
    }
    const attach = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', attach, {}, { src: 'https://evil.example/' });
    expect(attach.preventDefault).toHaveBeenCalled();
    expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  });

  it('answers its own window through IPC and refuses other senders', async () => {
    const window = await startMain();
    const own = window.webContents;
    const outcome = await invoke(own, own.mainFrame, 'app.info', {});
    expect(outcome).toMatchObject({ ok: true, value: { name: 'Keel', mode: 'electron', dataDir } });
    const stranger = fake.makeContents();
    stranger.mainFrame.url = 'keel://app/index.html';
    expect(await invoke(stranger, stranger.mainFrame, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('serves the renderer with its CSP through the keel scheme', async () => {
    await startMain();
    const response = await fake.state.handledSchemes.get('keel')!(new Request('keel://app/%2e%2e/package.json'));
    expect(response.status).toBe(404);
  });

  it('holds the quit until the Workstation is closed, then quits for real', async () => {
    await startMain();
    const event = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    fake.electron.app.emit('will-quit', event);
    expect(event.defaultPrevented).toBe(true);
    expect(fake.electron.ipcMain.handlers.size).toBe(0);
    await vi.waitFor(() => expect(fake.electron.app.quit).toHaveBeenCalled());
    // The second will-quit (from that quit) is let through.
    const again = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    fake.electron.app.emit('will-quit', again);
    expect(again.defaultPrevented).toBe(false);
  });
});
