import fs from 'node:fs';
import path from 'node:path';
import { quoteWord, type Action } from '../contract/index.js';
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

/** The directory a command runs in, as a real path when it exists (a symlinked spelling is the same place). */
function realCwd(cwd: string | undefined): string | undefined {
  if (cwd === undefined) return undefined;
  try {
    return fs.realpathSync(cwd);
  } catch {
    return path.resolve(cwd);
  }
}

/**
 * Whether an allowed request covers a later action. Paths: each wanted path was granted. A
 * command: the same words (compared as words: `["a b"]` is not `["a", "b"]`) in the same
 * directory (`rm -rf build` granted in one folder says nothing about another). A granted
 * command line (a shell string, no argv) covers the argv that quotes back to exactly that line.
 */
export function covers(granted: Action, action: Action): boolean {
  if (granted.kind !== action.kind) return false;
  if (action.kind === 'write' || action.kind === 'read') return (action.paths ?? []).every((target) => granted.paths?.includes(target));
  if (action.kind === 'exec') {
    if (granted.command === undefined || action.command === undefined) return false;
    if (realCwd(granted.cwd) !== realCwd(action.cwd)) return false;
    if (granted.args === undefined) {
      const line = action.args === undefined ? action.command : [action.command, ...action.args].map(quoteWord).join(' ');
      return line === granted.command;
    }
    if (action.args === undefined) return false;
    const wanted = [action.command, ...action.args];
    const allowed = [granted.command, ...granted.args];
    return wanted.length === allowed.length && wanted.every((word, index) => word === allowed[index]);
  }
  return false;
}
