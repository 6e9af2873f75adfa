import { KEEL_VERSION } from '../../contract/version.js';
import {
  AgentRequestError,
  SessionNotFoundError,
  type AgentRequests,
  type AgentAdapter,
  type AgentCapabilities,
  type AgentUpdate,
  type MessageChannel,
  type PermissionAnswer,
  type SessionHistory,
} from '../adapter.js';
import { approvalFor, isTranslationError } from './approvals.js';
import { ItemTranslator, replayItem, userText } from './items.js';
import {
  Notifications,
  parseItem,
  ThreadResponse,
  TurnsListResponse,
  TurnStartResponse,
  type ApprovalPolicy,
  type NotificationMethod,
  type NotificationParams,
  type SandboxMode,
  type Turn,
} from './protocol.js';
import { INVALID_PARAMS, METHOD_NOT_FOUND, NO_RESPONSE, RpcHandlerError, RpcPeer, RpcResponseError, type RpcId } from './rpc.js';
import { stopReasonOf, type TurnResult } from './stop-reason.js';
import { TokenUsageDeltas, TokenUsageUpdated } from './usage.js';

export interface CodexAdapterOptions {
  cwd: string;
  model?: string;
  /**
   * Default `untrusted`: in 0.169.0 Codex then asks before EVERY command (even `ls`) and
   * every file change, so each one goes through Keel's policy. `on-request` lets the model
   * decide what to ask about; `never` asks nothing — both bypass Keel.
   */
  approvalPolicy?: ApprovalPolicy;
  /** Default `workspace-write`: an approved command still cannot write outside the workspace. */
  sandbox?: SandboxMode;
}

interface ActiveTurn {
  turnId: string | null;
  interruptRequested: boolean;
  interruptSent: boolean;
  lastError: string | null;
  resolve(result: TurnResult): void;
  reject(error: Error): void;
}

const EXITED = 'agent process exited';
const sample = (value: unknown) => JSON.stringify(value ?? null).slice(0, 200);

/** Codex's answers for a thread it does not have (verified: `no rollout found for thread id …`). */
const looksLikeMissingThread = (error: RpcResponseError) => /no rollout found|invalid session id|thread not found|unknown thread/i.test(error.message);

/**
 * Keel as a client of `codex app-server` (v2 API, pinned 0.169.0). Every approval goes to the
 * AgentRequests; this file only translates. See docs/protocols/codex-app-server.md.
 */
export function createCodexAdapter(channel: MessageChannel, host: AgentRequests, options: CodexAdapterOptions): AgentAdapter {
  const approvalPolicy = options.approvalPolicy ?? 'untrusted';
  const sandbox = options.sandbox ?? 'workspace-write';
  let threadId: string | null = null;
  let active: ActiveTurn | null = null;
  const items = new ItemTranslator();
  const tokenUsage = new TokenUsageDeltas();
  /** Approvals waiting on the host, by Codex's request id; aborted when Codex withdraws them. */
  const asks = new Map<string, AbortController>();

  const peer = new RpcPeer(channel, {
    onRequest: serveRequest,
    onNotification: receiveNotification,
    onMalformed: (kind, detail, raw) => host.protocolError(kind, detail, raw),
  });
  void channel.closed.then(() => shutdown());

  function shutdown(): void {
    if (peer.isStopped) return;
    const error = new Error(EXITED);
    peer.stop(error);
    abortAsks();
    const turn = active;
    active = null;
    turn?.reject(error);
  }

  function abortAsks(): void {
    for (const controller of asks.values()) controller.abort();
    asks.clear();
  }

  /** Our requests: Codex's error answers become AgentRequestError; a closed channel stays as is. */
  async function call(method: string, params: unknown): Promise<unknown> {
    try {
      return await peer.request(method, params);
    } catch (error) {
      if (error instanceof RpcResponseError) throw new AgentRequestError(`Codex ${method} failed: ${error.message}`);
      throw error;
    }
  }

  function parsedOrThrow<T>(method: string, result: { success: true; data: T } | { success: false }, raw: unknown): T {
    if (result.success) return result.data;
    host.protocolError('invalid_message', `Codex answered ${method} with an unexpected shape`, sample(raw));
    throw new AgentRequestError(`Codex answered ${method} with an unexpected shape.`);
  }

  const threadSettings = (cwd: string) => ({
    cwd,
    approvalPolicy,
    // Never let a configured auto-reviewer answer instead of Keel.
    approvalsReviewer: 'user',
    sandbox,
    ...(options.model ? { model: options.model } : {}),
  });

  async function serveRequest(method: string, params: unknown, id: RpcId): Promise<unknown> {
    const translator = approvalFor(method);
    if (!translator) {
      host.protocolError('rpc_error', `Codex sent a request Keel does not handle: ${method}`, sample(params));
      throw new RpcHandlerError(METHOD_NOT_FOUND, `Keel does not handle ${method}`);
    }
    const ask = translator.ask(params, { cwd: options.cwd, fileChanges: (itemId) => items.fileChanges(itemId) });
    if (isTranslationError(ask)) {
      // Refuse rather than guess what a half-read approval would allow.
      host.protocolError('invalid_message', `Codex sent ${method} with params Keel cannot read: ${ask.error}`, sample(params));
      throw new RpcHandlerError(INVALID_PARAMS, `Keel cannot read the params of ${method}`);
    }
    const key = String(id);
    const controller = new AbortController();
    asks.set(key, controller);
    let answer: PermissionAnswer;
    try {
      answer = await host.askPermission(ask, controller.signal);
    } catch {
      // A host failure must not leave Codex waiting, nor allow anything.
      answer = 'deny';
    } finally {
      asks.delete(key);
    }
    if (controller.signal.aborted) return NO_RESPONSE; // Codex withdrew it (serverRequest/resolved).
    if (answer === 'cancelled' && active) active.interruptRequested = true; // `cancel` interrupts the turn.
    return translator.respond(answer, params);
  }

  function emit(result: AgentUpdate[] | { error: string }, method: string, raw: unknown): void {
    if ('error' in result) {
      host.protocolError('invalid_message', `Codex sent ${method} with an unreadable item: ${result.error}`, sample(raw));
      return;
    }
    for (const update of result) host.update(update, false);
  }

  function receiveNotification(method: string, raw: unknown): void {
    if (method === 'thread/tokenUsage/updated') return receiveTokenUsage(raw);
    if (!Object.hasOwn(Notifications, method)) return; // Codex sends many notifications Keel does not use.
    const result = Notifications[method as NotificationMethod].safeParse(raw);
    if (!result.success) {
      host.protocolError('invalid_message', `Codex sent ${method} with unexpected params`, sample(raw));
      return;
    }
    const params = result.data;
    if (threadId === null || params.threadId !== threadId) return; // another thread (a sub-agent's)
    const turn = active;
    switch (method) {
      case 'turn/started': {
        const { turn: started } = params as NotificationParams<'turn/started'>;
        if (turn && turn.turnId === null) adoptTurnId(turn, started.id);
        return;
      }
      case 'turn/completed':
        return finishTurn((params as NotificationParams<'turn/completed'>).turn);
      case 'serverRequest/resolved':
        asks.get(String((params as NotificationParams<'serverRequest/resolved'>).requestId))?.abort();
        return;
    }
    // Item-level notifications belong to the running turn; anything else is stale.
    const turnId = (params as { turnId: string }).turnId;
    if (!turn || (turn.turnId !== null && turn.turnId !== turnId)) return;
    switch (method) {
      case 'error': {
        const error = params as NotificationParams<'error'>;
        if (!error.willRetry) turn.lastError = error.error.message;
        return;
      }
      case 'item/started':
        return emit(items.itemStarted(params as NotificationParams<'item/started'>), method, raw);
      case 'item/completed':
        return emit(items.itemCompleted(params as NotificationParams<'item/completed'>), method, raw);
      case 'item/agentMessage/delta':
        return emit(items.agentMessageDelta(params as NotificationParams<'item/agentMessage/delta'>), method, raw);
      case 'item/reasoning/summaryTextDelta':
      case 'item/reasoning/textDelta':
        return emit(items.reasoningDelta(params as NotificationParams<'item/reasoning/textDelta'>), method, raw);
      case 'item/reasoning/summaryPartAdded':
        return emit(items.reasoningPart(params as NotificationParams<'item/reasoning/summaryPartAdded'>), method, raw);
      case 'item/commandExecution/outputDelta':
      case 'item/fileChange/outputDelta':
        return emit(items.outputDelta(params as NotificationParams<'item/commandExecution/outputDelta'>), method, raw);
      case 'item/fileChange/patchUpdated':
        return emit(items.patchUpdated(params as NotificationParams<'item/fileChange/patchUpdated'>), method, raw);
      case 'turn/plan/updated':
        return emit(items.plan(params as NotificationParams<'turn/plan/updated'>), method, raw);
    }
  }

  /** The thread's token totals: recorded as the delta since this process's previous report, in or between turns. */
  function receiveTokenUsage(raw: unknown): void {
    const result = TokenUsageUpdated.safeParse(raw);
    if (!result.success) {
      host.protocolError('invalid_message', 'Codex sent thread/tokenUsage/updated with unexpected params', sample(raw));
      return;
    }
    if (threadId === null || result.data.threadId !== threadId) return; // another thread (a sub-agent's)
    const update = tokenUsage.next(result.data);
    if (update) host.update(update, false);
  }

  function adoptTurnId(turn: ActiveTurn, turnId: string): void {
    turn.turnId = turnId;
    if (turn.interruptRequested && !turn.interruptSent) void interrupt(turn);
  }

  function finishTurn(completed: Turn): void {
    const turn = active;
    if (!turn || (turn.turnId !== null && turn.turnId !== completed.id)) return;
    active = null;
    items.reset();
    abortAsks(); // approvals of a finished turn can no longer apply
    turn.resolve(stopReasonOf(completed, turn));
  }

  async function interrupt(turn: ActiveTurn): Promise<void> {
    if (threadId === null || turn.turnId === null) return;
    turn.interruptSent = true;
    // An error here means the turn already ended; its turn/completed settles the prompt.
    await peer.request('turn/interrupt', { threadId, turnId: turn.turnId }).catch(() => {});
  }

  /** Every turn of a thread, oldest first, with full items; null when Codex cannot list them. */
  async function listTurns(id: string): Promise<Turn[] | null> {
    const turns: Turn[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10_000; page++) {
      let raw: unknown;
      try {
        raw = await peer.request('thread/turns/list', { threadId: id, sortDirection: 'asc', itemsView: 'full', limit: 100, ...(cursor ? { cursor } : {}) });
      } catch (error) {
        if (error instanceof RpcResponseError) return null;
        throw error;
      }
      const parsed = TurnsListResponse.safeParse(raw);
      if (!parsed.success) {
        host.protocolError('invalid_message', 'Codex answered thread/turns/list with an unexpected shape', sample(raw));
        return null;
      }
      turns.push(...parsed.data.data);
      cursor = parsed.data.nextCursor ?? null;
      if (!cursor) return turns;
    }
    return null;
  }

  function userMessagesOf(turns: Turn[]): SessionHistory['userMessages'] {
    const messages: SessionHistory['userMessages'] = [];
    for (const turn of turns) {
      for (const raw of turn.items) {
        const parsed = parseItem(raw);
        if ('error' in parsed || !parsed.known || parsed.item.type !== 'userMessage') continue;
        const clientId = parsed.item.clientId ?? undefined;
        messages.push({ text: userText(parsed.item), ...(clientId ? { clientId } : {}) });
      }
    }
    return messages;
  }

  /** thread/resume; with `replay`, the items the response carries go to host.update(…, true). */
  async function bind(id: string, cwd: string, replay: boolean): Promise<SessionHistory> {
    let raw: unknown;
    try {
      // Without replay, skip the (deprecated) full hydration and page the turns instead.
      raw = await peer.request('thread/resume', { threadId: id, ...threadSettings(cwd), ...(replay ? {} : { excludeTurns: true }) });
    } catch (error) {
      if (error instanceof RpcResponseError) {
        throw looksLikeMissingThread(error) ? new SessionNotFoundError(id, error.message) : new AgentRequestError(`Codex thread/resume failed: ${error.message}`);
      }
      throw error;
    }
    const { thread } = parsedOrThrow('thread/resume', ThreadResponse.safeParse(raw), raw);
    threadId = thread.id;
    const carried = thread.turns;
    if (replay) {
      for (const turn of carried) {
        for (const item of turn.items) {
          const parsed = parseItem(item);
          if ('error' in parsed) host.protocolError('invalid_message', `Codex resumed a thread with an unreadable item: ${parsed.error}`, sample(item));
          else for (const update of replayItem(parsed)) host.update(update, true);
        }
      }
    }
    const carriedAll = carried.length > 0 && carried.every((turn) => !turn.itemsView || turn.itemsView === 'full');
    if (carriedAll) return { userMessages: userMessagesOf(carried), complete: true };
    const listed = await listTurns(id);
    if (listed) return { userMessages: userMessagesOf(listed), complete: true };
    return { userMessages: userMessagesOf(carried), complete: false };
  }

  return {
    restoreMethods: { new: 'thread/start', load: 'thread/resume', resume: 'thread/resume (without turns)' },
    async initialize(): Promise<AgentCapabilities> {
      await call('initialize', { clientInfo: { name: 'keel', title: 'Keel', version: KEEL_VERSION }, capabilities: null });
      peer.notify('initialized');
      return { loadSession: true, resumeSession: true };
    },

    async newSession(cwd) {
      const raw = await call('thread/start', threadSettings(cwd));
      const { thread } = parsedOrThrow('thread/start', ThreadResponse.safeParse(raw), raw);
      threadId = thread.id;
      return { sessionId: thread.id };
    },

    loadSession: (id, cwd) => bind(id, cwd, true),
    resumeSession: (id, cwd) => bind(id, cwd, false),

    prompt(text, ik): Promise<TurnResult> {
      if (peer.isStopped) return Promise.reject(new Error(EXITED));
      const thread = threadId;
      if (thread === null) return Promise.reject(new Error('No Codex thread is bound yet.'));
      if (active) return Promise.reject(new Error('A Codex turn is already running.'));
      items.reset();
      return new Promise<TurnResult>((resolve, reject) => {
        const turn: ActiveTurn = { turnId: null, interruptRequested: false, interruptSent: false, lastError: null, resolve, reject };
        active = turn;
        // clientUserMessageId is persisted on the userMessage item: the never-send-twice key (I6).
        const params = { threadId: thread, clientUserMessageId: ik, input: [{ type: 'text', text, text_elements: [] }] };
        peer.request('turn/start', params).then(
          (raw) => {
            const parsed = TurnStartResponse.safeParse(raw);
            if (!parsed.success) host.protocolError('invalid_message', 'Codex answered turn/start with an unexpected shape', sample(raw));
            else if (active === turn && turn.turnId === null) adoptTurnId(turn, parsed.data.turn.id);
          },
          (error: unknown) => {
            if (active === turn) active = null;
            reject(error instanceof RpcResponseError ? new AgentRequestError(`Codex turn/start failed: ${error.message}`) : (error as Error));
          },
        );
      });
    },

    async cancel() {
      const turn = active;
      if (!turn) return;
      turn.interruptRequested = true;
      // Before turn/start answers there is no turn id yet; adoptTurnId sends the interrupt then.
      if (turn.turnId !== null && !turn.interruptSent) await interrupt(turn);
    },

    close() {
      shutdown();
    },
  };
}
