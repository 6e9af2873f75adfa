// Issue 9, point 3: an ACP agent that says its engine (or the session it held) is gone is a
// runtime failure (AgentEngineGoneError), not one turn's error (AgentRequestError). The texts
// are claude-agent-acp 0.49.0's own (see src/runtime/acp/engine-gone.ts); these tests pin the
// wire shapes it produces and check that ordinary errors and stale session ids keep their paths.
import { describe, expect, it } from 'vitest';
import {
  AgentEngineGoneError,
  AgentRequestError,
  SessionNotFoundError,
  type AgentRequests,
  type MessageChannel,
} from '../src/runtime/adapter.js';
import { createAcpAdapter } from '../src/runtime/acp/acp-adapter.js';
import { ENGINE_GONE_TEXTS, saysEngineGone } from '../src/runtime/acp/engine-gone.js';
import { ENGINE_GONE_MESSAGE } from '../src/runtime/builtin/faults.js';

const PROCESS_DIED = 'The Claude Agent process exited unexpectedly. Please start a new session.';
const SESSION_ENDED = 'The Claude Agent session has ended. Please start a new session.';
const SESSION = 'sess-1';

/** What the agent SDK puts on the wire for `RequestError.internalError(undefined, text)`. */
const internal = (text: string) => ({ code: -32603, message: `Internal error: ${text}` });
/** What it puts on the wire for a plain `throw new Error(text)` in a handler. */
const plainThrow = (text: string) => ({ code: -32603, message: 'Internal error', data: { details: text } });

describe('saysEngineGone: the texts, matched whole', () => {
  it('lists exactly Claude Code\'s two "Please start a new session." texts; the built-in fault speaks the first', () => {
    expect(ENGINE_GONE_TEXTS).toEqual([PROCESS_DIED, SESSION_ENDED]);
    expect(ENGINE_GONE_MESSAGE).toBe(PROCESS_DIED);
  });

  it.each([
    ['the engine died (internal error)', internal(PROCESS_DIED)],
    ['the query stream ended (internal error)', internal(SESSION_ENDED)],
    ['the bare text', { code: -32603, message: PROCESS_DIED }],
    ['the text as a plain throw (data.details)', plainThrow(SESSION_ENDED)],
  ])('%s: gone, for any request', (_, error) => {
    expect(saysEngineGone(error)).toBe(true);
    expect(saysEngineGone(error, { sessionId: SESSION })).toBe(true);
  });

  it.each([
    ['"Session not found" (claude-agent-acp prompt() after the session was evicted)', plainThrow('Session not found')],
    ['-32002 naming the prompted session (ACP sessionNotFound)', { code: -32002, message: 'Resource not found', data: { sessionId: SESSION } }],
    ['-32002 naming the prompted session (resourceNotFound uri)', { code: -32002, message: `Resource not found: ${SESSION}`, data: { uri: SESSION } }],
  ])('%s: gone for session/prompt only (for load/resume it is a stale id)', (_, error) => {
    expect(saysEngineGone(error, { sessionId: SESSION })).toBe(true);
    expect(saysEngineGone(error)).toBe(false);
  });

  it.each([
    ['an API error from the model', internal('API Error: 500 {"type":"error","error":{"type":"api_error","message":"Overloaded"}}')],
    ['a turn-level failure (error_during_execution)', internal('error_during_execution')],
    ['a plain handler error', plainThrow('Tool use aborted')],
    ['an error that quotes the text among other words', internal(`The model said: "${PROCESS_DIED}" and stopped`)],
    ['the text with a different ending', internal('The Claude Agent process exited unexpectedly.')],
    ['authentication required', { code: -32000, message: 'Authentication required' }],
    ['invalid params', { code: -32602, message: 'Invalid params', data: { cwd: '/nowhere' } }],
    ['-32002 naming another resource', { code: -32002, message: 'Resource not found: /tmp/x', data: { uri: '/tmp/x' } }],
    ['"Session not found" with another code', { code: -32600, message: 'Session not found' }],
    ['"Session not found" as part of a longer detail', plainThrow('Session not found in cache, retrying')],
    ['not an object', 'The Claude Agent process exited unexpectedly. Please start a new session.'],
    ['null', null],
  ])('%s: not gone', (_, error) => {
    expect(saysEngineGone(error, { sessionId: SESSION })).toBe(false);
    expect(saysEngineGone(error)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------
// Keel's ACP adapter against a scripted agent on an in-memory channel: each request is
// answered with the JSON-RPC response the test gives for its method.

type Answer = { result: unknown } | { error: { code: number; message: string; data?: unknown } };

function scriptedAgent(answers: Record<string, Answer | Answer[]>): MessageChannel {
  const listeners: Array<(message: Record<string, unknown>) => void> = [];
  const queues = new Map(Object.entries(answers).map(([method, answer]) => [method, Array.isArray(answer) ? [...answer] : [answer]]));
  return {
    send(message) {
      const { id, method } = message as { id?: number; method?: string };
      if (id === undefined || method === undefined) return; // notifications, responses
      const queue = queues.get(method) ?? [];
      const answer = queue.length > 1 ? queue.shift()! : queue[0] ?? { error: { code: -32601, message: `"Method not found": ${method}` } };
      setImmediate(() => {
        for (const listener of listeners) listener({ jsonrpc: '2.0', id, ...answer });
      });
    },
    onMessage(listener) {
      listeners.push(listener);
    },
    closed: new Promise<void>(() => undefined),
  };
}

const host: AgentRequests = {
  update: () => undefined,
  askPermission: async () => 'deny',
  readTextFile: async () => '',
  writeTextFile: async () => undefined,
  terminals: {
    create: async () => 'unused',
    output: async () => ({ output: '', truncated: false, exitStatus: null }),
    waitForExit: async () => ({ exitCode: 0, signal: null }),
    kill: async () => undefined,
    release: async () => undefined,
  },
  protocolError: () => undefined,
};

const INITIALIZE: Answer = { result: { protocolVersion: 1, agentCapabilities: { loadSession: true, sessionCapabilities: { resume: {} } } } };
const NEW_SESSION: Answer = { result: { sessionId: SESSION } };

async function adapterWith(answers: Record<string, Answer | Answer[]>, bound = true) {
  const adapter = createAcpAdapter(scriptedAgent({ initialize: INITIALIZE, 'session/new': NEW_SESSION, ...answers }), host, { cwd: '/tmp' });
  await adapter.initialize();
  if (bound) await adapter.newSession('/tmp');
  return adapter;
}

/** The rejection of `work`, which must reject. */
async function failureOf(work: Promise<unknown>): Promise<Error> {
  const outcome = await work.then(
    () => null,
    (error: unknown) => error as Error,
  );
  if (outcome === null) throw new Error('expected a rejection');
  return outcome;
}

describe('ACP adapter: an engine that says it is gone', () => {
  it('session/prompt answered "process exited unexpectedly" rejects with AgentEngineGoneError carrying the agent\'s words', async () => {
    const adapter = await adapterWith({ 'session/prompt': { error: internal(PROCESS_DIED) } });
    const error = await failureOf(adapter.prompt('hi', 'ik-1'));
    expect(error).toBeInstanceOf(AgentEngineGoneError);
    expect(error.name).toBe('AgentEngineGoneError');
    expect(error.message).toBe(`Internal error: ${PROCESS_DIED}`);
  });

  it('session/prompt answered "session has ended" or "Session not found" (evicted) is AgentEngineGoneError too', async () => {
    const adapter = await adapterWith({ 'session/prompt': [{ error: internal(SESSION_ENDED) }, { error: plainThrow('Session not found') }] });
    expect(await failureOf(adapter.prompt('hi', 'ik-1'))).toBeInstanceOf(AgentEngineGoneError);
    const evicted = await failureOf(adapter.prompt('again', 'ik-2'));
    expect(evicted).toBeInstanceOf(AgentEngineGoneError);
    expect(evicted.message).toBe('Internal error: Session not found');
  });

  it('session/prompt answered with an ordinary error stays AgentRequestError (the turn ends agent_error)', async () => {
    const adapter = await adapterWith({
      'session/prompt': [{ error: internal('API Error: 400 prompt is too long') }, { error: plainThrow('Tool use aborted') }],
    });
    const first = await failureOf(adapter.prompt('hi', 'ik-1'));
    expect(first).toBeInstanceOf(AgentRequestError);
    expect(first).not.toBeInstanceOf(AgentEngineGoneError);
    expect(first.message).toBe('Internal error: API Error: 400 prompt is too long');
    // A plain throw's details are part of the message now (they used to be lost behind "Internal error").
    const second = await failureOf(adapter.prompt('again', 'ik-2'));
    expect(second).toBeInstanceOf(AgentRequestError);
    expect(second.message).toBe('Internal error: Tool use aborted');
  });

  it('session/load and session/resume: a stale session id stays SessionNotFoundError; an engine that is gone is AgentEngineGoneError', async () => {
    const stale = { error: { code: -32002, message: `Resource not found: ${SESSION}`, data: { uri: SESSION } } };
    const adapter = await adapterWith(
      { 'session/load': [stale, { error: internal(PROCESS_DIED) }, { error: plainThrow('Session not found') }], 'session/resume': [stale, { error: internal(SESSION_ENDED) }] },
      false,
    );
    expect(await failureOf(adapter.loadSession(SESSION, '/tmp'))).toBeInstanceOf(SessionNotFoundError);
    expect(await failureOf(adapter.loadSession(SESSION, '/tmp'))).toBeInstanceOf(AgentEngineGoneError);
    // Reading "Session not found" as a lost engine is for session/prompt only, never for a restore.
    expect(await failureOf(adapter.loadSession(SESSION, '/tmp'))).not.toBeInstanceOf(AgentEngineGoneError);
    expect(await failureOf(adapter.resumeSession(SESSION, '/tmp'))).toBeInstanceOf(SessionNotFoundError);
    expect(await failureOf(adapter.resumeSession(SESSION, '/tmp'))).toBeInstanceOf(AgentEngineGoneError);
  });

  it('session/new: an engine that is gone is AgentEngineGoneError; an ordinary failure is passed on as it was', async () => {
    const adapter = await adapterWith({ 'session/new': [{ error: internal(PROCESS_DIED) }, { error: { code: -32602, message: 'Invalid params: `cwd` does not exist' } }] }, false);
    expect(await failureOf(adapter.newSession('/tmp'))).toBeInstanceOf(AgentEngineGoneError);
    const ordinary = await failureOf(adapter.newSession('/tmp'));
    expect(ordinary).not.toBeInstanceOf(AgentEngineGoneError);
    expect(ordinary.message).toContain('does not exist');
  });
});
