/**
 * The only IPC channels between main and preload. The preload repeats these literals (it
 * must be self-contained) and checks them against this object at compile time.
 */
export const IPC_CHANNELS = {
  /** renderer -> main, invoke: (method, input) -> CallOutcome */
  invoke: 'keel:invoke',
  /** renderer -> main, send: (id, stream, params) */
  subscribe: 'keel:subscribe',
  /** renderer -> main, send: (id) */
  unsubscribe: 'keel:unsubscribe',
  /** main -> renderer, send: (id, StreamMessage) */
  stream: 'keel:stream',
} as const;
