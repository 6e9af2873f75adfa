import { KeelRpcError, type RpcErrorShape } from './errors.js';
import type { ProcedureInput, ProcedureName, ProcedureOutput } from './procedures.js';
import type { StreamEvent, StreamName, StreamParams } from './streams.js';
import type { Transport } from './transport.js';

export interface SubscribeHandlers<E> {
  onEvent(event: E): void;
  /** Called once when the server ends the stream; `error` is set when it ended on a failure. */
  onEnd?(error?: KeelRpcError): void;
}

export interface KeelClient {
  invoke<M extends ProcedureName>(method: M, input: ProcedureInput<M>): Promise<ProcedureOutput<M>>;
  /** `params` may be a function, re-evaluated on every re-subscribe after a reconnect. */
  subscribe<S extends StreamName>(
    stream: S,
    params: StreamParams<S> | (() => StreamParams<S>),
    handlers: SubscribeHandlers<StreamEvent<S>>,
  ): () => void;
}

/** The typed client: the contract's names and types over any transport. Errors arrive as KeelRpcError. */
export function createClient(transport: Transport): KeelClient {
  const toError = (shape: RpcErrorShape) => KeelRpcError.fromShape(shape);
  return {
    async invoke(method, input) {
      const outcome = await transport.call(method, input);
      if (!outcome.ok) throw toError(outcome.error);
      return outcome.value as never;
    },
    subscribe(stream, params, handlers) {
      return transport.subscribe(stream, params, (message) => {
        if (message.t === 'event') handlers.onEvent(message.event as never);
        else handlers.onEnd?.(message.error ? toError(message.error) : undefined);
      });
    },
  };
}
