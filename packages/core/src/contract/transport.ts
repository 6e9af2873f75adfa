import type { CallOutcome, StreamMessage } from './wire.js';

/**
 * The untyped pipe every transport implements (in-memory, WebSocket, Electron preload).
 * The typed client is derived from the contract on top of it.
 */
export interface Transport {
  call(method: string, input: unknown): Promise<CallOutcome>;
  /**
   * `params` may be a function: a reconnecting transport calls it again on every
   * re-subscribe, so a stream can resume where it left off (e.g. from the last seq + 1).
   */
  subscribe(stream: string, params: unknown | (() => unknown), onMessage: (message: StreamMessage) => void): () => void;
}

/** The only surface the Electron preload exposes to the page (`window.keel`). */
export interface PreloadBridge {
  invoke(method: string, input: unknown): Promise<CallOutcome>;
  subscribe(stream: string, params: unknown, onMessage: (message: StreamMessage) => void): () => void;
}
