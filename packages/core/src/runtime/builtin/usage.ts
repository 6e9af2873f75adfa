import type { SessionState } from './session-store.js';

/** The context window the built-in agent says it has (it has no model: a fixed, plausible size). */
export const BUILTIN_CONTEXT_SIZE = 200_000;

const words = (text: string) => text.split(/\s+/).filter((word) => word.length > 0).length;

/**
 * The built-in agent's usage report, so usage can be tested without a model or keys. It has no
 * tokenizer: one word counts as one token. A turn's input is its prompt, its output what the
 * agent said in it; the context is every word of the session's history.
 */
export function turnUsage(history: SessionState['history'], turnStart: number): { inputTokens: number; outputTokens: number; totalTokens: number; contextUsed: number } {
  let inputTokens = 0;
  let outputTokens = 0;
  history.slice(turnStart).forEach((entry) => {
    if (entry.role === 'user') inputTokens += words(entry.text);
    else outputTokens += words(entry.text);
  });
  const contextUsed = history.reduce((sum, entry) => sum + words(entry.text), 0);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, contextUsed };
}
