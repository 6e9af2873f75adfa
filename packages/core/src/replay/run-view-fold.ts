import type { EventBody, IgnoredEvents, ItemOfKind, LedgerEvent, PayloadOf, RunView } from '../contract/index.js';
import { decodeBody, hasValidEnvelope } from './decode.js';
import { checkpointItem } from './checkpoint-items.js';
import { FoldItems, type FrozenItems } from './fold-items.js';
import { planProgress } from './progress.js';
import {
  agentExitedText,
  agentStartedText,
  approvalsResetText,
  hangText,
  handoffText,
  hostRecoveredText,
  promptSkippedText,
  protocolErrorText,
  restartingText,
  runtimeStoppedText,
  sessionText,
  sweptText,
} from './recovery.js';
import { approvalRequested, settleApproval } from './approval-items.js';
import { usageReported, usageToolCall, usageTurnEnded, usageTurnStarted } from './usage.js';
import { appended, commandItem, emptyHead, flatten, textItem, toolItem, withDiff, type CommandItem, type Head, type TextKind, type ToolItem } from './view-items.js';

type IgnoreReason = Exclude<keyof IgnoredEvents, 'unknownTypes'>;
type RecoveryItem = ItemOfKind<'recovery'>;

const MAX_UNKNOWN_TYPES = 16;

/**
 * The state of a fold at one point, enough to continue from it. It shares the transcript
 * blocks and the slot maps with the folder it came from (see FoldItems), so keeping one every
 * few thousand events stays cheap.
 */
export interface FoldMark extends FrozenItems {
  readonly head: Readonly<Head>;
}

/**
 * The mutable accumulator behind every fold. `push` is the hot path and copies nothing
 * large; `snapshot` hands out an immutable RunView. Immutability rule: the folder never
 * writes to an object it has handed out. The head is copied per snapshot; transcript items
 * are replaced (never edited) when they change; the items array comes from a BlockList
 * that never writes to an array it returned.
 */
export class RunViewFold {
  private head: Head;
  private items: FoldItems;

  /** An empty run; with no runId, the first event's run_id is adopted. */
  constructor(runId = '') {
    this.head = emptyHead(runId);
    this.items = FoldItems.empty();
  }

  /** Continues from a view (which stays untouched). O(1) until the transcript changes. */
  static fromView(view: RunView): RunViewFold {
    const { items, ...head } = view;
    const folder = new RunViewFold();
    folder.head = head;
    folder.items = FoldItems.fromArray(items);
    return folder;
  }

  static restore(mark: FoldMark): RunViewFold {
    const folder = new RunViewFold();
    folder.head = { ...mark.head };
    folder.items = FoldItems.fromFrozen(mark);
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
    return { ...this.head, items: this.items.toArray() };
  }

  mark(): FoldMark {
    return { head: { ...this.head }, ...this.items.freeze() };
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
      case 'run.agent_changed':
        head.agent = body.payload.agent;
        return;
      case 'run.renamed':
        head.title = body.payload.title;
        return;
      case 'run.state': {
        const { state, stopReason, detail } = body.payload;
        head.state = state;
        // One source: a run that is starting, running or idle again is no longer "runtime stopped".
        if (state !== 'stopped') head.runtimeStopped = false;
        head.stopReason = stopReason ?? null;
        head.detail = detail ?? null;
        head.stateSince = ts;
        return;
      }
      case 'prompt.sent': {
        const { turn, text, ik } = body.payload;
        head.currentTurn = turn;
        head.turnOpen = true;
        head.usage = usageTurnStarted(head.usage, ts);
        this.items.add({ kind: 'prompt', seq, ts, turn, text, ik });
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
      case 'tool.interrupted': {
        const { generation, reason } = body.payload;
        for (const toolCallId of body.payload.toolCallIds) {
          const found = this.items.find('tool', toolCallId);
          if (found === undefined || found[1].status === 'completed' || found[1].status === 'failed') continue;
          this.items.set(found[0], toolItem(found[1], { lastSeq: seq, status: 'interrupted', interruption: { generation, reason } }));
        }
        return;
      }
      case 'turn.ended': {
        const { turn, stopReason } = body.payload;
        head.turnOpen = false;
        head.usage = usageTurnEnded(head.usage, ts);
        this.items.add({ kind: 'turn_end', seq, ts, turn, stopReason });
        return;
      }
      case 'ledger.repaired':
        this.items.add({ kind: 'repair', seq, ts, ...body.payload });
        return;
      case 'note':
        this.items.add({ kind: 'note', seq, ts, text: body.payload.text });
        return;
      case 'usage.reported':
        head.usage = usageReported(head.usage, body.payload);
        return;
      case 'prompt.skipped':
        this.items.add({ kind: 'note', seq, ts, text: promptSkippedText(body.payload) });
        return;

      case 'approval.requested':
        return approvalRequested(this.items, head, body.payload, event, body.payload.turn ?? this.turnNow());
      case 'approval.decided': {
        const { approvalId, decision, by, ref, note } = body.payload;
        // Always applied, even to an orphaned request: a person (or the policy) decided, and
        // the note says where the decision goes.
        return settleApproval(this.items, head, approvalId, event, 'approval.decided', { decision, by, ref: ref ?? null, note: note ?? null });
      }
      case 'approval.timed_out':
        return settleApproval(this.items, head, body.payload.approvalId, event, 'approval.timed_out', {});
      case 'approval.cancelled':
        return settleApproval(this.items, head, body.payload.approvalId, event, 'approval.cancelled', { note: body.payload.reason });
      case 'approval.reset': {
        for (const approvalId of body.payload.approvalIds) settleApproval(this.items, head, approvalId, event, 'approval.reset', {});
        return this.recovery('approvals_reset', event, body.payload.generation, approvalsResetText(body.payload), null, body.payload.reason);
      }

      case 'runtime.started': {
        const { generation } = body.payload;
        // The event that begins a generation (its envelope may carry none).
        if (head.generation === null || generation > head.generation) head.generation = generation;
        head.runtimeStopped = false;
        if (generation < 2) return;
        head.restarts++;
        return this.recovery('agent_started', event, generation, agentStartedText(body.payload));
      }
      case 'runtime.exited': {
        const { generation, expected, stderrTail } = body.payload;
        if (expected) return;
        return this.recovery('agent_exited', event, generation, agentExitedText(body.payload), null, stderrTail ?? null);
      }
      case 'runtime.restarting':
        return this.recovery('restarting', event, body.payload.nextGeneration, restartingText(body.payload), null, body.payload.reason);
      case 'runtime.stopped': {
        const { stopReason, detail } = body.payload;
        head.runtimeStopped = true;
        return this.recovery('runtime_stopped', event, event.generation ?? head.generation, runtimeStoppedText(body.payload), stopReason, detail);
      }
      case 'runtime.hang':
        return this.recovery('hang', event, body.payload.generation, hangText(body.payload));
      case 'runtime.protocol_error': {
        const { generation, kind, detail } = body.payload;
        return this.recovery('protocol_error', event, generation, protocolErrorText(body.payload), kind, detail);
      }
      case 'session.bound': {
        const { generation, outcome, detail } = body.payload;
        if (outcome === 'new') return;
        return this.recovery('session', event, generation, sessionText(body.payload), outcome, detail ?? null);
      }
      case 'runtime.swept': {
        const detail = body.payload.processes.map(({ pid, command }) => `${pid} ${command.join(' ')}`).join('\n');
        return this.recovery('swept', event, body.payload.generation, sweptText(body.payload), null, detail);
      }
      case 'session.handoff':
        return this.recovery('handoff', event, body.payload.generation, handoffText(body.payload), null, body.payload.text);
      case 'run.recovered':
        return this.recovery('host_recovered', event, event.generation ?? head.generation, hostRecoveredText(body.payload), null, body.payload.reason);

      case 'terminal.started': {
        const { terminalId, command, args, cwd } = body.payload;
        const found = this.items.find('command', terminalId);
        if (found === undefined) this.addCommand(terminalId, command, args, cwd, event);
        else this.items.set(found[0], commandItem(found[1], { lastSeq: seq, command, args, cwd }));
        return;
      }
      case 'terminal.output': {
        const [slot, item] = this.items.find('command', body.payload.terminalId) ?? this.addCommand(body.payload.terminalId, '', [], '', event);
        this.items.set(slot, commandItem(item, { lastSeq: seq, output: appended(item.output, body.payload.text) }));
        return;
      }
      case 'terminal.exited': {
        const { terminalId, exitCode, signal } = body.payload;
        const [slot, item] = this.items.find('command', terminalId) ?? this.addCommand(terminalId, '', [], '', event);
        flatten(item.output); // its output grows no more (see appended)
        this.items.set(slot, commandItem(item, { lastSeq: seq, status: 'exited', exitCode, signal }));
        return;
      }
      case 'fs.written': {
        const { path, bytes, created } = body.payload;
        this.items.add({ kind: 'file_write', seq, ts, turn: this.turnNow(), path, bytes, created });
        return;
      }
      case 'checkpoint.created':
      case 'checkpoint.skipped':
      case 'workspace.drift':
      case 'deps.changed':
      case 'checkpoint.restore_requested':
      case 'checkpoint.restore_completed':
      case 'checkpoint.restore_failed':
      case 'workspace.worktree':
        this.items.add(checkpointItem(body, seq, ts));
        return;
    }
  }

  /** One recovery card (I4, I6): what happened and what Keel did, in one sentence. */
  private recovery(
    recovery: RecoveryItem['recovery'],
    event: LedgerEvent,
    generation: number | null,
    text: string,
    outcome: string | null = null,
    detail: string | null = null,
  ): void {
    this.items.add({ kind: 'recovery', seq: event.seq, ts: event.ts, recovery, generation, text, outcome, detail });
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
      this.items.set(this.items.length - 1, textItem(kind, last.firstSeq, event.seq, last.ts, turn, generation, appended(last.text, payload.text), last.chunks + 1));
      return;
    }
    this.items.add(textItem(kind, event.seq, event.seq, event.ts, turn, generation, payload.text, 1));
  }

  private toolStarted(payload: PayloadOf<'tool.started'>, event: LedgerEvent): void {
    const { toolCallId, title, kind, input } = payload;
    const found = this.items.find('tool', toolCallId);
    if (found === undefined) {
      this.addTool(toolCallId, title, kind ?? null, input, event);
      return;
    }
    const [slot, item] = found;
    this.items.set(slot, toolItem(item, { lastSeq: event.seq, title, toolKind: kind ?? item.toolKind, input }));
  }

  private toolUpdated(payload: PayloadOf<'tool.updated'>, event: LedgerEvent): void {
    const { toolCallId, status, output, diff, terminalId } = payload;
    const [slot, item] = this.items.find('tool', toolCallId) ?? this.addTool(toolCallId, '', null, undefined, event);
    if (terminalId !== undefined) {
      // The agent embedded Keel's command in this call: the command card becomes part of it.
      const command = this.items.find('command', terminalId);
      if (command) this.items.set(command[0], commandItem(command[1], { lastSeq: event.seq, toolCallId }));
    }
    const next = toolItem(item, {
      lastSeq: event.seq,
      status,
      output: output === undefined ? undefined : appended(item.output, output),
      diffs: diff === undefined ? undefined : withDiff(item.diffs, { ...diff, seq: event.seq }),
    });
    // A finished call's output grows no more (see appended).
    if (next.status === 'completed' || next.status === 'failed') flatten(next.output);
    this.items.set(slot, next);
  }

  private addCommand(terminalId: string, command: string, args: string[], cwd: string, event: LedgerEvent): [number, CommandItem] {
    const item: CommandItem = {
      kind: 'command',
      seq: event.seq,
      lastSeq: event.seq,
      ts: event.ts,
      turn: this.turnNow(),
      terminalId,
      toolCallId: null,
      command,
      args,
      cwd,
      output: '',
      status: 'running',
      exitCode: null,
      signal: null,
    };
    return [this.items.addKeyed('command', terminalId, item), item];
  }

  private addTool(toolCallId: string, title: string, toolKind: string | null, input: unknown, event: LedgerEvent): [number, ToolItem] {
    const item = toolItem(
      { kind: 'tool', firstSeq: event.seq, lastSeq: event.seq, ts: event.ts, turn: this.turnNow(), toolCallId, title, toolKind, status: 'pending', output: '', diffs: [] },
      { input },
    );
    const slot = this.items.addKeyed('tool', toolCallId, item);
    this.head.usage = usageToolCall(this.head.usage);
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
