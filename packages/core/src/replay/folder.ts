import {
  REPLAY_VIEW_SCHEMA_VERSION,
  type EventBody,
  type IgnoredEvents,
  type ItemOfKind,
  type LedgerEvent,
  type PayloadOf,
  type RunView,
  type ToolDiffView,
  type TranscriptItem,
} from '../contract/index.js';
import { BlockList, type FrozenBlocks } from './block-list.js';
import { decodeBody, hasValidEnvelope } from './decode.js';
import { planProgress } from './progress.js';
import { ToolSlots, type ToolSlotsBase } from './tool-slots.js';

/** Everything in a RunView but the transcript. */
type Head = Omit<RunView, 'items'>;
type IgnoreReason = Exclude<keyof IgnoredEvents, 'unknownTypes'>;
type ToolItem = ItemOfKind<'tool'>;
type TextKind = 'message' | 'thought';

const MAX_UNKNOWN_TYPES = 16;

/**
 * The state of a fold at one point, enough to continue from it. It shares the transcript
 * blocks and the tool-slot map with the folder it came from (see BlockList, ToolSlots),
 * so keeping one every few thousand events stays cheap.
 */
export interface FolderCheckpoint {
  readonly head: Readonly<Head>;
  readonly items: FrozenBlocks<TranscriptItem>;
  readonly tools: ToolSlotsBase;
}

function emptyHead(runId: string): Head {
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
  };
}

/** Built field by field (not spread): this runs once per streamed chunk, and one fixed shape keeps it fast. */
function textItem(
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

type ToolChange = { [K in 'lastSeq' | 'title' | 'toolKind' | 'input' | 'status' | 'output' | 'diffs']?: ToolItem[K] };

/**
 * A tool item with `change` applied (undefined = keep). Built field by field in one fixed
 * shape (`input` always present, maybe undefined): tool items are rebuilt on every update.
 */
function toolItem(base: ToolItem, change: ToolChange): ToolItem {
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
  };
}

function withDiff(diffs: readonly ToolDiffView[], diff: ToolDiffView): ToolDiffView[] {
  const next = diffs.slice();
  const at = next.findIndex((existing) => existing.path === diff.path);
  if (at === -1) next.push(diff);
  else next[at] = diff;
  return next;
}

/**
 * The mutable accumulator behind every fold. `push` is the hot path and copies nothing
 * large; `snapshot` hands out an immutable RunView. Immutability rule: the folder never
 * writes to an object it has handed out. The head is copied per snapshot; transcript items
 * are replaced (never edited) when they change; the items array comes from a BlockList
 * that never writes to an array it returned.
 */
export class Folder {
  private head: Head;
  private items: BlockList<TranscriptItem>;
  private tools: ToolSlots;

  /** An empty run; with no runId, the first event's run_id is adopted. */
  constructor(runId = '') {
    this.head = emptyHead(runId);
    this.items = BlockList.empty();
    this.tools = new ToolSlots();
  }

  /** Continues from a view (which stays untouched). O(1) until the transcript changes. */
  static fromView(view: RunView): Folder {
    const { items, ...head } = view;
    const folder = new Folder();
    folder.head = head;
    folder.items = BlockList.fromArray(items);
    folder.tools = new ToolSlots(null, () => {
      const slots = new Map<string, number>();
      items.forEach((item, slot) => {
        if (item.kind === 'tool') slots.set(item.toolCallId, slot);
      });
      return slots;
    });
    return folder;
  }

  static restore(checkpoint: FolderCheckpoint): Folder {
    const folder = new Folder();
    folder.head = { ...checkpoint.head };
    folder.items = BlockList.fromFrozen(checkpoint.items);
    folder.tools = new ToolSlots(checkpoint.tools);
    return folder;
  }

  get lastSeq(): number {
    return this.head.lastSeq;
  }

  push(event: LedgerEvent): void {
    if (!hasValidEnvelope(event)) return this.ignore('invalidEnvelope');
    const head = this.head;
    if (head.runId === '') head.runId = event.run_id;
    else if (event.run_id !== head.runId) return this.ignore('otherRun');
    // The ledger's seqs are contiguous; a repeat or a step back is a duplicated record.
    if (event.seq <= head.lastSeq) return this.ignore('outOfOrder');
    head.lastSeq = event.seq;
    head.eventCount++;
    head.createdAt ??= event.ts;
    head.updatedAt = event.ts;
    if (event.generation !== undefined && (head.generation === null || event.generation > head.generation)) {
      head.generation = event.generation;
    }
    const decoded = decodeBody(event);
    if (decoded.status === 'unknownType') return this.ignore('unknownType', event.type);
    if (decoded.status === 'invalidPayload') return this.ignore('invalidPayload');
    this.applyBody(decoded.body, event);
  }

  /** The state so far; the folder never writes to it afterwards. */
  snapshot(): RunView {
    return { ...this.head, items: this.items.toArray() as TranscriptItem[] };
  }

  checkpoint(): FolderCheckpoint {
    return { head: { ...this.head }, items: this.items.freeze(), tools: this.tools.bounded(this.items.length) };
  }

  private applyBody(body: EventBody, event: LedgerEvent): void {
    const head = this.head;
    const { seq, ts } = event;
    switch (body.type) {
      case 'run.created': {
        const { workspace, agent, title } = body.payload;
        head.workspace = workspace;
        head.agent = agent;
        head.title = title ?? null;
        return;
      }
      case 'run.state': {
        const { state, stopReason, detail } = body.payload;
        head.state = state;
        head.stopReason = stopReason ?? null;
        head.detail = detail ?? null;
        head.stateSince = ts;
        return;
      }
      case 'prompt.sent': {
        const { turn, text, ik } = body.payload;
        head.currentTurn = turn;
        head.turnOpen = true;
        this.items.push({ kind: 'prompt', seq, ts, turn, text, ik });
        return;
      }
      case 'message.chunk':
        return this.textChunk('message', body.payload, event);
      case 'thought.chunk':
        return this.textChunk('thought', body.payload, event);
      case 'plan.updated':
        head.plan = body.payload.entries;
        head.progress = planProgress(body.payload.entries);
        return;
      case 'tool.started':
        return this.toolStarted(body.payload, event);
      case 'tool.updated':
        return this.toolUpdated(body.payload, event);
      case 'turn.ended': {
        const { turn, stopReason } = body.payload;
        head.turnOpen = false;
        this.items.push({ kind: 'turn_end', seq, ts, turn, stopReason });
        return;
      }
      case 'ledger.repaired':
        this.items.push({ kind: 'repair', seq, ts, ...body.payload });
        return;
      case 'note':
        this.items.push({ kind: 'note', seq, ts, text: body.payload.text });
        return;
    }
  }

  /** Chunks extend the last item when it has the same kind, turn and generation. */
  private textChunk(kind: TextKind, payload: PayloadOf<'message.chunk'>, event: LedgerEvent): void {
    const turn = payload.turn ?? this.turnNow();
    const generation = event.generation ?? null;
    const last = this.items.last();
    if (
      last !== undefined &&
      (last.kind === 'message' || last.kind === 'thought') &&
      last.kind === kind &&
      last.turn === turn &&
      last.generation === generation
    ) {
      this.items.set(this.items.length - 1, textItem(kind, last.firstSeq, event.seq, last.ts, turn, generation, last.text + payload.text, last.chunks + 1));
      return;
    }
    this.items.push(textItem(kind, event.seq, event.seq, event.ts, turn, generation, payload.text, 1));
  }

  private toolStarted(payload: PayloadOf<'tool.started'>, event: LedgerEvent): void {
    const { toolCallId, title, kind, input } = payload;
    const found = this.findTool(toolCallId);
    if (found === undefined) {
      this.addTool(toolCallId, title, kind ?? null, input, event);
      return;
    }
    const [slot, item] = found;
    this.items.set(slot, toolItem(item, { lastSeq: event.seq, title, toolKind: kind ?? item.toolKind, input }));
  }

  private toolUpdated(payload: PayloadOf<'tool.updated'>, event: LedgerEvent): void {
    const { toolCallId, status, output, diff } = payload;
    const [slot, item] = this.findTool(toolCallId) ?? this.addTool(toolCallId, '', null, undefined, event);
    this.items.set(
      slot,
      toolItem(item, {
        lastSeq: event.seq,
        status,
        output: output === undefined ? undefined : item.output + output,
        diffs: diff === undefined ? undefined : withDiff(item.diffs, { ...diff, seq: event.seq }),
      }),
    );
  }

  private findTool(toolCallId: string): [number, ToolItem] | undefined {
    const slot = this.tools.get(toolCallId);
    if (slot === undefined) return undefined;
    const item = this.items.get(slot);
    return item?.kind === 'tool' ? [slot, item] : undefined;
  }

  private addTool(toolCallId: string, title: string, toolKind: string | null, input: unknown, event: LedgerEvent): [number, ToolItem] {
    const item = toolItem(
      { kind: 'tool', firstSeq: event.seq, lastSeq: event.seq, ts: event.ts, turn: this.turnNow(), toolCallId, title, toolKind, status: 'pending', output: '', diffs: [] },
      { input },
    );
    const slot = this.items.length;
    this.items.push(item);
    this.tools.set(toolCallId, slot);
    return [slot, item];
  }

  private turnNow(): number | null {
    return this.head.currentTurn > 0 ? this.head.currentTurn : null;
  }

  private ignore(reason: IgnoreReason, typeName?: string): void {
    const ignored = this.head.ignored;
    const known = ignored.unknownTypes;
    const unknownTypes =
      typeName !== undefined && known.length < MAX_UNKNOWN_TYPES && !known.includes(typeName) ? [...known, typeName] : known;
    const next = { ...ignored, unknownTypes };
    next[reason] += 1;
    this.head.ignored = next;
  }
}
