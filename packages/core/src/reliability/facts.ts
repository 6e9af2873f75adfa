// Per-run reliability facts from any run's ledger (issue 13 point 2), with the harness's formulas.
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import type { RecoveryEpisode, RunReliabilityFacts } from '../contract/schemas/reliability.js';
import { staleGenerationEvents } from './checkers.js';
import { summarizeDurations } from './formulas.js';

interface Restarting {
  nextGeneration: number;
  reason: string;
}
interface Bound {
  generation: number;
  outcome: string;
  remapped: boolean;
}

const millis = (ts: string) => Date.parse(ts);

/**
 * Every recovery of the run's agent: the restart decided (`runtime.restarting`), the exit before
 * it, and the binding of the next generation (`session.bound`); recovery time is decided -> bound.
 */
export function recoveryEpisodes(events: readonly LedgerEvent[]): RecoveryEpisode[] {
  const episodes: RecoveryEpisode[] = [];
  let lastExit: LedgerEvent | null = null;
  for (const event of events) {
    if (event.type === 'runtime.exited') lastExit = event;
    if (event.type === 'runtime.restarting') {
      const restarting = event.payload as Restarting;
      episodes.push({
        generation: restarting.nextGeneration,
        reason: restarting.reason,
        exitedAt: lastExit?.ts ?? null,
        decidedAt: event.ts,
        boundAt: null,
        outcome: null,
        recoveryMs: null,
      });
    }
    if (event.type === 'session.bound') {
      const bound = event.payload as Bound;
      const episode = episodes.find((candidate) => candidate.generation === bound.generation && candidate.boundAt === null);
      if (episode) {
        episode.boundAt = event.ts;
        episode.outcome = bound.outcome;
        episode.recoveryMs = Math.max(0, millis(event.ts) - millis(episode.decidedAt));
      }
    }
  }
  return episodes;
}

/** Prompt intents recorded twice for the same idempotency key (I6: a prompt is never sent twice). */
export function duplicatedPromptIntents(events: readonly LedgerEvent[]): number {
  const seen = new Set<string>();
  let duplicates = 0;
  for (const event of events) {
    if (event.type !== 'prompt.sent') continue;
    const { ik } = event.payload as { ik: string };
    if (seen.has(ik)) duplicates += 1;
    seen.add(ik);
  }
  return duplicates;
}

export function runReliabilityFacts(runId: string, events: readonly LedgerEvent[]): RunReliabilityFacts {
  const recoveries = recoveryEpisodes(events);
  const samples = recoveries.flatMap((episode) => (episode.recoveryMs === null ? [] : [episode.recoveryMs]));
  return {
    runId,
    restarts: recoveries.length,
    hostRecoveries: events.filter((event) => event.type === 'run.recovered').length,
    recoveries,
    recovery: summarizeDurations(samples),
    approvalsReset: events.filter((event) => event.type === 'approval.reset').reduce((sum, event) => sum + (event.payload as { approvalIds: string[] }).approvalIds.length, 0),
    approvalsCarried: events.filter((event) => event.type === 'approval.decided' && (event.payload as { by: string }).by === 'carryover').length,
    remaps: events.filter((event) => event.type === 'session.bound' && (event.payload as Bound).remapped).length,
    duplicatedPrompts: duplicatedPromptIntents(events),
    staleGenerationEvents: staleGenerationEvents(events).length,
  };
}
