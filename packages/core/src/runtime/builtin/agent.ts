import { agent, methods, PROTOCOL_VERSION, RequestError, type AgentApp, type AgentContext, type ClientCapabilities, type ContentBlock } from '@agentclientprotocol/sdk';
import { EngineGoneFault, isHung } from './fault-injector.js';
import type { FaultPlan } from './faults.js';
import type { Log } from './log.js';
import type { Script } from './script.js';
import type { SessionState, SessionStore } from './session-store.js';
import { never } from './sleep.js';
import type { StdoutSink } from './stdout-sink.js';
import { BUILTIN_CONTEXT_SIZE, turnUsage } from './usage.js';
import { runPrompt } from './turn.js';

export interface BuiltinAgentDeps {
  script: Script;
  plan: FaultPlan;
  store: SessionStore;
  sink: StdoutSink;
  log: Log;
  version: string;
}

interface LiveSession {
  state: SessionState;
  /** Set while a prompt runs; aborted by `session/cancel`. */
  running?: AbortController;
}

const promptText = (blocks: ContentBlock[]) =>
  blocks.map((block) => (block.type === 'text' ? block.text : block.type === 'resource_link' ? `[${block.uri}]` : `[${block.type}]`)).join('');

/** A hung agent answers nothing at all. */
const unlessHung = <T>(work: () => Promise<T>): Promise<T> => (isHung() ? never<T>() : work());

/** Replays a stored history as `session/update` notifications (done before `session/load` answers). */
async function replay(client: AgentContext, state: SessionState): Promise<void> {
  for (const entry of state.history) {
    await client.notify('session/update', {
      sessionId: state.sessionId,
      update: {
        sessionUpdate: entry.role === 'user' ? 'user_message_chunk' : 'agent_message_chunk',
        content: { type: 'text', text: entry.text },
        messageId: entry.messageId,
        ...(entry.meta ? { _meta: entry.meta } : {}),
      },
    });
  }
}

/** Keel's built-in scripted agent on the SDK's agent side. */
export function createBuiltinAgent(deps: BuiltinAgentDeps): AgentApp {
  const { store, log } = deps;
  const live = new Map<string, LiveSession>();
  let clientCapabilities: ClientCapabilities = {};

  const restore = (sessionId: string, cwd: string): LiveSession => {
    const state = store.load(sessionId);
    if (!state) throw RequestError.sessionNotFound(sessionId);
    if (live.get(sessionId)?.running) throw RequestError.invalidRequest(undefined, `session ${sessionId} has a prompt running`);
    if (state.cwd !== cwd) {
      state.cwd = cwd;
      store.save(state);
    }
    const session: LiveSession = { state };
    live.set(sessionId, session);
    return session;
  };

  return agent({ name: 'keel-builtin' })
    .onRequest(methods.agent.initialize, ({ params }) =>
      unlessHung(async () => {
        clientCapabilities = params.clientCapabilities ?? {};
        return {
          protocolVersion: PROTOCOL_VERSION,
          agentCapabilities: { loadSession: true, promptCapabilities: {}, sessionCapabilities: { resume: {} } },
          agentInfo: { name: 'keel-builtin', title: `Keel built-in agent (${deps.script.name})`, version: deps.version },
          authMethods: [],
        };
      }),
    )
    .onRequest(methods.agent.session.new, ({ params }) =>
      unlessHung(async () => {
        const state = store.create(params.cwd, deps.script.name);
        live.set(state.sessionId, { state });
        log(`session ${state.sessionId}: new (cwd ${params.cwd})`);
        return { sessionId: state.sessionId };
      }),
    )
    .onRequest(methods.agent.session.load, ({ params, client }) =>
      unlessHung(async () => {
        const { state } = restore(params.sessionId, params.cwd);
        log(`session ${state.sessionId}: load, replaying ${state.history.length} messages (turn ${state.turn + 1}, next step ${state.step + 1})`);
        await replay(client, state);
        return {};
      }),
    )
    .onRequest(methods.agent.session.resume, ({ params }) =>
      unlessHung(async () => {
        const { state } = restore(params.sessionId, params.cwd);
        log(`session ${state.sessionId}: resume (turn ${state.turn + 1}, next step ${state.step + 1})`);
        return {};
      }),
    )
    .onRequest(methods.agent.session.prompt, ({ params, client, signal }) =>
      unlessHung(async () => {
        const session = live.get(params.sessionId);
        if (!session) throw RequestError.sessionNotFound(params.sessionId);
        if (session.running) throw RequestError.invalidRequest(undefined, `session ${params.sessionId} already has a prompt running`);
        const controller = new AbortController();
        session.running = controller;
        // `$/cancel_request` for this request counts as a cancel too.
        const onAbort = () => controller.abort();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          const turnDeps = { ...deps, clientCapabilities };
          const prompt = { text: promptText(params.prompt), ...(params._meta ? { meta: params._meta } : {}) };
          const turnStart = session.state.history.length;
          const stopReason = await runPrompt(turnDeps, client, session.state, prompt, controller.signal);
          log(`session ${params.sessionId}: prompt answered (${stopReason})`);
          // Usage as real agents report it: the context window (stable ACP) and the turn's tokens (unstable ACP).
          const { contextUsed, ...usage } = turnUsage(session.state.history, turnStart);
          await client.notify('session/update', { sessionId: params.sessionId, update: { sessionUpdate: 'usage_update', used: contextUsed, size: BUILTIN_CONTEXT_SIZE } }).catch(() => {});
          return { stopReason, usage };
        } catch (error) {
          if (error instanceof EngineGoneFault) {
            // Like claude-agent-acp after its engine died: the session is dropped from memory (a
            // later prompt finds no session); its file stays, so session/load restores it.
            live.delete(params.sessionId);
            log(`session ${params.sessionId}: engine gone; prompt answered with an error, session forgotten`);
          }
          throw error;
        } finally {
          signal.removeEventListener('abort', onAbort);
          session.running = undefined;
        }
      }),
    )
    .onNotification(methods.agent.session.cancel, ({ params }) => {
      if (isHung()) return; // a hung agent ignores cancel too
      const running = live.get(params.sessionId)?.running;
      if (running && !running.signal.aborted) {
        log(`session ${params.sessionId}: cancel`);
        running.abort();
      }
    });
}
