import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { canonicalJson } from '../contract/canonical-json.js';
import { foldUsageColumn, type ToolCallSeen } from './usage-projection.js';

/**
 * The columns of the `runs` table that are derived from the run's events. The store writes them
 * by folding each batch into the stored row; `verify` folds all of a run's events from nothing
 * and compares. The other columns (quarantine, read-only, origin) are set by recovery and import.
 */
export interface RunProjection {
  state: string;
  /** The time of the run's first event (seq 1, `run.created`). */
  created: string;
  /** The time of the newest event. */
  updated: string;
  last_seq: number;
  last_hash: string;
  workspace: string | null;
  /** `run.created`'s agent as canonical JSON. */
  agent: string | null;
  title: string | null;
  stop_reason: string | null;
  /** The run's usage (RunUsage) as canonical JSON; null until an event moves it (see usage-projection.ts). */
  usage: string | null;
  /** The highest agent generation started (0: none). */
  agent_generation: number;
  /** 1 when that generation's exit is recorded (or none started), else 0: readRunState's lastGenerationExited. */
  agent_exited: number;
}

export const PROJECTED_COLUMNS = ['state', 'created', 'updated', 'last_seq', 'last_hash', 'workspace', 'agent', 'title', 'stop_reason', 'usage', 'agent_generation', 'agent_exited'] as const;
/** Projected since keel.db schema 11 (older rows do not have them). */
export const AGENT_EXIT_COLUMNS: ReadonlySet<string> = new Set(['agent_generation', 'agent_exited']);
/** The events foldAgentExit reads. */
export const AGENT_EXIT_TYPES: ReadonlySet<string> = new Set(['runtime.started', 'runtime.exited']);

/**
 * Whether the run's newest agent is known to have exited, folded as readRunState folds it
 * (replay/run-state.ts): a start raises the generation and opens it, an exit of that generation
 * closes it. Host-crash reconciliation and `keel runs` read it from the runs row.
 */
export function foldAgentExit(state: { agent_generation: number; agent_exited: number }, event: Pick<LedgerEvent, 'type' | 'payload'>): void {
  const generation = (event.payload as { generation?: unknown } | undefined)?.generation;
  if (typeof generation !== 'number') return;
  if (event.type === 'runtime.started') {
    state.agent_generation = Math.max(state.agent_generation, generation);
    state.agent_exited = 0;
  } else if (event.type === 'runtime.exited' && generation === state.agent_generation) {
    state.agent_exited = 1;
  }
}

/**
 * Folds one event into a run's projection. `base` is the row so far (null for a run with none;
 * a row with `last_seq` 0 holds no events yet). Events at or below `last_seq` fill a gap: they
 * may set the creation facts but never move the newest-event columns back; usage folds every
 * event as it comes (token deltas and tool calls add up in any order; a gap filled out of order
 * may time a turn or pick a session's cost differently, and verify then reports the column).
 * `isNewToolCall` remembers the run's tool call ids (usage counts distinct ones).
 */
export function foldProjection(base: RunProjection | null, event: LedgerEvent, isNewToolCall: ToolCallSeen): RunProjection {
  const next: RunProjection = base
    ? { ...base }
    : {
        state: 'created',
        created: event.ts,
        updated: event.ts,
        last_seq: 0,
        last_hash: '',
        workspace: null,
        agent: null,
        title: null,
        stop_reason: null,
        usage: null,
        agent_generation: 0,
        agent_exited: 1,
      };
  if (next.last_seq === 0 || event.seq === 1) next.created = event.ts;
  if (event.type === 'run.created') {
    const payload = event.payload as { workspace?: unknown; agent?: unknown; title?: unknown };
    next.workspace = typeof payload.workspace === 'string' ? payload.workspace : null;
    next.agent = payload.agent === undefined ? null : canonicalJson(payload.agent);
    next.title = typeof payload.title === 'string' ? payload.title : null;
  }
  if (event.type === 'run.agent_changed' && event.seq > next.last_seq) {
    const payload = event.payload as { agent?: unknown };
    if (payload.agent !== undefined) next.agent = canonicalJson(payload.agent);
  }
  if (event.type === 'run.renamed' && event.seq > next.last_seq) {
    const payload = event.payload as { title?: unknown };
    if (typeof payload.title === 'string') next.title = payload.title;
  }
  next.usage = foldUsageColumn(next.usage, event, isNewToolCall);
  if (event.seq > next.last_seq) {
    // In seq order only: a start or exit filling a gap is folded again with all the run's facts (the store does).
    foldAgentExit(next, event);
    // The run list orders by activity: Keel stopping an idle agent on purpose (at shutdown, on
    // idle stop) is not activity, so a server restart does not reorder the list or reset its times.
    if (!isQuietStop(event)) next.updated = event.ts;
    next.last_seq = event.seq;
    next.last_hash = event.hash;
    if (event.type === 'run.state') {
      const payload = event.payload as { state?: unknown; stopReason?: unknown };
      if (typeof payload.state === 'string') next.state = payload.state;
      next.stop_reason = typeof payload.stopReason === 'string' ? payload.stopReason : null;
    }
  }
  return next;
}

/** An agent process Keel stopped on purpose (an expected exit): recorded, but not run activity. */
function isQuietStop(event: LedgerEvent): boolean {
  return event.type === 'runtime.exited' && (event.payload as { expected?: unknown }).expected === true;
}
