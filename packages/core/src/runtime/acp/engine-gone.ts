/**
 * How an ACP agent says the engine or session behind it is gone while its own process lives on
 * (issue 9, point 3). Keel treats such an answer as a runtime failure (restart the generation)
 * rather than as one turn's error, so the list is short, each text is matched whole, and an
 * ordinary agent error stays an AgentRequestError.
 *
 * On the wire (SDK `RequestError.internalError(undefined, text)`) a text arrives as the message
 * `Internal error: <text>`, code -32603; a plain `Error` thrown by an agent arrives as
 * `Internal error` with `data.details` holding its message.
 */

/** Texts that say the engine is gone, whatever the request. */
export const ENGINE_GONE_TEXTS: readonly string[] = [
  // @agentclientprotocol/claude-agent-acp 0.49.0, dist/acp-agent.js, the session's query consumer
  // (`catch` around the SDK stream): the native `claude` process died ("ProcessTransport",
  // "process exited with", "terminated by signal", ...). Every in-flight turn is rejected with
  // it and the session is evicted from the adapter.
  'The Claude Agent process exited unexpectedly. Please start a new session.',
  // Same file, `SESSION_ENDED_MESSAGE`: a prompt on a session whose SDK query stream already
  // ended (`session.queryClosed`), and turns still queued when the stream ended. The stream
  // "is not revivable, so the only recovery is a fresh session".
  'The Claude Agent session has ended. Please start a new session.',
];

/**
 * The `data.details` a `session/prompt` may carry when the agent no longer holds the session
 * it was bound to. claude-agent-acp 0.49.0 (dist/acp-agent.js, `prompt()`) throws a plain
 * `Error("Session not found")` when `this.sessions[sessionId]` is missing — which it is after
 * the engine died, because that path deletes the session.
 */
export const PROMPT_SESSION_GONE_DETAILS: readonly string[] = ['Session not found'];

/** JSON-RPC / ACP "resource not found": `RequestError.sessionNotFound(id)` (data.sessionId) or `resourceNotFound(id)` (data.uri). */
const RESOURCE_NOT_FOUND = -32002;
const INTERNAL_ERROR = -32603;

interface WireError {
  code?: unknown;
  message?: unknown;
  data?: unknown;
}

const fieldOf = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

/** The agent's own words for an error it answered: the message, and `data.details` when it adds something. */
export function agentErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(fieldOf(error, 'message') ?? error);
  const details = fieldOf(fieldOf(error, 'data'), 'details');
  return typeof details === 'string' && details.length > 0 && !message.includes(details) ? `${message}: ${details}` : message;
}

/** Whether the message (or an internal error's `data.details`) is exactly one of the texts. */
function saysExactly(error: WireError, texts: readonly string[]): boolean {
  const message = typeof error.message === 'string' ? error.message : '';
  if (texts.some((text) => message === text || message === `Internal error: ${text}`)) return true;
  const details = fieldOf(error.data, 'details');
  return error.code === INTERNAL_ERROR && typeof details === 'string' && texts.includes(details);
}

/**
 * Whether an error answering an ACP request says the agent's engine is gone. For
 * `session/prompt` (pass the session id it was sent for) an answer that the agent no longer
 * knows that very session counts too; for `session/load` / `session/resume` it does not: there
 * an unknown session is a stale mapping (SessionNotFoundError), not a dead engine.
 */
export function saysEngineGone(error: unknown, prompted?: { sessionId: string }): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const wire = error as WireError;
  if (saysExactly(wire, ENGINE_GONE_TEXTS)) return true;
  if (!prompted) return false;
  if (wire.code === RESOURCE_NOT_FOUND) {
    const named = fieldOf(wire.data, 'sessionId') ?? fieldOf(wire.data, 'uri');
    return named === prompted.sessionId;
  }
  return wire.code === INTERNAL_ERROR && saysExactly(wire, PROMPT_SESSION_GONE_DETAILS);
}
