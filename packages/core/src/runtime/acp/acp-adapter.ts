import { client, methods, PROTOCOL_VERSION, RequestError, type AnyMessage, type ClientConnection } from '@agentclientprotocol/sdk';
import { KEEL_VERSION } from '../../contract/version.js';
import {
  AgentEngineGoneError,
  AgentRequestError,
  SessionNotFoundError,
  type AgentRequests,
  type AgentAdapter,
  type AgentCapabilities,
  type MessageChannel,
  type SessionHistory,
} from '../adapter.js';
import { agentErrorText, saysEngineGone } from './engine-gone.js';
import { actionOf, optionFor, updatesOf } from './normalise.js';
import { usageFromPromptResponse, usageFromUpdate } from './usage.js';

/** JSON-RPC / ACP "resource not found", which agents answer for an unknown session. */
const RESOURCE_NOT_FOUND = -32002;

function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** An engine that says it is gone, as AgentEngineGoneError (a runtime failure); anything else unchanged. */
function engineGoneOr(error: unknown): unknown {
  return saysEngineGone(error) ? new AgentEngineGoneError(agentErrorText(error)) : error;
}

function looksLikeMissingSession(error: unknown): boolean {
  if (errorCode(error) === RESOURCE_NOT_FOUND) return true;
  return /not found|unknown session|no such session/i.test(error instanceof Error ? error.message : String(error));
}

/** Keel's refusals reach the agent with their reason (the SDK would otherwise say only "Internal error"). */
async function explained<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RequestError) throw error;
    throw RequestError.internalError(undefined, error instanceof Error ? error.message : String(error));
  }
}

const ACP_STOP_REASONS = new Set(['end_turn', 'max_tokens', 'max_turn_requests', 'refusal', 'cancelled']);

/**
 * Keel as an ACP client, on the SDK's client builder, over Keel's own framed channel (so bad
 * lines are Keel's protocol errors). Every request the agent makes goes to the AgentRequests,
 * which decides and executes; this file only translates.
 */
export function createAcpAdapter(channel: MessageChannel, host: AgentRequests, options: { cwd: string }): AgentAdapter {
  let sessionId: string | null = null;
  let replaying = false;
  let replayedUsers: string[] = [];
  const seenOutput = new Map<string, string>();

  const readable = new ReadableStream<AnyMessage>({
    start(controller) {
      channel.onMessage((message) => controller.enqueue(message as AnyMessage));
      void channel.closed.then(() => {
        try {
          controller.close();
        } catch {
          // Already closed.
        }
      });
    },
  });
  const writable = new WritableStream<AnyMessage>({ write: (message) => channel.send(message) });

  const app = client({ name: 'keel' })
    .onNotification(methods.client.session.update, ({ params }) => {
      if (sessionId !== null && params.sessionId !== sessionId) return;
      if (params.update.sessionUpdate === 'usage_update') {
        const usage = usageFromUpdate(params.update, params.sessionId);
        if (usage && !replaying) host.update(usage, false);
        return;
      }
      for (const update of updatesOf(params.update, seenOutput)) {
        if (replaying && update.kind === 'user_message') {
          // Chunks of one user message share a messageId (or, without ids, arrive back to back).
          const sameMessage = lastWasUser && (update.messageId === undefined || update.messageId === lastUserMessageId);
          if (replayedUsers.length > 0 && sameMessage) replayedUsers[replayedUsers.length - 1] += update.text;
          else replayedUsers.push(update.text);
          lastUserMessageId = update.messageId;
        }
        lastWasUser = update.kind === 'user_message';
        host.update(update, replaying);
      }
    })
    .onRequest(methods.client.session.requestPermission, async ({ params, signal }) => {
      const action = actionOf(params.toolCall, options.cwd);
      const answer = await host.askPermission(
        { action, reason: params.toolCall.title ?? action.title, ...(params.toolCall.toolCallId ? { toolCallId: params.toolCall.toolCallId } : {}) },
        signal,
      );
      const optionId = optionFor(answer, params.options);
      return optionId === null ? { outcome: { outcome: 'cancelled' as const } } : { outcome: { outcome: 'selected' as const, optionId } };
    })
    .onRequest(methods.client.fs.readTextFile, ({ params }) =>
      explained(async () => ({ content: await host.readTextFile(params.path, params.line ?? undefined, params.limit ?? undefined) })),
    )
    .onRequest(methods.client.fs.writeTextFile, ({ params }) =>
      explained(async () => {
        await host.writeTextFile(params.path, params.content);
        return {};
      }),
    )
    .onRequest(methods.client.terminal.create, ({ params }) => explained(async () => ({
      terminalId: await host.terminals.create({
        command: params.command,
        args: params.args ?? [],
        ...(params.cwd ? { cwd: params.cwd } : {}),
        ...(params.env ? { env: Object.fromEntries(params.env.map((variable) => [variable.name, variable.value])) } : {}),
        ...(params.outputByteLimit ? { outputByteLimit: params.outputByteLimit } : {}),
      }),
    })))
    .onRequest(methods.client.terminal.output, async ({ params }) => {
      const { output, truncated, exitStatus } = await host.terminals.output(params.terminalId);
      return { output, truncated, ...(exitStatus ? { exitStatus } : {}) };
    })
    .onRequest(methods.client.terminal.waitForExit, async ({ params }) => host.terminals.waitForExit(params.terminalId))
    .onRequest(methods.client.terminal.kill, async ({ params }) => {
      await host.terminals.kill(params.terminalId);
      return {};
    })
    .onRequest(methods.client.terminal.release, async ({ params }) => {
      await host.terminals.release(params.terminalId);
      return {};
    });
  let lastWasUser = false;
  let lastUserMessageId: string | undefined;

  const connection: ClientConnection = app.connect({ readable, writable });
  const agent = connection.agent;

  const requireSession = () => {
    if (sessionId === null) throw new Error('No ACP session is bound yet.');
    return sessionId;
  };

  const collectHistory = async (run: () => Promise<unknown>): Promise<SessionHistory> => {
    replaying = true;
    replayedUsers = [];
    lastWasUser = false;
    try {
      await run();
    } finally {
      replaying = false;
    }
    return { userMessages: replayedUsers.map((text) => ({ text })) };
  };

  return {
    restoreMethods: { new: 'session/new', load: 'session/load', resume: 'session/resume' },
    async initialize(): Promise<AgentCapabilities> {
      const response = await agent.request(methods.agent.initialize, {
        protocolVersion: PROTOCOL_VERSION,
        clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: true },
        clientInfo: { name: 'keel', version: KEEL_VERSION },
      });
      const capabilities = response.agentCapabilities ?? {};
      return { loadSession: capabilities.loadSession === true, resumeSession: Boolean(capabilities.sessionCapabilities?.resume) };
    },

    async newSession(cwd) {
      let response;
      try {
        response = await agent.request(methods.agent.session.new, { cwd, mcpServers: [] });
      } catch (error) {
        throw engineGoneOr(error);
      }
      sessionId = response.sessionId;
      return { sessionId: response.sessionId };
    },

    async loadSession(id, cwd) {
      sessionId = id;
      try {
        return await collectHistory(() => agent.request(methods.agent.session.load, { sessionId: id, cwd, mcpServers: [] }));
      } catch (error) {
        sessionId = null;
        if (looksLikeMissingSession(error)) throw new SessionNotFoundError(id, error instanceof Error ? error.message : undefined);
        throw engineGoneOr(error);
      }
    },

    async resumeSession(id, cwd) {
      sessionId = id;
      try {
        await agent.request(methods.agent.session.resume, { sessionId: id, cwd, mcpServers: [] });
        return { userMessages: [], complete: false };
      } catch (error) {
        sessionId = null;
        if (looksLikeMissingSession(error)) throw new SessionNotFoundError(id, error instanceof Error ? error.message : undefined);
        throw engineGoneOr(error);
      }
    },

    async prompt(text) {
      const id = requireSession();
      seenOutput.clear();
      let response;
      try {
        response = await agent.request(methods.agent.session.prompt, { sessionId: id, prompt: [{ type: 'text', text }] });
      } catch (error) {
        if (connection.signal.aborted) throw new Error('agent process exited');
        // The engine (or the session it held) is gone while the agent process lives on: a runtime failure, not this turn's error.
        if (saysEngineGone(error, { sessionId: id })) throw new AgentEngineGoneError(agentErrorText(error));
        throw new AgentRequestError(agentErrorText(error));
      }
      const usage = usageFromPromptResponse(response);
      if (usage) host.update(usage, false);
      return { stopReason: ACP_STOP_REASONS.has(response.stopReason) ? response.stopReason : 'agent_error' };
    },

    async cancel() {
      if (sessionId === null) return;
      await agent.notify(methods.agent.session.cancel, { sessionId }).catch(() => {});
    },

    close() {
      connection.close();
    },
  };
}
