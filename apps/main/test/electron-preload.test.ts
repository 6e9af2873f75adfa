import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it, vi } from 'vitest';
import type { CallOutcome, PreloadBridge, StreamMessage } from '@keel/core/contract';
import { IPC_CHANNELS } from '../src/electron/channels.js';

const PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'preload.cts');

/**
 * Runs the real preload source the way a sandboxed renderer does: CommonJS, with a `require`
 * that offers only `electron` (anything else throws, proving the preload is self-contained).
 */
function loadPreload(invokeResult: () => Promise<unknown> = async () => ({ ok: true, value: 1 })) {
  const { outputText } = ts.transpileModule(fs.readFileSync(PRELOAD, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  const exposed = new Map<string, unknown>();
  const streamListeners: Array<(event: unknown, ...args: unknown[]) => void> = [];
  const ipcRenderer = {
    invoke: vi.fn((..._args: unknown[]) => invokeResult()),
    send: vi.fn(),
    on: vi.fn((channel: string, listener: (event: unknown, ...args: unknown[]) => void) => {
      if (channel === IPC_CHANNELS.stream) streamListeners.push(listener);
    }),
  };
  const electron = { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) }, ipcRenderer };
  const required: string[] = [];
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`a sandboxed preload cannot require "${name}"`);
  };
  const module = { exports: {} };
  vm.runInNewContext(outputText, { require: sandboxRequire, module, exports: module.exports });
  const fromMain = (id: unknown, message: unknown) => {
    for (const listener of streamListeners) listener({}, id, message);
  };
  return { exposed, ipcRenderer, required, fromMain, bridge: exposed.get('keel') as PreloadBridge };
}

describe('preload', () => {
  it('requires only electron and exposes exactly window.keel = { invoke, subscribe }', () => {
    const { exposed, required, bridge } = loadPreload();
    expect(required).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['keel']);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'subscribe']);
  });

  it('invokes keel:invoke with the method coerced to a string and returns the outcome', async () => {
    const { bridge, ipcRenderer } = loadPreload();
    await expect(bridge.invoke(42 as unknown as string, { a: 1 })).resolves.toEqual({ ok: true, value: 1 });
    expect(ipcRenderer.invoke).toHaveBeenCalledWith(IPC_CHANNELS.invoke, '42', { a: 1 });
  });

  it('settles a failed IPC invoke as unavailable instead of throwing', async () => {
    const { bridge } = loadPreload(async () => {
      throw new Error("No handler registered for 'keel:invoke'");
    });
    const outcome: CallOutcome = await bridge.invoke('app.info', {});
    expect(outcome).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });

  it('subscribes, routes stream messages by id, and forgets a stream once it ended', () => {
    const { bridge, ipcRenderer, fromMain } = loadPreload();
    const a: StreamMessage[] = [];
    const b: StreamMessage[] = [];
    const stopA = bridge.subscribe(7 as unknown as string, { p: 1 }, (message) => a.push(message));
    bridge.subscribe('app.health', {}, (message) => b.push(message));
    expect(ipcRenderer.send.mock.calls).toEqual([
      [IPC_CHANNELS.subscribe, 1, '7', { p: 1 }],
      [IPC_CHANNELS.subscribe, 2, 'app.health', {}],
    ]);
    fromMain(2, { t: 'event', event: 'beat' });
    fromMain(1, { t: 'end' });
    fromMain(1, { t: 'event', event: 'late' });
    fromMain(99, { t: 'event', event: 'stray' });
    expect(a).toEqual([{ t: 'end' }]);
    expect(b).toEqual([{ t: 'event', event: 'beat' }]);
    // The stream already ended: unsubscribing has nothing to tell main.
    stopA();
    expect(ipcRenderer.send).toHaveBeenCalledTimes(2);
  });

  it('unsubscribes once, however often the stopper is called', () => {
    const { bridge, ipcRenderer, fromMain } = loadPreload();
    const seen: StreamMessage[] = [];
    const stop = bridge.subscribe('app.health', {}, (message) => seen.push(message));
    stop();
    stop();
    expect(ipcRenderer.send.mock.calls.filter(([channel]) => channel === IPC_CHANNELS.unsubscribe)).toEqual([[IPC_CHANNELS.unsubscribe, 1]]);
    fromMain(1, { t: 'event', event: 'after' });
    expect(seen).toEqual([]);
  });

  it('refuses a subscription without a callback', () => {
    const { bridge, ipcRenderer } = loadPreload();
    // The TypeError comes from the preload's own realm, so match the message, not the class.
    expect(() => bridge.subscribe('app.health', {}, undefined as unknown as () => void)).toThrow(/onMessage function/);
    expect(ipcRenderer.send).not.toHaveBeenCalled();
  });
});
