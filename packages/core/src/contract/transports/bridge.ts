import type { PreloadBridge, Transport } from '../transport.js';

/** The Electron transport: the preload's two functions are already the untyped pipe. */
export function bridgeTransport(bridge: PreloadBridge): Transport {
  return {
    call: (method, input) => bridge.invoke(method, input),
    subscribe: (stream, params, onMessage) => bridge.subscribe(stream, params, onMessage),
  };
}
