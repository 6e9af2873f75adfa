import { useEffect } from 'react';
import { useRuns } from '../stores/runs.js';

/** The tab title for the runs that wait for a person: "(2) Keel — approval needed", else "Keel". */
export function attentionTitle(waiting: number): string {
  return waiting > 0 ? `(${waiting}) Keel — approval needed` : 'Keel';
}

/** Keeps document.title telling, from another tab or window, how many runs wait for an approval. */
export function useAttentionTitle(): void {
  const waiting = useRuns((state) => state.runs.filter((run) => run.state === 'awaiting_approval').length);
  useEffect(() => {
    document.title = attentionTitle(waiting);
  }, [waiting]);
}
