// The transcript items and head a run-view fold builds, each in one fixed shape.
import { emptyRunUsage, REPLAY_VIEW_SCHEMA_VERSION, type ItemOfKind, type RunView, type ToolDiffView, type TranscriptItem } from '../contract/index.js';
import { planProgress } from './progress.js';

/** Everything in a RunView but the transcript. */
export type Head = Omit<RunView, 'items'>;
export type ToolItem = ItemOfKind<'tool'>;
export type CommandItem = ItemOfKind<'command'>;
export type TextKind = 'message' | 'thought';
/** The item kinds later events update in place, each keyed by its own id. */
export type KeyedKind = 'tool' | 'approval' | 'command';

/** The id an item of a keyed kind is found by. */
export function keyOf(item: TranscriptItem, kind: KeyedKind): string | undefined {
  if (item.kind !== kind) return undefined;
  switch (item.kind) {
    case 'tool':
      return item.toolCallId;
    case 'approval':
      return item.approvalId;
    case 'command':
      return item.terminalId;
    default:
      return undefined;
  }
}

export function emptyHead(runId: string): Head {
  return {
    schema_version: REPLAY_VIEW_SCHEMA_VERSION,
    runId,
    lastSeq: 0,
    eventCount: 0,
    ignored: { unknownType: 0, invalidPayload: 0, invalidEnvelope: 0, outOfOrder: 0, otherRun: 0, unknownTypes: [] },
    createdAt: null,
    updatedAt: null,
    workspace: null,
    agent: null,
    title: null,
    state: 'created',
    stopReason: null,
    detail: null,
    stateSince: null,
    currentTurn: 0,
    turnOpen: false,
    generation: null,
    plan: [],
    progress: planProgress([]),
    pendingApprovals: [],
    restarts: 0,
    runtimeStopped: false,
    usage: emptyRunUsage(),
  };
}

/**
 * `text + more`, made one flat string whenever the length passes a power of two. V8 keeps a
 * concatenation as a tree of every piece (a ~32-byte node per piece, each piece kept whole), so
 * a run's streamed text held ~50 bytes per chunk more than its characters: ~25 MB of a 1M-event
 * run's ~60 MB view (issue 16: peak RSS). Flattening at powers of two copies each character
 * at most twice over the text's growth. `charCodeAt` is what flattens (V8's string reads do); the
 * value is the same either way.
 */
export function appended(text: string, more: string): string {
  const joined = text + more;
  if (more.length > 0 && (joined.length ^ text.length) > text.length) flatten(joined);
  return joined;
}

/** Makes a concatenated string one flat string in place (see appended): for text that grows no more. */
export function flatten(text: string): void {
  text.charCodeAt(0);
}

/** Built field by field (not spread): this runs once per streamed chunk, and one fixed shape keeps it fast. */
export function textItem(
  kind: TextKind,
  firstSeq: number,
  lastSeq: number,
  ts: string,
  turn: number | null,
  generation: number | null,
  text: string,
  chunks: number,
): ItemOfKind<TextKind> {
  return { kind, firstSeq, lastSeq, ts, turn, generation, text, chunks };
}

type ToolChange = { [K in 'lastSeq' | 'title' | 'toolKind' | 'input' | 'status' | 'output' | 'diffs' | 'interruption']?: ToolItem[K] };

/**
 * A tool item with `change` applied (undefined = keep). Built field by field in one fixed
 * shape (`input` always present, maybe undefined): tool items are rebuilt on every update.
 */
export function toolItem(base: ToolItem, change: ToolChange): ToolItem {
  return {
    kind: 'tool',
    firstSeq: base.firstSeq,
    lastSeq: change.lastSeq ?? base.lastSeq,
    ts: base.ts,
    turn: base.turn,
    toolCallId: base.toolCallId,
    title: change.title ?? base.title,
    toolKind: change.toolKind !== undefined ? change.toolKind : base.toolKind,
    input: change.input !== undefined ? change.input : base.input,
    status: change.status ?? base.status,
    output: change.output ?? base.output,
    diffs: change.diffs ?? base.diffs,
    interruption: change.interruption ?? base.interruption,
  };
}

type CommandChange = { [K in 'lastSeq' | 'toolCallId' | 'command' | 'args' | 'cwd' | 'output' | 'status' | 'exitCode' | 'signal']?: CommandItem[K] };

/** Like toolItem: one fixed shape, rebuilt on every streamed line of output. */
export function commandItem(base: CommandItem, change: CommandChange): CommandItem {
  return {
    kind: 'command',
    seq: base.seq,
    lastSeq: change.lastSeq ?? base.lastSeq,
    ts: base.ts,
    turn: base.turn,
    terminalId: base.terminalId,
    toolCallId: change.toolCallId !== undefined ? change.toolCallId : (base.toolCallId ?? null),
    command: change.command ?? base.command,
    args: change.args ?? base.args,
    cwd: change.cwd ?? base.cwd,
    output: change.output ?? base.output,
    status: change.status ?? base.status,
    exitCode: change.exitCode !== undefined ? change.exitCode : base.exitCode,
    signal: change.signal !== undefined ? change.signal : base.signal,
  };
}

export function withDiff(diffs: readonly ToolDiffView[], diff: ToolDiffView): ToolDiffView[] {
  const next = diffs.slice();
  const at = next.findIndex((existing) => existing.path === diff.path);
  if (at === -1) next.push(diff);
  else next[at] = diff;
  return next;
}
