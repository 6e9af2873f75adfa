import type { PreloadBridge, Transport } from '../transport.js';

/** The Electron transport: the preload's two functions are already the untyped pipe. */
export function bridgeTransport(bridge: PreloadBridge): Transport {
  return {
    call: (method, input) => bridge.invoke(method, input),
    // IPC never drops while the window lives: params are evaluated once.
    subscribe: (stream, params, onMessage) => bridge.subscribe(stream, typeof params === 'function' ? (params as () => unknown)() : params, onMessage),
  };
}
