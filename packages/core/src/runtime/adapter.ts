import type { Action, ProtocolErrorKind } from '../contract/schemas/ledger.js';
import type { ContextWindow, TokenCounts, UsageCost } from '../contract/schemas/usage.js';

/** What an agent reports, normalised across ACP and Codex. */
export type AgentUpdate =
  | { kind: 'message'; text: string }
  | { kind: 'thought'; text: string }
  /** A user message the agent holds in its history (seen when a session is replayed). */
  | { kind: 'user_message'; text: string; clientId?: string; messageId?: string }
  | { kind: 'plan'; entries: Array<{ content: string; status: 'pending' | 'in_progress' | 'completed'; priority?: 'low' | 'medium' | 'high' }> }
  | { kind: 'tool_started'; toolCallId: string; title: string; toolKind?: string; input?: unknown; restated?: true }
  | {
      kind: 'tool_updated';
      toolCallId: string;
      status?: 'pending' | 'in_progress' | 'completed' | 'failed';
      /** New output since the last update (appended by the fold). */
      output?: string;
      /** A terminal the agent embedded in the call (ACP `terminal` content). */
      terminalId?: string;
      diff?: { path: string; oldText: string | null; newText: string };
    }
  /**
   * What the agent says it used: `tokens` since this process's previous report (a delta), the
   * session's cumulative `cost`, its `context` window now. `source` names the protocol message.
   */
  | { kind: 'usage'; source: string; tokens?: TokenCounts; cost?: UsageCost & { session: string }; context?: ContextWindow };

/** An agent asking to do something; the adapter has already normalised it. */
export interface PermissionAsk {
  action: Action;
  /** Why it asks, in the agent's words (title or reason). */
  reason: string;
  toolCallId?: string;
}

export type PermissionAnswer = 'allow_once' | 'allow_always' | 'deny' | 'cancelled';

export interface TerminalExit {
  exitCode: number | null;
  signal: string | null;
}

/** Commands run by Keel on the agent's behalf (ACP `terminal/*`), inside the workspace. */
export interface TerminalHost {
  create(request: { command: string; args: string[]; cwd?: string; env?: Record<string, string>; outputByteLimit?: number }): Promise<string>;
  output(terminalId: string): Promise<{ output: string; truncated: boolean; exitStatus: TerminalExit | null }>;
  waitForExit(terminalId: string): Promise<TerminalExit>;
  kill(terminalId: string): Promise<void>;
  release(terminalId: string): Promise<void>;
}

/**
 * Keel's side of an agent connection: everything an agent may ask of Keel, through its adapter. Keel
 * records, decides and executes; the adapter only translates.
 */
export interface AgentRequests {
  /** `replay` marks history the agent re-sends while loading a session (not recorded again). */
  update(update: AgentUpdate, replay: boolean): void;
  askPermission(ask: PermissionAsk, signal: AbortSignal): Promise<PermissionAnswer>;
  readTextFile(path: string, line?: number, limit?: number): Promise<string>;
  writeTextFile(path: string, content: string): Promise<void>;
  readonly terminals: TerminalHost;
  protocolError(kind: ProtocolErrorKind, detail: string, sample?: string): void;
}

export interface AgentCapabilities {
  loadSession: boolean;
  resumeSession: boolean;
}

/** User messages in the agent's own history, for the never-send-twice check (I6). */
export interface SessionHistory {
  userMessages: Array<{ text: string; clientId?: string }>;
  /** False when the agent restored the session without showing its history (ACP session/resume): absence proves nothing. Default true. */
  complete?: boolean;
}

/** Raised by load/resume when the agent does not know the session (a stale mapping). */
export class SessionNotFoundError extends Error {
  constructor(sessionId: string, detail?: string) {
    super(`The agent does not know session ${sessionId}${detail ? `: ${detail}` : ''}.`);
    this.name = 'SessionNotFoundError';
  }
}

/** Raised when the agent answers a prompt with an error. */
export class AgentRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentRequestError';
  }
}

/** Raised when the agent answers that the engine or session behind it is gone (the process lives on, the conversation cannot): a runtime failure, not a turn's error. */
export class AgentEngineGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentEngineGoneError';
  }
}

/**
 * One agent process's protocol, translated. An adapter lives exactly as long as its process
 * (one generation); the supervisor makes a new one after every restart.
 */
export interface AgentAdapter {
  /** The protocol's names for restoring a session, for the session.bound record. */
  readonly restoreMethods: { new: string; load: string; resume: string };
  initialize(): Promise<AgentCapabilities>;
  newSession(cwd: string): Promise<{ sessionId: string }>;
  /** ACP `session/load` or Codex `thread/resume` with history; replayed updates go to host.update(…, true). */
  loadSession(sessionId: string, cwd: string): Promise<SessionHistory>;
  /** ACP `session/resume` (no history replay). */
  resumeSession(sessionId: string, cwd: string): Promise<SessionHistory>;
  /** Resolves with a stop reason code from STOP_REASONS when the turn ends, and the agent's words on why. */
  prompt(text: string, ik: string): Promise<{ stopReason: string; detail?: string }>;
  cancel(): Promise<void>;
  /** Stop talking (the supervisor ends the process). */
  close(): void;
}

/** A framed message channel over one agent process's stdio. */
export interface MessageChannel {
  send(message: object): void;
  onMessage(listener: (message: Record<string, unknown>) => void): void;
  /** Resolves when the agent's stdout ends. */
  readonly closed: Promise<void>;
}
