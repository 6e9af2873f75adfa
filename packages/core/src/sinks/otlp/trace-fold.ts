import type { LedgerEvent } from '../../contract/schemas/ledger.js';
import { runSpanIdOf, spanIdOf, traceIdOf } from './ids.js';
import type { SpanAttributes, SpanRecord } from './span-record.js';

/**
 * A run's ledger as an OpenTelemetry trace, folded event by event (pure: no clock, no I/O).
 *
 * - the run is the trace and its root span (`keel.run`), opened by `run.created` and closed the
 *   first time the run comes to rest (no turn open, a state of rest after a turn, or a final
 *   state); turns recorded later still join the trace as children of the same root;
 * - each turn is a span (`prompt.sent` → `turn.ended`), GenAI `invoke_agent`;
 * - each tool call (`tool.started` → completed/failed/interrupted, GenAI `execute_tool`), each
 *   approval wait (`approval.requested` → decided/timed out/cancelled/reset), each agent restart
 *   (an unexpected `runtime.exited` → the next `session.bound` or `runtime.stopped`) and each
 *   checkpoint is a child span of the turn it happened in (else of the run);
 * - policy decisions, hangs and protocol errors are span events of the turn they happened in.
 *
 * `accept` returns the spans an event closes, each with `closedAt` = that event's seq, so an
 * exporter that has sent everything closed up to seq N can resume from N + 1 without sending a
 * span twice or skipping one.
 */

const REST_STATES = new Set(['idle', 'stopped', 'completed', 'failed', 'interrupted']);
const FINAL_STATES = new Set(['stopped', 'completed', 'failed']);
const QUIET_STOPS = new Set(['end_turn', 'cancelled']);

interface OpenSpan {
  record: SpanRecord;
}

type Payload = Record<string, unknown>;
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** Sets only the defined values. */
function attrs(values: Record<string, unknown>): SpanAttributes {
  const out: SpanAttributes = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[key] = value;
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) out[key] = value as string[];
  }
  return out;
}

/** `gen_ai.system` for an agent spec: the provider where Keel knows it. */
export function genAiSystemOf(agent: Payload | undefined): string {
  const kind = str(agent?.kind);
  if (kind === 'codex') return 'openai';
  if (kind === 'builtin') return 'keel.builtin';
  const command = Array.isArray(agent?.command) ? agent.command.join(' ') : '';
  if (/claude/i.test(command)) return 'anthropic';
  if (/gemini/i.test(command)) return 'gcp.gemini';
  if (/codex/i.test(command)) return 'openai';
  return kind ? `keel.${kind}` : '_OTHER';
}

export class TraceFold {
  readonly traceId: string;
  private readonly runSpan: SpanRecord;
  private runClosed = false;
  private system = '_OTHER';
  private agentName: string | undefined;
  private turnsEnded = 0;
  /** Open turns by turn number; turn span ids by number (for checkpoints after the turn ended). */
  private readonly openTurns = new Map<number, OpenSpan>();
  private readonly turnSpanIds = new Map<number, string>();
  private readonly tools = new Map<string, OpenSpan>();
  private readonly approvals = new Map<string, OpenSpan>();
  private restart: OpenSpan | null = null;
  private lastStopReason: string | undefined;
  private generation = 0;
  private sessionId: string | undefined;
  /** Token deltas the agent reported (`usage.reported`), per turn and for the whole run. */
  private readonly turnTokens = new Map<number, { input: number; output: number }>();
  private readonly runTokens = { input: 0, output: 0, reported: false };

  constructor(readonly runId: string) {
    this.traceId = traceIdOf(runId);
    this.runSpan = this.span(runSpanIdOf(runId), null, 'keel.run', '', 0, { 'keel.run.id': runId, 'gen_ai.operation.name': 'invoke_agent' });
  }

  private span(spanId: string, parentSpanId: string | null, name: string, start: string, seq: number, attributes: SpanAttributes): SpanRecord {
    return {
      traceId: this.traceId,
      spanId,
      parentSpanId,
      name,
      start,
      end: start,
      attributes: { ...attributes, 'keel.run.id': this.runId, 'keel.seq.first': seq },
      events: [],
      status: { code: 'unset' },
      closedAt: 0,
    };
  }

  private close(open: OpenSpan, event: LedgerEvent, attributes: SpanAttributes = {}, status?: SpanRecord['status']): SpanRecord {
    const record = open.record;
    record.end = event.ts;
    record.closedAt = event.seq;
    Object.assign(record.attributes, attributes, { 'keel.seq.last': event.seq });
    if (status) record.status = status;
    return record;
  }

  /** The newest open turn: where a tool call, approval or restart without a turn number belongs. */
  private currentTurn(): OpenSpan | undefined {
    let newest: OpenSpan | undefined;
    let newestTurn = -1;
    for (const [turn, open] of this.openTurns) if (turn > newestTurn) [newest, newestTurn] = [open, turn];
    return newest;
  }

  private parentFor(turn: number | undefined): string {
    if (turn !== undefined) {
      const id = this.openTurns.get(turn)?.record.spanId ?? this.turnSpanIds.get(turn);
      if (id) return id;
    }
    return this.currentTurn()?.record.spanId ?? this.runSpan.spanId;
  }

  private genAi(operation: string): SpanAttributes {
    return attrs({ 'gen_ai.system': this.system, 'gen_ai.operation.name': operation, 'gen_ai.agent.name': this.agentName, 'gen_ai.conversation.id': this.sessionId });
  }

  /** The spans `event` closes (usually none). */
  accept(event: LedgerEvent): SpanRecord[] {
    const payload = (event.payload ?? {}) as Payload;
    const closed: SpanRecord[] = [];
    if (event.generation !== undefined) this.generation = Math.max(this.generation, event.generation);
    switch (event.type) {
      case 'run.created': {
        const agent = payload.agent as Payload | undefined;
        this.system = genAiSystemOf(agent);
        this.agentName = str(agent?.script) ?? (Array.isArray(agent?.command) ? str(agent.command[0]) : undefined) ?? str(agent?.kind);
        this.runSpan.start = event.ts;
        this.runSpan.end = event.ts;
        this.runSpan.attributes['keel.seq.first'] = event.seq;
        this.runSpan.name = `keel.run ${this.agentName ?? ''}`.trim();
        Object.assign(this.runSpan.attributes, this.genAi('invoke_agent'), attrs({ 'keel.agent.kind': str(agent?.kind), 'keel.run.title': str(payload.title), 'keel.approval.mode': str(payload.approvalMode) }));
        break;
      }
      case 'session.bound': {
        this.sessionId = str(payload.sessionId) ?? this.sessionId;
        if (this.restart && num(payload.generation) !== undefined && num(payload.generation)! > (num(this.restart.record.attributes['keel.generation']) ?? 0)) {
          closed.push(this.close(this.restart, event, attrs({ 'keel.generation.next': num(payload.generation), 'keel.session.outcome': str(payload.outcome), 'keel.session.method': str(payload.method) })));
          this.restart = null;
        }
        break;
      }
      case 'prompt.sent': {
        const turn = num(payload.turn) ?? 0;
        const open = this.openTurns.get(turn);
        if (open) {
          open.record.events.push({ name: 'keel.prompt.resent', time: event.ts, attributes: attrs({ 'keel.seq': event.seq, 'keel.generation': event.generation }) });
          break;
        }
        const spanId = spanIdOf(this.runId, event.seq);
        const record = this.span(spanId, this.runSpan.spanId, `turn ${turn}`, event.ts, event.seq, { ...this.genAi('invoke_agent'), 'keel.turn': turn });
        if (event.generation !== undefined) record.attributes['keel.generation'] = event.generation;
        this.openTurns.set(turn, { record });
        this.turnSpanIds.set(turn, spanId);
        break;
      }
      case 'turn.ended': {
        const turn = num(payload.turn) ?? 0;
        const open = this.openTurns.get(turn);
        const stopReason = str(payload.stopReason) ?? 'unknown';
        this.lastStopReason = stopReason;
        this.turnsEnded += 1;
        if (!open) break;
        this.openTurns.delete(turn);
        const tokens = this.turnTokens.get(turn);
        this.turnTokens.delete(turn);
        closed.push(
          this.close(
            open,
            event,
            attrs({
              'keel.stop_reason': stopReason,
              'gen_ai.response.finish_reasons': [stopReason],
              'gen_ai.usage.input_tokens': tokens?.input,
              'gen_ai.usage.output_tokens': tokens?.output,
            }),
            QUIET_STOPS.has(stopReason) ? { code: stopReason === 'end_turn' ? 'ok' : 'unset' } : { code: 'error', message: stopReason },
          ),
        );
        break;
      }
      case 'usage.reported': {
        const tokens = payload.tokens as Payload | undefined;
        const input = num(tokens?.input);
        const output = num(tokens?.output);
        if (input === undefined && output === undefined) break;
        let turn = num(payload.turn);
        if (turn === undefined) for (const open of this.openTurns.keys()) turn = Math.max(turn ?? open, open);
        if (turn !== undefined) {
          const sum = this.turnTokens.get(turn) ?? { input: 0, output: 0 };
          this.turnTokens.set(turn, { input: sum.input + (input ?? 0), output: sum.output + (output ?? 0) });
        }
        this.runTokens.input += input ?? 0;
        this.runTokens.output += output ?? 0;
        this.runTokens.reported = true;
        break;
      }
      case 'tool.started': {
        const id = str(payload.toolCallId);
        if (!id || this.tools.has(id)) break;
        const kind = str(payload.kind);
        const record = this.span(spanIdOf(this.runId, event.seq), this.parentFor(undefined), `execute_tool ${kind ?? 'tool'}`, event.ts, event.seq, {
          ...this.genAi('execute_tool'),
          ...attrs({ 'gen_ai.tool.call.id': id, 'gen_ai.tool.name': kind ?? str(payload.title), 'keel.tool.title': str(payload.title), 'keel.generation': event.generation }),
        });
        this.tools.set(id, { record });
        break;
      }
      case 'tool.updated': {
        const id = str(payload.toolCallId);
        const open = id ? this.tools.get(id) : undefined;
        const status = str(payload.status);
        if (!open || (status !== 'completed' && status !== 'failed')) break;
        this.tools.delete(id!);
        closed.push(this.close(open, event, { 'keel.tool.status': status }, status === 'failed' ? { code: 'error', message: 'tool call failed' } : undefined));
        break;
      }
      case 'tool.interrupted': {
        const ids = Array.isArray(payload.toolCallIds) ? payload.toolCallIds.filter((id): id is string => typeof id === 'string') : [];
        for (const id of ids) {
          const open = this.tools.get(id);
          if (!open) continue;
          this.tools.delete(id);
          closed.push(this.close(open, event, attrs({ 'keel.tool.status': 'interrupted', 'keel.tool.interrupted_reason': str(payload.reason) }), { code: 'error', message: `interrupted: ${str(payload.reason) ?? ''}` }));
        }
        break;
      }
      case 'approval.requested': {
        const id = str(payload.approvalId);
        if (!id || this.approvals.has(id)) break;
        const action = (payload.action ?? {}) as Payload;
        const policy = (payload.policy ?? {}) as Payload;
        const record = this.span(spanIdOf(this.runId, event.seq), this.parentFor(num(payload.turn)), `approval ${str(action.kind) ?? 'action'}`, event.ts, event.seq, attrs({
          'keel.approval.id': id,
          'keel.action.kind': str(action.kind),
          'keel.action.title': str(action.title),
          'keel.approval.source': str(payload.source),
          'keel.policy.rule': str(policy.rule),
          'keel.policy.decision': str(policy.decision),
          'keel.policy.layer': str(policy.layer),
          'keel.policy.hash': str(policy.policyHash),
          'keel.generation': num(payload.generation),
        }));
        this.approvals.set(id, { record });
        break;
      }
      case 'approval.decided':
      case 'approval.timed_out':
      case 'approval.cancelled': {
        const id = str(payload.approvalId);
        const open = id ? this.approvals.get(id) : undefined;
        if (!open) break;
        this.approvals.delete(id!);
        const outcome = event.type.slice('approval.'.length);
        closed.push(this.close(open, event, attrs({ 'keel.approval.outcome': outcome, 'keel.approval.decision': str(payload.decision), 'keel.approval.by': str(payload.by), 'keel.approval.reason': str(payload.reason) })));
        break;
      }
      case 'approval.reset': {
        const ids = Array.isArray(payload.approvalIds) ? payload.approvalIds.filter((id): id is string => typeof id === 'string') : [];
        for (const id of ids) {
          const open = this.approvals.get(id);
          if (!open) continue;
          this.approvals.delete(id);
          closed.push(this.close(open, event, attrs({ 'keel.approval.outcome': 'reset', 'keel.approval.reason': str(payload.reason) })));
        }
        break;
      }
      case 'policy.decided': {
        const target = this.currentTurn()?.record ?? (this.runClosed ? null : this.runSpan);
        const action = (payload.action ?? {}) as Payload;
        target?.events.push({
          name: 'keel.policy.decided',
          time: event.ts,
          attributes: attrs({ 'keel.seq': event.seq, 'keel.policy.rule': str(payload.rule) ?? '(default)', 'keel.policy.decision': str(payload.decision), 'keel.policy.layer': str(payload.layer), 'keel.action.kind': str(action.kind), 'keel.action.title': str(action.title) }),
        });
        break;
      }
      case 'runtime.hang':
      case 'runtime.protocol_error': {
        const target = this.currentTurn()?.record ?? (this.runClosed ? null : this.runSpan);
        target?.events.push({ name: `keel.${event.type}`, time: event.ts, attributes: attrs({ 'keel.seq': event.seq, 'keel.generation': num(payload.generation), 'keel.protocol_error.kind': str(payload.kind), 'keel.hang.idle_ms': num(payload.idleMs) }) });
        break;
      }
      case 'runtime.exited': {
        if (payload.expected === true || this.restart) break;
        const generation = num(payload.generation);
        const record = this.span(spanIdOf(this.runId, event.seq), this.parentFor(undefined), 'agent restart', event.ts, event.seq, attrs({
          'keel.generation': generation,
          'keel.exit.code': num(payload.code),
          'keel.exit.signal': str(payload.signal),
        }));
        this.restart = { record };
        break;
      }
      case 'runtime.restarting': {
        if (this.restart) Object.assign(this.restart.record.attributes, attrs({ 'keel.restart.attempt': num(payload.attempt), 'keel.restart.delay_ms': num(payload.delayMs), 'keel.restart.reason': str(payload.reason) }));
        break;
      }
      case 'runtime.stopped': {
        if (!this.restart) break;
        closed.push(this.close(this.restart, event, attrs({ 'keel.stop_reason': str(payload.stopReason) }), { code: 'error', message: `runtime stopped: ${str(payload.stopReason) ?? ''}` }));
        this.restart = null;
        break;
      }
      case 'checkpoint.created':
      case 'checkpoint.skipped': {
        const turn = num(payload.turn);
        const record = this.span(spanIdOf(this.runId, event.seq), this.parentFor(turn), event.type === 'checkpoint.created' ? 'checkpoint' : 'checkpoint skipped', event.ts, event.seq, attrs({
          'keel.turn': turn,
          'keel.checkpoint.ref': str(payload.ref),
          'keel.checkpoint.commit': str(payload.commit),
          'keel.checkpoint.reason': str(payload.reason),
        }));
        closed.push(this.close({ record }, event));
        break;
      }
      case 'run.state': {
        const state = str(payload.state);
        if (!this.runClosed && state && REST_STATES.has(state) && this.openTurns.size === 0 && (this.turnsEnded > 0 || FINAL_STATES.has(state))) {
          this.runClosed = true;
          const stopReason = str(payload.stopReason) ?? this.lastStopReason;
          closed.push(
            this.close({ record: this.runSpan }, event, attrs({
              'keel.run.state': state,
              'keel.stop_reason': stopReason,
              'keel.turns': this.turnsEnded,
              'keel.generation': this.generation,
              'gen_ai.usage.input_tokens': this.runTokens.reported ? this.runTokens.input : undefined,
              'gen_ai.usage.output_tokens': this.runTokens.reported ? this.runTokens.output : undefined,
            }), stopReason && !QUIET_STOPS.has(stopReason) ? { code: 'error', message: stopReason } : undefined),
          );
        }
        break;
      }
      default:
        break;
    }
    return closed;
  }
}
