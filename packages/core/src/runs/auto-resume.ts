import { stopReasonInfo, type LedgerEvent } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';
import type { RunManager } from './run-manager.js';

/** What Keel sends to continue a turn the runtime interrupted (the CLI's `--continue` says the same). */
export const CONTINUE_PROMPT = 'Continue where you stopped.';

export interface AutoResumeSettings {
  enabled: boolean;
  /** Consecutive automatic continues before Keel waits for a person. */
  limit: number;
}

/**
 * Continues a run by itself after an auto-resumable stop (the agent restarted, hung, or lost its
 * engine mid-turn: the registry's `autoResumable`), as `keel run` does with `--continue`, so a
 * run does not wait for someone to type "Continue.". It says so first (a note naming the reason
 * and the count), then sends the prompt through the normal path (recorded first, idempotency
 * key). At most `limit` in a row: a turn that ends any other way resets the count. Off when
 * the setting says so; read-only runs are never touched.
 */
export class AutoResumer {
  private readonly streaks = new Map<string, number>();
  private readonly stopListening: () => void;
  private closed = false;

  constructor(
    ledger: Ledger,
    private readonly runs: RunManager,
    private readonly settings: () => AutoResumeSettings,
  ) {
    this.stopListening = ledger.onCommit((event) => this.onCommit(event));
  }

  private onCommit(event: LedgerEvent): void {
    if (this.closed) return;
    if (event.type === 'turn.ended') {
      const { stopReason } = event.payload as { stopReason: string };
      if (!stopReasonInfo(stopReason).autoResumable) this.streaks.delete(event.run_id);
      return;
    }
    if (event.type !== 'run.state') return;
    const { state, stopReason } = event.payload as { state: string; stopReason?: string };
    if (state !== 'idle' || !stopReason || !stopReasonInfo(stopReason).autoResumable) return;
    const { enabled, limit } = this.settings();
    if (!enabled) return;
    const streak = this.streaks.get(event.run_id) ?? 0;
    if (streak >= limit) return;
    this.streaks.set(event.run_id, streak + 1);
    // Not inside the commit callback: the run's mailbox is still handling the decision that wrote this.
    setTimeout(() => void this.resume(event.run_id, stopReason, streak + 1, limit), 0);
  }

  private async resume(runId: string, stopReason: string, count: number, limit: number): Promise<void> {
    if (this.closed) return;
    try {
      const run = this.runs.get(runId);
      const state = run.view;
      // Only an idle run with no open turn: a person may have prompted (or cancelled) meanwhile.
      if (state.openTurn || run.runState !== 'idle') return;
      const text = `Keel continued the run by itself after ${stopReason} (${count} of ${limit} in a row; turn this off in Settings).`;
      await run.dispatch({ kind: 'recorded', generation: state.generation, body: { type: 'note', payload: { text } } });
      try {
        await run.prompt(CONTINUE_PROMPT);
      } catch (error) {
        // A refused prompt (stopped, closing) leaves the run waiting for a person; the note above must not stand alone.
        const why = error instanceof Error ? error.message : String(error);
        await run.dispatch({ kind: 'recorded', generation: run.view.generation, body: { type: 'note', payload: { text: `Keel could not continue the run by itself: ${why}` } } });
      }
    } catch {
      // The run is closed or read-only: nothing to record.
    }
  }

  close(): void {
    this.closed = true;
    this.stopListening();
  }
}
