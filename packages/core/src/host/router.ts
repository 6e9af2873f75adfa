import type { z } from 'zod';
import { KeelRpcError, issuesOf, type RpcErrorShape } from '../contract/errors.js';
import { procedures, type ProcedureName, type ProcedureOutput, type Procedures } from '../contract/procedures.js';
import { streams, type StreamEvent, type StreamName, type Streams } from '../contract/streams.js';
import type { Transport } from '../contract/transport.js';
import type { CallsInFlight } from '../ledger/index.js';
import type { CallOutcome, StreamMessage } from '../contract/wire.js';

/** Who is calling; transports fill it in, handlers may log it. */
export interface CallContext {
  readonly transport: 'electron' | 'socket' | 'memory';
}

export interface StreamSink<E> {
  next(event: E): void;
  end(error?: KeelRpcError): void;
  /**
   * True while the subscriber is behind (its connection has too much unsent output). A producer
   * that can wait — history paging — stops sending and calls `whenReady`; live producers keep
   * sending and the connection bounds them (see host/connection.ts).
   */
  readonly paused: boolean;
  /** Calls `resume` once, asynchronously, when the subscriber can take more. Returns a cancel. */
  whenReady(resume: () => void): () => void;
}

/** A subscriber's backpressure, as its transport sees it. */
export interface Flow {
  readonly paused: boolean;
  whenReady(resume: () => void): () => void;
}

/** For transports with no view of their peer's backlog (in-process, Electron IPC): never paused. */
export const unpacedFlow: Flow = {
  paused: false,
  whenReady(resume) {
    const timer = setImmediate(resume);
    return () => clearImmediate(timer);
  },
};

export type ProcedureHandlers = {
  [M in ProcedureName]: (
    input: z.output<Procedures[M]['input']>,
    ctx: CallContext,
  ) => Promise<ProcedureOutput<M>> | ProcedureOutput<M>;
};

export type StreamHandlers = {
  [S in StreamName]: (
    params: z.output<Streams[S]['params']>,
    sink: StreamSink<StreamEvent<S>>,
    ctx: CallContext,
  ) => () => void;
};

export interface Handlers {
  procedures: ProcedureHandlers;
  streams: StreamHandlers;
}

export interface Router {
  call(method: string, input: unknown, ctx: CallContext): Promise<CallOutcome>;
  /** `flow` is the subscriber's backpressure (default: never paused); stream handlers see it on their sink. */
  subscribe(stream: string, params: unknown, ctx: CallContext, onMessage: (message: StreamMessage) => void, flow?: Flow): () => void;
}

function toShape(error: unknown): RpcErrorShape {
  if (error instanceof KeelRpcError) return error.toShape();
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message };
}

/**
 * Outputs that are core's own fold of validated ledger events and grow with a run: `run.view`
 * of a 1M-event run is ~28 MiB, and checking all of it cost ~0.5 s of the host's CPU per call
 * (issue 16). Outside tests (and unless KEEL_CHECK_OUTPUTS=1) the router checks such an output
 * with its transcript cut to the last FOLD_OUTPUT_SAMPLE items — every other field, and the
 * newest items, in full — and passes the fold's value on as it is. Under vitest every item is
 * checked, so a fold that builds a wrong item still fails its tests.
 */
const FOLD_OUTPUTS: ReadonlySet<string> = new Set(['run.view']);
/**
 * Fold outputs that carry the view one level down (`run.viewWindow`'s `view`): the app's open of
 * every long run, 2,000 items checked whole cost 100-300 ms of the host per open (issue 16, UI).
 */
const NESTED_FOLD_OUTPUTS: ReadonlySet<string> = new Set(['run.viewWindow']);
const FOLD_OUTPUT_SAMPLE = 200;
const checkWholeOutputs = () => process.env.VITEST !== undefined || process.env.KEEL_CHECK_OUTPUTS === '1';

/** The view with its items cut to the last FOLD_OUTPUT_SAMPLE, or null when it is short enough to check whole. */
function sampledView(value: unknown): unknown {
  const items = (value as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || items.length <= FOLD_OUTPUT_SAMPLE) return null;
  return { ...(value as object), items: items.slice(-FOLD_OUTPUT_SAMPLE) };
}

/** The part of a large fold output the router checks, or null to check (and copy) it whole. */
function sampledOutput(name: string, value: unknown): unknown {
  if (checkWholeOutputs()) return null;
  if (FOLD_OUTPUTS.has(name)) return sampledView(value);
  if (!NESTED_FOLD_OUTPUTS.has(name)) return null;
  const view = sampledView((value as { view?: unknown } | null)?.view);
  return view === null ? null : { ...(value as object), view };
}

/** A router that lets background work see its calls in flight (and wait for them to settle). */
export interface AnsweringRouter extends Router {
  /**
   * Its calls as background work sees them: busy while a call that began less than `withinMs`
   * ago is being answered (one waiting on a person for minutes is not).
   */
  callsInFlight(withinMs: number): CallsInFlight;
}

/**
 * The one router: derived from the contract, it validates every input before a handler
 * sees it and every output before a caller does (a large fold output as FOLD_OUTPUTS says).
 * Unknown names never reach a handler.
 */
export function createRouter(handlers: Handlers): AnsweringRouter {
  // When each call being answered began: the ledger's start-up check waits for young ones.
  const inFlight = new Set<{ at: number }>();
  // Background work waiting for the calls to settle: each looks again when a call ends.
  const waiting = new Set<() => void>();
  const answer = async (method: string, input: unknown, ctx: CallContext): Promise<CallOutcome> => {
    if (!Object.hasOwn(procedures, method)) {
      return { ok: false, error: { code: 'unknown_method', message: `Unknown method "${method}".` } };
    }
    const name = method as ProcedureName;
    const def = procedures[name];
    const parsed = def.input.safeParse(input);
    if (!parsed.success) {
      return {
        ok: false,
        error: { code: 'invalid_input', message: `Invalid input for "${name}".`, issues: issuesOf(parsed.error) },
      };
    }
    let value: unknown;
    try {
      const handler = handlers.procedures[name] as (input: unknown, ctx: CallContext) => unknown;
      value = await handler(parsed.data, ctx);
    } catch (error) {
      return { ok: false, error: toShape(error) };
    }
    const sampled = sampledOutput(name, value);
    const checked = def.output.safeParse(sampled ?? value);
    if (!checked.success) {
      return {
        ok: false,
        error: { code: 'invalid_output', message: `The host produced an invalid result for "${name}".`, issues: issuesOf(checked.error) },
      };
    }
    return { ok: true, value: sampled ? value : checked.data };
  };
  /** When the youngest call being answered began, or null when none is. */
  const youngest = () => {
    let at: number | null = null;
    for (const call of inFlight) if (at === null || call.at > at) at = call.at;
    return at;
  };
  return {
    callsInFlight: (withinMs) => ({
      busy: () => (youngest() ?? -Infinity) > performance.now() - withinMs,
      settled: (maxWaitMs) =>
        new Promise<void>((resolve) => {
          const deadline = performance.now() + maxWaitMs;
          let timer: ReturnType<typeof setTimeout> | undefined;
          const look = () => {
            clearTimeout(timer);
            const now = performance.now();
            // Busy until the youngest call ends or grows old: look again then, or at the deadline.
            const oldAt = (youngest() ?? -Infinity) + withinMs;
            if (oldAt <= now || deadline <= now) {
              waiting.delete(look);
              resolve();
              return;
            }
            timer = setTimeout(look, Math.min(oldAt, deadline) - now);
            timer.unref?.();
          };
          waiting.add(look);
          look();
        }),
    }),
    async call(method, input, ctx) {
      const call = { at: performance.now() };
      inFlight.add(call);
      try {
        return await answer(method, input, ctx);
      } finally {
        inFlight.delete(call);
        for (const look of [...waiting]) look();
      }
    },

    subscribe(stream, params, ctx, onMessage, flow = unpacedFlow) {
      if (!Object.hasOwn(streams, stream)) {
        onMessage({ t: 'end', error: { code: 'unknown_stream', message: `Unknown stream "${stream}".` } });
        return () => {};
      }
      const name = stream as StreamName;
      const def = streams[name];
      const parsed = def.params.safeParse(params);
      if (!parsed.success) {
        onMessage({
          t: 'end',
          error: { code: 'invalid_input', message: `Invalid params for "${name}".`, issues: issuesOf(parsed.error) },
        });
        return () => {};
      }
      let open = true;
      let cleanup: () => void = () => {};
      const close = () => {
        if (!open) return;
        open = false;
        cleanup();
      };
      const sink: StreamSink<unknown> = {
        next(event) {
          if (!open) return;
          const checked = def.event.safeParse(event);
          if (!checked.success) {
            close();
            onMessage({
              t: 'end',
              error: { code: 'invalid_output', message: `The host produced an invalid event for "${name}".`, issues: issuesOf(checked.error) },
            });
            return;
          }
          onMessage({ t: 'event', event: checked.data });
        },
        end(error) {
          if (!open) return;
          close();
          onMessage(error ? { t: 'end', error: error.toShape() } : { t: 'end' });
        },
        get paused() {
          return flow.paused;
        },
        whenReady(resume) {
          return flow.whenReady(() => {
            if (open) resume();
          });
        },
      };
      try {
        const handler = handlers.streams[name] as (params: unknown, sink: StreamSink<unknown>, ctx: CallContext) => () => void;
        const stop = handler(parsed.data, sink, ctx);
        if (open) cleanup = stop;
        else stop();
      } catch (error) {
        open = false;
        onMessage({ t: 'end', error: toShape(error) });
      }
      return close;
    },
  };
}

/**
 * In-memory transport for tests: the same router, with every value passed through a
 * structured clone so nothing is shared by reference, as on a real wire.
 */
export function memoryTransport(router: Router): Transport {
  const ctx: CallContext = { transport: 'memory' };
  return {
    async call(method, input) {
      return structuredClone(await router.call(method, structuredClone(input), ctx));
    },
    subscribe(stream, params, onMessage) {
      const value = typeof params === 'function' ? (params as () => unknown)() : params;
      return router.subscribe(stream, structuredClone(value), ctx, (message) => onMessage(structuredClone(message)));
    },
  };
}
