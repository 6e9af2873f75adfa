import type { PlanEntryView, PlanProgress } from '../contract/index.js';

/**
 * The one progress formula (I9): in-progress entries count as half done.
 *   ratio = (completed + 0.5 * in_progress) / total   (null without a plan)
 *   percent = Math.round(ratio * 100)
 * CLI, IPC and renderer read these values from the RunView; none recomputes them.
 */
export function planProgress(entries: readonly PlanEntryView[]): PlanProgress {
  let completed = 0;
  let inProgress = 0;
  for (const entry of entries) {
    if (entry.status === 'completed') completed++;
    else if (entry.status === 'in_progress') inProgress++;
  }
  const total = entries.length;
  const pending = total - completed - inProgress;
  if (total === 0) return { total, completed, inProgress, pending, ratio: null, percent: null };
  const ratio = (completed + inProgress / 2) / total;
  return { total, completed, inProgress, pending, ratio, percent: Math.round(ratio * 100) };
}
