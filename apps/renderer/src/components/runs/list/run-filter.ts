import type { RunSummary } from '@keel/core/contract';
import { agentLabel } from '../../../lib/agent.js';

/** How the person narrows the run list; remembered (see stores/runs.ts). */
export interface RunListFilter {
  /** Words that must all appear in the title, id, workspace path or agent (any case). */
  query: string;
  /** A run state name of the fold (RunStateName), or null for all. */
  state: string | null;
  /** An agent label (agentLabel), or null for all. */
  agent: string | null;
  /** A workspace path, or null for all. */
  workspace: string | null;
  showArchived: boolean;
  groupByWorkspace: boolean;
}

export const NO_FILTER: RunListFilter = { query: '', state: null, agent: null, workspace: null, showArchived: false, groupByWorkspace: false };

/** A run's workspace as a grouping key ('' for none). */
export const workspaceKey = (run: RunSummary) => run.workspace ?? '';

const haystack = (run: RunSummary) => [run.title ?? '', run.id, run.workspace ?? '', agentLabel(run.agent)].join('\n').toLowerCase();

/** Does the filter narrow the list at all (archived runs aside)? */
export const isNarrowed = (filter: RunListFilter) => filter.query.trim() !== '' || filter.state !== null || filter.agent !== null || filter.workspace !== null;

/** The runs the list shows, in the order given (newest activity first). */
export function filterRuns(runs: readonly RunSummary[], filter: RunListFilter): RunSummary[] {
  const words = filter.query.toLowerCase().split(/\s+/).filter(Boolean);
  return runs.filter((run) => {
    if (run.archived && !filter.showArchived) return false;
    if (filter.state !== null && run.state !== filter.state) return false;
    if (filter.agent !== null && agentLabel(run.agent) !== filter.agent) return false;
    if (filter.workspace !== null && workspaceKey(run) !== filter.workspace) return false;
    if (words.length === 0) return true;
    const text = haystack(run);
    return words.every((word) => text.includes(word));
  });
}

export interface RunGroup {
  /** The workspace path ('' for runs without one). */
  workspace: string;
  runs: RunSummary[];
}

/** Runs grouped by workspace, groups in the order of their newest run (the list's order kept within). */
export function groupByWorkspace(runs: readonly RunSummary[]): RunGroup[] {
  const groups = new Map<string, RunSummary[]>();
  for (const run of runs) {
    const key = workspaceKey(run);
    const group = groups.get(key);
    if (group) group.push(run);
    else groups.set(key, [run]);
  }
  return [...groups].map(([workspace, grouped]) => ({ workspace, runs: grouped }));
}

/** The choices the selects offer, from the runs there are (sorted, each once). */
export function filterOptions(runs: readonly RunSummary[]): { agents: string[]; workspaces: string[] } {
  const agents = new Set<string>();
  const workspaces = new Set<string>();
  for (const run of runs) {
    agents.add(agentLabel(run.agent));
    workspaces.add(workspaceKey(run));
  }
  const sorted = (values: Set<string>) => [...values].sort((a, b) => a.localeCompare(b));
  return { agents: sorted(agents), workspaces: sorted(workspaces) };
}
