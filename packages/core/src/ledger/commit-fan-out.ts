import type { LedgerEvent } from '../contract/schemas/ledger.js';

export type Listener = (event: LedgerEvent) => void;

/** Events of history read and delivered per event-loop turn. */
const HISTORY_PAGE = 1000;

interface Subscriber {
  next: number;
  live: boolean;
  onEvent: Listener;
}

export interface CommitFanOutOptions {
  /** Committed events of a run from `fromSeq`, at most `limit`. */
  read(runId: string, fromSeq: number, limit: number): LedgerEvent[];
  /** Where a throwing subscriber is reported (default: stderr). */
  onListenerError?: (error: unknown, event: LedgerEvent) => void;
}

/** Hands committed events to `onCommit` listeners (every run) and to each run's subscribers. */
export class CommitFanOut {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly commitListeners = new Set<Listener>();
  private readonly read: CommitFanOutOptions['read'];
  private readonly onListenerError: (error: unknown, event: LedgerEvent) => void;
  private closed = false;

  constructor(options: CommitFanOutOptions) {
    this.read = options.read;
    this.onListenerError =
      options.onListenerError ??
      ((error, event) => process.stderr.write(`keel ledger: a subscriber failed on ${event.run_id}#${event.seq}: ${String(error)}\n`));
  }

  /** Delivers one just-committed event to every listener and to the run's live subscribers. */
  publish(event: LedgerEvent): void {
    for (const listener of this.commitListeners) this.deliver(listener, event);
    const subscribers = this.subscribers.get(event.run_id);
    if (!subscribers) return;
    for (const subscriber of subscribers) {
      if (!subscriber.live || event.seq < subscriber.next) continue;
      subscriber.next = event.seq + 1;
      this.deliver(subscriber.onEvent, event);
    }
  }

  /** A listener that throws is reported, never allowed to starve the others or crash the host. */
  private deliver(listener: Listener, event: LedgerEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onListenerError(error, event);
    }
  }

  /** See `Ledger.subscribe`. */
  subscribe(runId: string, fromSeq: number, onEvent: Listener): () => void {
    const subscriber: Subscriber = { next: Math.max(1, fromSeq), live: false, onEvent };
    let set = this.subscribers.get(runId);
    if (!set) this.subscribers.set(runId, (set = new Set()));
    set.add(subscriber);
    let active = true;
    const catchUp = () => {
      if (!active || this.closed) return;
      const page = this.read(runId, subscriber.next, HISTORY_PAGE);
      for (const event of page) {
        if (!active) return;
        subscriber.next = event.seq + 1;
        this.deliver(onEvent, event);
      }
      // Reads and commits share this thread: nothing can commit between the read and going live.
      if (page.length < HISTORY_PAGE) subscriber.live = true;
      else setImmediate(catchUp);
    };
    setImmediate(catchUp);
    return () => {
      active = false;
      set.delete(subscriber);
    };
  }

  /** See `Ledger.onCommit`. */
  onCommit(listener: Listener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Drops every listener and subscriber; a history read still scheduled does nothing. */
  close(): void {
    this.closed = true;
    this.subscribers.clear();
    this.commitListeners.clear();
  }
}
