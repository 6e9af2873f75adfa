// Per-run reliability facts from any run's ledger (issue 13 point 2), with the harness's formulas.
// A fold, so the host can take a long run's facts a page at a time and pick up where it left off.
import type { LedgerEvent } from '../contract/schemas/ledger.js';
import type { RecoveryEpisode, RunReliabilityFacts } from '../contract/schemas/reliability.js';
import type { SkimmedEvent } from '../ledger/index.js';
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

/**
 * The event types whose payloads the facts read; every other event counts by its envelope only
 * (a `Ledger.skim` with these as `recordsOf` gives what the fold needs).
 */
export const FACT_EVENT_TYPES = ['runtime.exited', 'runtime.restarting', 'session.bound', 'run.recovered', 'approval.reset', 'approval.decided', 'prompt.sent'] as const;

const millis = (ts: string) => Date.parse(ts);
const asInput = (event: LedgerEvent): SkimmedEvent => ({ seq: event.seq, type: event.type, generation: event.generation ?? null, event });

/**
 * The facts of one run, folded event by event in seq order:
 * - every recovery of the run's agent: the restart decided (`runtime.restarting`), the exit
 *   before it, and the binding of the next generation (`session.bound`); recovery time is
 *   decided -> bound;
 * - prompt intents recorded twice for the same idempotency key (I6);
 * - events of a generation recorded after its exit (recovery's own records about a dead
 *   generation carry its number in the payload, not the envelope);
 * - host recoveries, approvals reset and carried over, session remaps.
 */
export class RunFactsFold {
  /** The last event folded (0: none). */
  lastSeq = 0;
  readonly episodes: RecoveryEpisode[] = [];
  duplicatedPrompts = 0;
  private lastExitAt: string | null = null;
  private readonly exitedGenerations = new Set<number>();
  private readonly promptKeys = new Set<string>();
  private hostRecoveries = 0;
  private approvalsReset = 0;
  private approvalsCarried = 0;
  private remaps = 0;
  private staleEvents = 0;

  push(input: SkimmedEvent): void {
    this.lastSeq = input.seq;
    const { event } = input;
    if (input.type === 'runtime.exited' && event) {
      this.lastExitAt = event.ts;
      this.exitedGenerations.add((event.payload as { generation: number }).generation);
      return;
    }
    if (input.generation !== null && this.exitedGenerations.has(input.generation)) this.staleEvents += 1;
    if (!event) return;
    switch (input.type) {
      case 'runtime.restarting': {
        const restarting = event.payload as Restarting;
        this.episodes.push({
          generation: restarting.nextGeneration,
          reason: restarting.reason,
          exitedAt: this.lastExitAt,
          decidedAt: event.ts,
          boundAt: null,
          outcome: null,
          recoveryMs: null,
        });
        return;
      }
      case 'session.bound': {
        const bound = event.payload as Bound;
        if (bound.remapped) this.remaps += 1;
        const episode = this.episodes.find((candidate) => candidate.generation === bound.generation && candidate.boundAt === null);
        if (episode) {
          episode.boundAt = event.ts;
          episode.outcome = bound.outcome;
          episode.recoveryMs = Math.max(0, millis(event.ts) - millis(episode.decidedAt));
        }
        return;
      }
      case 'run.recovered':
        this.hostRecoveries += 1;
        return;
      case 'approval.reset':
        this.approvalsReset += (event.payload as { approvalIds: string[] }).approvalIds.length;
        return;
      case 'approval.decided':
        if ((event.payload as { by: string }).by === 'carryover') this.approvalsCarried += 1;
        return;
      case 'prompt.sent': {
        const { ik } = event.payload as { ik: string };
        if (this.promptKeys.has(ik)) this.duplicatedPrompts += 1;
        this.promptKeys.add(ik);
        return;
      }
      default:
    }
  }

  facts(runId: string): RunReliabilityFacts {
    const recoveries = this.episodes.map((episode) => ({ ...episode }));
    const samples = recoveries.flatMap((episode) => (episode.recoveryMs === null ? [] : [episode.recoveryMs]));
    return {
      runId,
      restarts: recoveries.length,
      hostRecoveries: this.hostRecoveries,
      recoveries,
      recovery: summarizeDurations(samples),
      approvalsReset: this.approvalsReset,
      approvalsCarried: this.approvalsCarried,
      remaps: this.remaps,
      duplicatedPrompts: this.duplicatedPrompts,
      staleGenerationEvents: this.staleEvents,
    };
  }
}

function foldAll(events: readonly LedgerEvent[]): RunFactsFold {
  const fold = new RunFactsFold();
  for (const event of events) fold.push(asInput(event));
  return fold;
}

/** Every recovery of the run's agent (see RunFactsFold). */
export function recoveryEpisodes(events: readonly LedgerEvent[]): RecoveryEpisode[] {
  return foldAll(events).episodes;
}

/** Prompt intents recorded twice for the same idempotency key (I6: a prompt is never sent twice). */
export function duplicatedPromptIntents(events: readonly LedgerEvent[]): number {
  return foldAll(events).duplicatedPrompts;
}

export function runReliabilityFacts(runId: string, events: readonly LedgerEvent[]): RunReliabilityFacts {
  return foldAll(events).facts(runId);
}
