import { ulid } from 'ulid';
import { KeelRpcError } from '../contract/errors.js';
import type { Action, ApprovalDecision, ApprovalMode, AppendInput, LedgerEvent } from '../contract/schemas/ledger.js';
import type { PermissionAnswer } from '../runtime/adapter.js';
import { actionKey } from './action-key.js';

export interface ApprovalRequest {
  generation: number;
  turn?: number;
  action: Action;
  reason: string;
  source: 'agent' | 'keel';
  signal?: AbortSignal;
  /** Every path the action touches resolves inside the workspace (reads there need no question). */
  insideWorkspace?: boolean;
}

export interface BrokerDeps {
  append(body: AppendInput): Promise<LedgerEvent>;
  mode: ApprovalMode;
  /** How long an interactive request waits for a person (0 = forever). */
  timeoutMs: number;
  /** Whether the generation that asked is still the live one (I5). */
  isLive(generation: number): boolean;
  onPendingChange(pendingCount: number): void;
}

interface Pending {
  approvalId: string;
  generation: number;
  key: string;
  action: Action;
  settle(answer: PermissionAnswer): void;
  timer: ReturnType<typeof setTimeout> | null;
}

interface UserDecision {
  approvalId: string;
  decision: ApprovalDecision;
  /** The generation whose request it answered. */
  generation: number;
  /** A later generation already received it once (carry-over is single use, except allow_run). */
  carried: boolean;
}

const toAnswer = (decision: ApprovalDecision): PermissionAnswer =>
  decision === 'allow_run' ? 'allow_always' : decision === 'allow_once' ? 'allow_once' : 'deny';

/** Reads inside the workspace are allowed without asking; a read elsewhere is a question. */
function autoDecision(mode: ApprovalMode, action: Action, insideWorkspace: boolean): ApprovalDecision | null {
  const safeRead = action.kind === 'read' && insideWorkspace;
  if (mode === 'interactive') return safeRead ? 'allow_once' : null;
  if (mode === 'all') return 'allow_once';
  if (mode === 'reads') return safeRead ? 'allow_once' : 'deny';
  return 'deny';
}

/**
 * Approvals as persisted state (I5): requested -> decided | timed_out | cancelled | orphaned.
 * Every transition is a ledger event written before the agent hears the answer; a decision
 * only reaches the generation that asked; after a restart, the same action asked again gets
 * the earlier user decision, recorded with a reference to it.
 */
export class ApprovalBroker {
  private readonly pending = new Map<string, Pending>();
  private readonly requested = new Map<string, { key: string; generation: number; action: Action }>();
  private readonly settled = new Set<string>();
  private readonly orphaned = new Set<string>();
  private readonly decisions = new Map<string, UserDecision>();
  /** Allowed actions of the live generation, for the file writes and commands that follow them. */
  private grants: Array<{ generation: number; key: string; action: Action }> = [];

  constructor(private readonly deps: BrokerDeps) {}

  /** Rebuilds what earlier hosts decided, from the run's ledger (called once on start). */
  restore(events: Iterable<LedgerEvent>): void {
    for (const event of events) {
      const payload = event.payload as Record<string, unknown>;
      switch (event.type) {
        case 'approval.requested':
          this.requested.set(payload.approvalId as string, {
            key: payload.actionKey as string,
            generation: payload.generation as number,
            action: payload.action as Action,
          });
          break;
        case 'approval.decided': {
          const approvalId = payload.approvalId as string;
          this.settled.add(approvalId);
          const request = this.requested.get(approvalId);
          if (request && payload.by === 'user') {
            this.decisions.set(request.key, { approvalId, decision: payload.decision as ApprovalDecision, generation: request.generation, carried: false });
          }
          if (request && payload.by === 'carryover' && typeof payload.ref === 'string') {
            const earlier = this.decisions.get(request.key);
            if (earlier?.approvalId === payload.ref) earlier.carried = true;
          }
          break;
        }
        case 'approval.timed_out':
        case 'approval.cancelled':
          this.settled.add(payload.approvalId as string);
          break;
        case 'approval.reset':
          for (const id of payload.approvalIds as string[]) this.orphaned.add(id);
          break;
      }
    }
  }

  /** Requests of this run still waiting for a person, in order. */
  pendingIds(): string[] {
    return [...this.pending.keys()];
  }

  /** Requests asked but never answered, across hosts (for reconciliation after a crash). */
  unsettledIds(): string[] {
    return [...this.requested.keys()].filter((id) => !this.settled.has(id) && !this.orphaned.has(id) && !this.pending.has(id));
  }

  async ask(request: ApprovalRequest): Promise<PermissionAnswer> {
    const key = actionKey(request.action);
    const approvalId = ulid();
    const base = {
      approvalId,
      generation: request.generation,
      ...(request.turn ? { turn: request.turn } : {}),
      action: request.action,
      actionKey: key,
      reason: request.reason,
      source: request.source,
    };
    const interactive = this.deps.mode === 'interactive';
    const auto = autoDecision(this.deps.mode, request.action, request.insideWorkspace ?? false);
    const earlier = this.decisions.get(key);
    const carry = earlier && (earlier.decision === 'allow_run' || (!earlier.carried && earlier.generation < request.generation)) ? earlier : null;

    if (auto || carry) {
      this.requested.set(approvalId, { key, generation: request.generation, action: request.action });
      this.settled.add(approvalId);
      await this.deps.append({ type: 'approval.requested', generation: request.generation, payload: base });
      const decision = carry ? carry.decision : auto!;
      await this.deps.append({
        type: 'approval.decided',
        payload: carry
          ? { approvalId, decision, by: 'carryover', ref: carry.approvalId, note: 'the same action was decided earlier in this run' }
          : { approvalId, decision, by: 'auto', note: interactive ? 'reads are allowed' : `non-interactive run (--approve ${this.deps.mode})` },
      });
      if (carry && carry.decision !== 'allow_run') carry.carried = true;
      return this.answer(request, key, decision);
    }

    const timeoutMs = this.deps.timeoutMs;
    // Registered before the event is written: whoever reads the event may decide at once.
    this.requested.set(approvalId, { key, generation: request.generation, action: request.action });
    let settle: (answer: PermissionAnswer) => void = () => {};
    const answered = new Promise<PermissionAnswer>((resolve) => {
      settle = resolve;
    });
    const pending: Pending = {
      approvalId,
      generation: request.generation,
      key,
      action: request.action,
      settle: (answer) => {
        if (pending.timer) clearTimeout(pending.timer);
        this.pending.delete(approvalId);
        this.deps.onPendingChange(this.pending.size);
        settle(answer);
      },
      timer: null,
    };
    this.pending.set(approvalId, pending);
    try {
      await this.deps.append({
        type: 'approval.requested',
        generation: request.generation,
        payload: { ...base, ...(timeoutMs > 0 ? { timeoutMs } : {}) },
      });
    } catch (error) {
      this.pending.delete(approvalId);
      this.requested.delete(approvalId);
      throw error;
    }
    if (this.pending.has(approvalId)) {
      this.deps.onPendingChange(this.pending.size);
      if (timeoutMs > 0) {
        pending.timer = setTimeout(() => {
          void this.finish(approvalId, { type: 'approval.timed_out', payload: { approvalId } }, 'cancelled');
        }, timeoutMs);
        pending.timer.unref?.();
      }
      request.signal?.addEventListener('abort', () => {
        void this.finish(approvalId, { type: 'approval.cancelled', payload: { approvalId, reason: 'the agent withdrew the request' } }, 'cancelled');
      });
    }
    return answered;
  }

  private answer(request: ApprovalRequest, key: string, decision: ApprovalDecision): PermissionAnswer {
    if (decision !== 'deny') this.grants.push({ generation: request.generation, key, action: request.action });
    return toAnswer(decision);
  }

  private async finish(approvalId: string, event: AppendInput, answer: PermissionAnswer): Promise<void> {
    const pending = this.pending.get(approvalId);
    if (!pending || this.settled.has(approvalId)) return;
    // Settled before the first await: a concurrent decide, timeout or cancel finds it taken (I5).
    this.settled.add(approvalId);
    this.pending.delete(approvalId);
    try {
      await this.deps.append(event);
    } finally {
      pending.settle(answer); // the agent is answered even when the record could not be written
    }
  }

  /** A person decided. Recorded first; applied only to the generation that asked, if it lives. */
  async decide(approvalId: string, decision: ApprovalDecision): Promise<void> {
    const request = this.requested.get(approvalId);
    if (!request) throw new KeelRpcError('not_found', `No approval ${approvalId} in this run.`);
    if (this.settled.has(approvalId)) throw new KeelRpcError('conflict', `Approval ${approvalId} was already settled.`);
    // Taken before the first await: a second click, a timeout or a cancel now finds it settled (I5).
    this.settled.add(approvalId);
    const pending = this.pending.get(approvalId);
    if (pending) this.pending.delete(approvalId);
    try {
      await this.deps.append({
        type: 'approval.decided',
        payload: {
          approvalId,
          decision,
          by: 'user',
          ...(pending ? {} : { note: 'the process that asked is gone; applied when the same action is asked again' }),
        },
      });
    } catch (error) {
      // Not recorded, so not decided: the request waits again.
      this.settled.delete(approvalId);
      if (pending) this.pending.set(approvalId, pending);
      throw error;
    }
    this.decisions.set(request.key, { approvalId, decision, generation: request.generation, carried: false });
    if (pending && this.deps.isLive(pending.generation)) {
      if (decision !== 'deny') this.grants.push({ generation: pending.generation, key: pending.key, action: pending.action });
      pending.settle(toAnswer(decision));
    } else if (pending) {
      pending.settle('cancelled');
    }
  }

  /** The turn ended with requests still open (the agent gave up on them): settle them, visibly. */
  async cancelPending(reason: string): Promise<void> {
    for (const approvalId of [...this.pending.keys()]) {
      await this.finish(approvalId, { type: 'approval.cancelled', payload: { approvalId, reason } }, 'cancelled');
    }
  }

  /**
   * A generation died: its pending requests become orphaned (one `approval.reset` event) and
   * its grants lapse. Decisions already made stay, for carry-over.
   */
  async resetGeneration(generation: number, reason: string): Promise<string[]> {
    this.grants = this.grants.filter((grant) => grant.generation !== generation);
    const orphans = [...this.pending.values()].filter((pending) => pending.generation === generation);
    const ids = [...orphans.map((pending) => pending.approvalId), ...this.unsettledIds().filter((id) => this.requested.get(id)?.generation === generation)];
    if (ids.length === 0) return [];
    for (const pending of orphans) {
      if (pending.timer) clearTimeout(pending.timer);
      this.pending.delete(pending.approvalId);
    }
    await this.deps.append({ type: 'approval.reset', payload: { generation, approvalIds: ids, reason } });
    for (const id of ids) this.orphaned.add(id);
    for (const pending of orphans) pending.settle('cancelled');
    this.deps.onPendingChange(this.pending.size);
    return ids;
  }

  /**
   * Whether an allowed request of this generation already covers `action` (the agent asked
   * to write a file, then writes it): consumed once.
   */
  consumeGrant(generation: number, action: Action): boolean {
    const covers = (granted: Action) => {
      if (granted.kind !== action.kind) return false;
      if (action.kind === 'write' || action.kind === 'read') return (action.paths ?? []).every((path) => granted.paths?.includes(path));
      if (action.kind === 'exec') {
        const wanted = [action.command, ...(action.args ?? [])].join(' ');
        const allowed = [granted.command, ...(granted.args ?? [])].join(' ');
        return wanted === allowed || (granted.command !== undefined && granted.args === undefined && granted.command === wanted);
      }
      return false;
    };
    const index = this.grants.findIndex((grant) => grant.generation === generation && covers(grant.action));
    if (index === -1) return false;
    this.grants.splice(index, 1);
    return true;
  }
}
