import { z } from 'zod';

/** A run's title changed: a person renamed it, or Keel titled an untitled run from its first prompt. */
export const RunRenamedPayload = z.object({
  title: z.string().min(1).max(500),
  by: z.enum(['user', 'first_prompt']),
});

/** Run metadata events (issue 15), spread into the ledger's EventBody. */
export const runMetaEventBodies = [z.object({ type: z.literal('run.renamed'), payload: RunRenamedPayload })] as const;

/** The title Keel gives an untitled run from its first prompt: the first line, at most 60 characters. */
export function titleFromPrompt(text: string): string {
  const firstLine = text.trim().split('\n', 1)[0]!.trim().replace(/\s+/g, ' ');
  return firstLine.length > 60 ? `${firstLine.slice(0, 59).trimEnd()}…` : firstLine;
}
