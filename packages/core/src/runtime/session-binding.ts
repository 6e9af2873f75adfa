import type { SessionOutcome } from '../contract/index.js';
import { AgentEngineGoneError, SessionNotFoundError, type AgentAdapter, type AgentCapabilities, type SessionHistory } from './adapter.js';

/** What a session binding did, as `session.bound` records it. */
export interface SessionBinding {
  sessionId: string | null;
  outcome: SessionOutcome;
  method: string;
  remapped: boolean;
  detail?: string;
}

export type BindResult =
  | { bound: true; binding: SessionBinding; history: SessionHistory | null }
  /** Not even a fresh session could be made: the runtime cannot go on. */
  | { bound: false; binding: SessionBinding };

export interface BindOptions {
  adapter: AgentAdapter;
  capabilities: AgentCapabilities;
  /** The run's session so far (null on the first generation). */
  previous: string | null;
  workspace: string;
  /** Bounds every call (the startup deadline); rejects when the agent dies. */
  deadline<T>(work: Promise<T>): Promise<T>;
  /** Whether the generation is still the one Keel talks to (a failure of a dying one is its exit's to explain). */
  alive(): boolean;
}

/**
 * Re-binds the conversation to the agent's session (I6): load (history replayed, not
 * recorded again), else resume, else a fresh session — always with an explicit outcome. A
 * stale mapping ("not found") gets exactly one remap to a fresh session.
 */
export async function bindSession(options: BindOptions): Promise<BindResult> {
  const { adapter, capabilities, previous, workspace, deadline } = options;
  const fresh = async (remapped: boolean, detail: string, outcome: SessionOutcome = 'fresh'): Promise<BindResult> => {
    try {
      const { sessionId } = await deadline(adapter.newSession(workspace));
      return { bound: true, binding: { sessionId, outcome, method: adapter.restoreMethods.new, remapped, detail }, history: null };
    } catch (error) {
      if (!options.alive()) throw error;
      const why = `the agent could not create a session: ${(error as Error).message}`;
      return { bound: false, binding: { sessionId: null, outcome: 'unavailable', method: adapter.restoreMethods.new, remapped, detail: why } };
    }
  };

  if (previous === null) return fresh(false, 'first session of this run', 'new');
  const restore = capabilities.loadSession ? 'load' : capabilities.resumeSession ? 'resume' : null;
  if (restore === null) return fresh(false, 'the agent cannot restore sessions');
  try {
    const history = restore === 'load' ? await deadline(adapter.loadSession(previous, workspace)) : await deadline(adapter.resumeSession(previous, workspace));
    return { bound: true, binding: { sessionId: previous, outcome: restore === 'load' ? 'replayed' : 'restored', method: adapter.restoreMethods[restore], remapped: false }, history };
  } catch (error) {
    // An agent whose engine lost the session says so on load: the same stale mapping, remapped once.
    if (!(error instanceof SessionNotFoundError) && !(error instanceof AgentEngineGoneError)) throw error;
    return fresh(true, `the agent no longer knew session ${previous}; remapped once to a new session`);
  }
}

/**
 * The never-send-twice check (I6): may a turn that was in flight be sent again? Only when the
 * agent's own, complete history proves it never arrived. Without message ids, chunks of several
 * prompts may read as one: containing the prompt counts as received.
 */
export function mayResend(history: SessionHistory | null, prompt: { text: string; ik: string }): boolean {
  if (!history || history.complete === false) return false;
  return !history.userMessages.some((message) => message.clientId === prompt.ik || message.text === prompt.text || message.text.includes(prompt.text));
}
