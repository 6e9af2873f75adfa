/**
 * What an effect reports when it has done its work (t3code's receipt bus). Tests and callers
 * wait on receipts instead of sleeping; proving that something did *not* happen means
 * waiting for a later receipt and then looking.
 */
export type Receipt =
  | { kind: 'generation.spawned'; generation: number; pid: number }
  | { kind: 'generation.ready'; generation: number }
  | { kind: 'generation.exited'; generation: number; expected: boolean }
  | { kind: 'generation.killed'; generation: number; reason: string }
  | { kind: 'turn.sent'; generation: number; turn: number }
  | { kind: 'turn.cancel_delivered'; generation: number }
  | { kind: 'approval.answered'; approvalId: string; answer: string }
  | { kind: 'restart.scheduled'; attempt: number; delayMs: number };

export type ReceiptKind = Receipt['kind'];

export class ReceiptBus {
  private readonly listeners = new Set<(receipt: Receipt) => void>();

  publish(receipt: Receipt): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(receipt);
      } catch {
        // A listener's failure is its own; the effect that published is done either way.
      }
    }
  }

  on(listener: (receipt: Receipt) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next receipt `accept` likes (subscribe before causing it). */
  next<K extends ReceiptKind>(kind: K, accept: (receipt: Extract<Receipt, { kind: K }>) => boolean = () => true): Promise<Extract<Receipt, { kind: K }>> {
    return new Promise((resolve) => {
      const stop = this.on((receipt) => {
        if (receipt.kind !== kind || !accept(receipt as Extract<Receipt, { kind: K }>)) return;
        stop();
        resolve(receipt as Extract<Receipt, { kind: K }>);
      });
    });
  }
}
