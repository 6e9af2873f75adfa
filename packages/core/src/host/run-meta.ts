import { KeelRpcError } from '../contract/errors.js';
import { titleFromPrompt } from '../contract/schemas/run-meta.js';
import type { Ledger } from '../ledger/index.js';
import type { ProcedureHandlers } from './router.js';

type RunMetaHandlers = Pick<ProcedureHandlers, 'run.rename'>;

/** Renaming a run: recorded as `run.renamed` (the projection and the view fold read it). */
export function runMetaProcedures(ledger: Ledger): RunMetaHandlers {
  return {
    'run.rename': async ({ runId, title }) => {
      const summary = ledger.run(runId);
      if (!summary) throw new KeelRpcError('not_found', `No run ${runId}.`);
      if (summary.readOnly || summary.quarantined) throw new KeelRpcError('forbidden', 'This run is read-only; it cannot be renamed.');
      await ledger.append(runId, { type: 'run.renamed', payload: { title: title.trim(), by: 'user' } });
      return {};
    },
  };
}

/**
 * Titles an untitled run from its first prompt, once, right after that prompt is recorded:
 * the run list shows words instead of an id. A person's title (at creation or a rename) wins.
 */
export function autoTitleRuns(ledger: Ledger): () => void {
  const pending = new Set<string>();
  return ledger.onCommit((event) => {
    if (event.type !== 'prompt.sent' || (event.payload as { turn?: number }).turn !== 1 || pending.has(event.run_id)) return;
    const summary = ledger.run(event.run_id);
    if (!summary || summary.title || summary.readOnly) return;
    const title = titleFromPrompt((event.payload as { text: string }).text);
    if (!title) return;
    pending.add(event.run_id);
    // Not inside the commit callback: append after it returns.
    setTimeout(() => {
      ledger
        .append(event.run_id, { type: 'run.renamed', payload: { title, by: 'first_prompt' } })
        .catch(() => {})
        .finally(() => pending.delete(event.run_id));
    }, 0);
  });
}
