import type { MessageChannel } from '../adapter.js';

/**
 * The small JSON-RPC peer Codex's app-server speaks: JSON-RPC 2.0 shapes but WITHOUT the
 * `jsonrpc` field (we never send it and ignore it when present), one message per line.
 * Both sides send requests; ids are per direction.
 */

export type RpcId = string | number;

export const INVALID_PARAMS = -32602;
export const METHOD_NOT_FOUND = -32601;
export const INTERNAL_ERROR = -32603;

/** Codex answered one of our requests with an error object. */
export class RpcResponseError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RpcResponseError';
  }
}

/** Thrown by a server-request handler to answer with a JSON-RPC error. */
export class RpcHandlerError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RpcHandlerError';
  }
}

/** Returned by a server-request handler when the request must not be answered (Codex withdrew it). */
export const NO_RESPONSE: unique symbol = Symbol('no response');

export interface RpcHandlers {
  onRequest(method: string, params: unknown, id: RpcId): Promise<unknown>;
  onNotification(method: string, params: unknown): void;
  /** A message that is JSON but not a request, response or notification we can route. */
  onMalformed(kind: 'invalid_message' | 'rpc_error', detail: string, sample: string): void;
}

interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

const isId = (value: unknown): value is RpcId => typeof value === 'string' || typeof value === 'number';
const sampleOf = (message: object) => JSON.stringify(message).slice(0, 200);

export class RpcPeer {
  private nextId = 1;
  private readonly pending = new Map<RpcId, Pending>();
  private stopped: Error | null = null;

  constructor(
    private readonly channel: MessageChannel,
    private readonly handlers: RpcHandlers,
  ) {
    channel.onMessage((message) => this.receive(message));
  }

  get isStopped(): boolean {
    return this.stopped !== null;
  }

  request<T = unknown>(method: string, params: unknown): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject });
      this.channel.send(params === undefined ? { id, method } : { id, method, params });
    });
  }

  notify(method: string, params?: unknown): void {
    if (this.stopped) return;
    this.channel.send(params === undefined ? { method } : { method, params });
  }

  /** Reject every pending request with `error`; later traffic in either direction is dropped. */
  stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  private receive(message: Record<string, unknown>): void {
    if (this.stopped) return;
    const { id, method } = message;
    if (typeof method === 'string') {
      if (id === undefined) this.handlers.onNotification(method, message.params);
      else if (isId(id)) this.serve(id, method, message.params);
      else this.handlers.onMalformed('invalid_message', `request ${method} has an invalid id`, sampleOf(message));
      return;
    }
    if (isId(id) && ('result' in message || 'error' in message)) {
      const pending = this.pending.get(id);
      if (!pending) {
        this.handlers.onMalformed('rpc_error', `a response for unknown request id ${String(id)}`, sampleOf(message));
        return;
      }
      this.pending.delete(id);
      if ('error' in message) {
        const error = (message.error ?? {}) as { code?: unknown; message?: unknown };
        const code = typeof error.code === 'number' ? error.code : INTERNAL_ERROR;
        const text = typeof error.message === 'string' ? error.message : JSON.stringify(message.error);
        pending.reject(new RpcResponseError(pending.method, code, text));
      } else {
        pending.resolve(message.result);
      }
      return;
    }
    // `{id: null, error}` is how a peer reports a line it could not parse.
    if ('error' in message) this.handlers.onMalformed('rpc_error', `Codex reported an error without a request: ${sampleOf(message.error ?? {})}`, sampleOf(message));
    else this.handlers.onMalformed('invalid_message', 'a message that is neither a request, a response nor a notification', sampleOf(message));
  }

  private serve(id: RpcId, method: string, params: unknown): void {
    const answer = (body: { result: unknown } | { error: { code: number; message: string } }) => {
      if (!this.stopped) this.channel.send({ id, ...body });
    };
    this.handlers.onRequest(method, params, id).then(
      (result) => {
        if (result !== NO_RESPONSE) answer({ result: result ?? {} });
      },
      (error: unknown) => {
        const code = error instanceof RpcHandlerError ? error.code : INTERNAL_ERROR;
        answer({ error: { code, message: error instanceof Error ? error.message : String(error) } });
      },
    );
  }
}
