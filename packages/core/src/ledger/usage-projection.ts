import type { LedgerEvent } from '../contract/schemas/ledger.js';
import type { RunUsage, UsageReportedPayload } from '../contract/schemas/usage.js';
import { emptyRunUsage } from '../contract/usage-math.js';
import { usageReported, usageToolCall, usageTurnEnded, usageTurnStarted } from '../contract/usage-steps.js';
import { canonicalJson } from '../contract/canonical-json.js';

/**
 * The runs projection's `usage` column (issue 15 point 25): the run's usage (RunUsage) as
 * canonical JSON, folded by the same steps as the run view (contract/usage-steps.ts), so the
 * run list shows what the run header shows without folding the run's events. NULL until the
 * first event that moves it.
 */

/** The event types that move a run's usage; every other event leaves the column untouched. */
export const USAGE_EVENT_TYPES = ['prompt.sent', 'turn.ended', 'tool.started', 'tool.updated', 'usage.reported'] as const;
const MOVES_USAGE: ReadonlySet<string> = new Set(USAGE_EVENT_TYPES);

/**
 * Whether a tool call id is new to its run, remembering it: the projection counts distinct ids,
 * as the run view does (an agent restates a call with another `tool.started`, and a
 * `tool.updated` may come for a call never started).
 */
export type ToolCallSeen = (runId: string, toolCallId: string) => boolean;

/** A ToolCallSeen over memory: one fold from the run's first event (verify, the migration). */
export function toolCallsInMemory(): ToolCallSeen {
  const seen = new Set<string>();
  return (runId, toolCallId) => {
    const key = `${runId}\u0000${toolCallId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}

/** Whether an event moves usage (a cheap test before any JSON is read). */
export function movesUsage(event: Pick<LedgerEvent, 'type'>): boolean {
  return MOVES_USAGE.has(event.type);
}

/** Folds one event into the stored usage column; returns the column's new value. */
export function foldUsageColumn(column: string | null, event: LedgerEvent, isNewToolCall: ToolCallSeen): string | null {
  if (!movesUsage(event)) return column;
  if (event.type === 'tool.started' || event.type === 'tool.updated') {
    // Most tool events update a call already counted: decided before the column is read.
    const { toolCallId } = event.payload as { toolCallId?: unknown };
    if (typeof toolCallId !== 'string' || !isNewToolCall(event.run_id, toolCallId)) return column;
  }
  const usage = column === null ? emptyRunUsage() : parseUsage(column);
  let next = usage;
  switch (event.type) {
    case 'prompt.sent':
      next = usageTurnStarted(usage, event.ts);
      break;
    case 'turn.ended':
      next = usageTurnEnded(usage, event.ts);
      break;
    case 'tool.started':
    case 'tool.updated':
      next = usageToolCall(usage);
      break;
    case 'usage.reported':
      next = usageReported(usage, event.payload as UsageReportedPayload);
      break;
  }
  return next === usage && column !== null ? column : canonicalJson(next);
}

/**
 * The column read back. Keel wrote it (canonical JSON of a RunUsage), so it is read without a
 * schema parse (the run list reads every row); a value that is not a JSON object with the
 * counters counts as none, and verify reports the column against the fold.
 */
export function parseUsage(column: string | null | undefined): RunUsage {
  if (typeof column !== 'string') return emptyRunUsage();
  try {
    const value = JSON.parse(column) as Partial<RunUsage> | null;
    if (value === null || typeof value !== 'object' || typeof value.toolCalls !== 'number' || typeof value.durationMs !== 'number') return emptyRunUsage();
    return { ...emptyRunUsage(), ...value };
  } catch {
    return emptyRunUsage();
  }
}
