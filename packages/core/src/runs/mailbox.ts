import { KeelRpcError } from '../contract/index.js';
import type { AppendInput, LedgerEvent } from '../contract/index.js';
import type { Decision, Effect, RunInput } from './inputs.js';

export interface MailboxDeps {
  decide(input: RunInput): Decision;
  append(body: AppendInput, durability: 'critical' | 'stream'): Promise<LedgerEvent>;
  run(effects: readonly Effect[]): void;
}

/**
 * One run's inputs, one at a time: decide on the state as committed so far, append the
 * events, wait until they are durable, then start the effects (I1). The state itself is
 * folded from ledger commits, so it never runs ahead of the ledger. A decision of stream
 * events only (text, tool output) is not waited for: group commit keeps it in order, and no
 * decision reads those events.
 */
export class Mailbox {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: MailboxDeps) {}

  /** Resolves once every input dispatched so far is decided and its effects started. */
  settled(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  /** Resolves with the decision once its events are durable and its effects started. */
  dispatch(input: RunInput): Promise<Decision> {
    const result = this.tail.then(() => this.process(input));
    this.tail = result.catch(() => {});
    return result;
  }

  private async process(input: RunInput): Promise<Decision> {
    const decision = this.deps.decide(input);
    if (decision.error) throw new KeelRpcError(decision.error.code, decision.error.message);
    const appended = decision.events.map((event) => this.deps.append(event.body, event.durability));
    if (decision.events.some((event) => event.durability === 'critical')) await Promise.all(appended);
    else for (const append of appended) append.catch(() => {}); // Reported by the append's own handler.
    this.deps.run(decision.effects);
    return decision;
  }
}
