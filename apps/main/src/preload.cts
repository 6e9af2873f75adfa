/**
 * The Electron preload. Sandboxed preloads cannot be ES modules and may only `require`
 * a few built-ins, so this file is CommonJS, self-contained and needs nothing but
 * `electron`. It exposes exactly `window.keel` (PreloadBridge) and never ipcRenderer.
 */
import electron = require('electron');
import type { CallOutcome, PreloadBridge, StreamMessage } from '@keel/core/contract';
import type { IPC_CHANNELS } from './electron/channels.js';

const { contextBridge, ipcRenderer } = electron;

// Repeated from electron/channels.ts (this file cannot import at runtime); `satisfies`
// makes the compiler prove both sides use the same strings.
const CHANNELS = {
  invoke: 'keel:invoke',
  subscribe: 'keel:subscribe',
  unsubscribe: 'keel:unsubscribe',
  stream: 'keel:stream',
} as const satisfies typeof IPC_CHANNELS;

const listeners = new Map<number, (message: StreamMessage) => void>();
let nextSubscriptionId = 1;

const isEnd = (message: unknown): boolean =>
  typeof message === 'object' && message !== null && (message as { t?: unknown }).t === 'end';

// One listener for every stream; messages for unknown ids (already unsubscribed) are dropped.
ipcRenderer.on(CHANNELS.stream, (_event, id: unknown, message: unknown) => {
  if (typeof id !== 'number') return;
  const listener = listeners.get(id);
  if (!listener) return;
  if (isEnd(message)) listeners.delete(id);
  listener(message as StreamMessage);
});

const bridge: PreloadBridge = {
  invoke(method, input) {
    return ipcRenderer.invoke(CHANNELS.invoke, String(method), input).then(
      (outcome: unknown) => outcome as CallOutcome,
      // Only reached when main has no handler (e.g. shutting down): settle, never throw raw IPC errors.
      (): CallOutcome => ({ ok: false, error: { code: 'unavailable', message: 'Keel is not answering.' } }),
    );
  },
  subscribe(stream, params, onMessage) {
    if (typeof onMessage !== 'function') throw new TypeError('subscribe needs an onMessage function.');
    const id = nextSubscriptionId++;
    listeners.set(id, onMessage);
    ipcRenderer.send(CHANNELS.subscribe, id, String(stream), params);
    return () => {
      // Only the first call talks to main; a stream that already ended has nothing to stop.
      if (listeners.delete(id)) ipcRenderer.send(CHANNELS.unsubscribe, id);
    };
  },
};

contextBridge.exposeInMainWorld('keel', bridge);
