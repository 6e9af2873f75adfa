import type { Durability, LedgerEvent } from '../contract/schemas/ledger.js';

/** How a ledger is opened. */
export interface OpenLedgerOptions {
  dataDir: string;
  /** Inspect without recovering, locking or writing (e.g. `keel ledger verify` beside a running app). */
  readOnly?: boolean;
  streamWindowMs?: number;
  now?: () => Date;
  /** Where a throwing subscriber is reported (default: stderr). */
  onListenerError?: (error: unknown, event: LedgerEvent) => void;
  /**
   * After open, validate in the background what open trusted (each log up to its verified
   * marker) and quarantine a run whose trusted records are damaged (default true).
   */
  backgroundCheck?: boolean;
}

/** An event as `Ledger.skim` gives it: its envelope, and the whole event only for the types asked. */
export interface SkimmedEvent {
  seq: number;
  type: string;
  generation: number | null;
  event: LedgerEvent | null;
}

export interface AppendOptions {
  /** `critical` (default) resolves after its own sync; `stream` may wait ~20 ms to share one. */
  durability?: Durability;
}
