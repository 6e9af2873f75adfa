import type { Action } from '../contract/index.js';
import type { PermissionAnswer } from '../runtime/index.js';

interface Waiter {
  generation: number;
  settle(answer: PermissionAnswer): void;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * The in-memory half of approvals: the agent's requests waiting for their answer, their
 * timeout timers, and the grants an allowed request leaves for the file write or command
 * that follows it. Whether and how a request is answered is the decider's, from the ledger;
 * this only delivers answers, after they are durable.
 */
export class ApprovalWaiters {
  private readonly waiters = new Map<string, Waiter>();
  private grants: Array<{ generation: number; action: Action }> = [];

  /** Registered before the request is recorded: whoever reads the event may decide at once. */
  wait(approvalId: string, generation: number): Promise<PermissionAnswer> {
    return new Promise((resolve) => {
      this.waiters.set(approvalId, { generation, settle: resolve, timer: null });
    });
  }

  /** The request was never recorded: nobody will answer it. */
  forget(approvalId: string): void {
    const waiter = this.waiters.get(approvalId);
    if (waiter?.timer) clearTimeout(waiter.timer);
    this.waiters.delete(approvalId);
  }

  armTimeout(approvalId: string, timeoutMs: number, onTimeout: () => void): void {
    const waiter = this.waiters.get(approvalId);
    if (!waiter) return;
    waiter.timer = setTimeout(onTimeout, timeoutMs);
    waiter.timer.unref?.();
  }

  /** Delivers an answer (once); an allowed one leaves a grant for the generation that asked. */
  answer(approvalId: string, answer: PermissionAnswer, grant?: Action): boolean {
    const waiter = this.waiters.get(approvalId);
    if (!waiter) return false;
    this.forget(approvalId);
    if (grant) this.grants.push({ generation: waiter.generation, action: grant });
    waiter.settle(answer);
    return true;
  }

  /** Grants of a dead generation lapse. */
  lapse(generation: number): void {
    this.grants = this.grants.filter((grant) => grant.generation !== generation);
  }

  /** Answers everything still waiting (the run closes). */
  cancelAll(): void {
    for (const approvalId of [...this.waiters.keys()]) this.answer(approvalId, 'cancelled');
  }

  /**
   * Whether an allowed request of this generation already covers `action` (the agent asked
   * to write a file, then writes it): consumed once.
   */
  consumeGrant(generation: number, action: Action): boolean {
    const index = this.grants.findIndex((grant) => grant.generation === generation && covers(grant.action, action));
    if (index === -1) return false;
    this.grants.splice(index, 1);
    return true;
  }
}

function covers(granted: Action, action: Action): boolean {
  if (granted.kind !== action.kind) return false;
  if (action.kind === 'write' || action.kind === 'read') return (action.paths ?? []).every((path) => granted.paths?.includes(path));
  if (action.kind === 'exec') {
    const wanted = [action.command, ...(action.args ?? [])].join(' ');
    const allowed = [granted.command, ...(granted.args ?? [])].join(' ');
    return wanted === allowed || (granted.command !== undefined && granted.args === undefined && granted.command === wanted);
  }
  return false;
}
