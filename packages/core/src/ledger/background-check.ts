import { performance } from 'node:perf_hooks';
import type { LedgerCheck } from '../contract/schemas/ledger.js';
import { scanLogSteps, type LogScan, type ScanStart } from './log-scan.js';

/** A log open trusted up to a verified marker: the prefix the background check validates. */
export interface TrustedPrefix {
  runId: string;
  file: string;
  through: ScanStart;
}

/**
 * The host's clients' calls as background work sees them: work that can wait steps aside while
 * a young call is being answered, and is woken when that ends (no polling).
 */
export interface CallsInFlight {
  /** True while a call that began recently is being answered. */
  busy(): boolean;
  /** Settles once `busy()` would say false (a call ended, or the youngest grew old), or after `maxWaitMs`. */
  settled(maxWaitMs: number): Promise<void>;
}

/** No calls ever: nothing to step aside for. */
export const NO_CALLS: CallsInFlight = { busy: () => false, settled: () => Promise.resolve() };

/** The calls `current()` gives at each question: for work started before the host's router exists. */
export function laterCalls(current: () => CallsInFlight): CallsInFlight {
  return { busy: () => current().busy(), settled: (maxWaitMs) => current().settled(maxWaitMs) };
}

export interface BackgroundCheckOptions {
  prefixes: readonly TrustedPrefix[];
  /** Called for a run whose trusted prefix turned out damaged (the caller quarantines it). */
  onDamage(runId: string, reason: string): void;
  /** Longest stretch of work per event-loop turn (default 8 ms). */
  sliceMs?: number;
  /**
   * While these are busy (a client's call is in flight), the next slice waits until they settle:
   * the call's own turns then follow one another without a slice of the check between each two
   * (a cold run window answered in 36–41 ms instead of 46–52). The check never waits more than
   * `maxYieldMs` (default MAX_YIELD_MS) beyond the time it has worked, so calls that never stop
   * coming slow it to about half its speed, never to a halt.
   */
  calls?: CallsInFlight;
  maxYieldMs?: number;
  /**
   * True for a run deleted since open (its log may be gone): it is dropped from the check, not
   * counted as damage or as a failure of the check.
   */
  forgotten?: (runId: string) => boolean;
  now?: () => Date;
}

/** Why a trusted prefix fails, or null when it holds: valid, chained, and ending on the marker's head. */
export function prefixDamage(scan: LogScan, through: ScanStart): string | null {
  if (scan.damage) {
    return `record ${scan.damage.seq} at byte ${scan.damage.offset} is damaged (${scan.damage.reason}); the run is read-only until repaired`;
  }
  if (scan.lastSeq !== through.seq || scan.validBytes !== through.offset || scan.lastHash !== through.hash) {
    return `records 1..${scan.lastSeq} (${scan.validBytes} bytes) do not lead to the verified marker (record ${through.seq} at byte ${through.offset}); the run is read-only until repaired`;
  }
  return null;
}

/** How far the check's waiting for the host's calls may run ahead of its working time. */
export const MAX_YIELD_MS = 500;

/**
 * The full validation open skipped: every record of every trusted prefix, chain and schema,
 * in slices of at most `sliceMs` per event-loop turn so the host keeps serving its clients.
 * `state` is what `app.info` health shows; `done` settles when every prefix is checked (or
 * the check was stopped).
 */
export class BackgroundCheck {
  readonly done: Promise<LedgerCheck>;
  private current: LedgerCheck;
  private stopped = false;
  private cancelNext: (() => void) | null = null;
  /** Time spent waiting for the host's calls, and spent working, so far. */
  private yieldedMs = 0;
  private workedMs = 0;
  private steps: Generator<void, LogScan> | null = null;
  private finish!: (check: LedgerCheck) => void;

  constructor(private readonly options: BackgroundCheckOptions) {
    const now = options.now ?? (() => new Date());
    this.current = {
      state: options.prefixes.length === 0 ? 'ok' : 'running',
      runsToCheck: options.prefixes.length,
      runsChecked: 0,
      damagedRuns: [],
      startedAt: now().toISOString(),
      finishedAt: options.prefixes.length === 0 ? now().toISOString() : null,
      error: null,
    };
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
    if (options.prefixes.length === 0) this.finish(this.state);
    else this.next(0);
  }

  /** The slice from `index` on, in the next event-loop turn (once the host's calls settle, while it may wait). */
  private next(index: number): void {
    const calls = this.options.calls ?? NO_CALLS;
    const mayWaitMs = (this.options.maxYieldMs ?? MAX_YIELD_MS) - (this.yieldedMs - this.workedMs);
    if (mayWaitMs > 0 && calls.busy()) {
      const waitingSince = performance.now();
      this.cancelNext = null;
      void calls.settled(mayWaitMs).then(() => {
        this.yieldedMs += performance.now() - waitingSince;
        if (!this.stopped) this.next(index);
      });
      return;
    }
    const immediate = setImmediate(() => this.slice(index));
    this.cancelNext = () => clearImmediate(immediate);
  }

  get state(): LedgerCheck {
    return { ...this.current, damagedRuns: [...this.current.damagedRuns] };
  }

  private slice(index: number): void {
    this.cancelNext = null;
    if (this.stopped) return;
    const started = performance.now();
    const deadline = started + (this.options.sliceMs ?? 8);
    const now = this.options.now ?? (() => new Date());
    try {
      while (index < this.options.prefixes.length) {
        const prefix = this.options.prefixes[index]!;
        const step = this.advance(prefix, deadline);
        if (step === 'forgotten') {
          this.current.runsToCheck -= 1;
          index += 1;
          continue;
        }
        if (!step.done) {
          this.workedMs += performance.now() - started;
          this.next(index);
          return;
        }
        this.steps = null;
        const reason = prefixDamage(step.value, prefix.through);
        if (reason && !this.isForgotten(prefix.runId)) {
          this.current.damagedRuns.push(prefix.runId);
          this.options.onDamage(prefix.runId, reason);
        }
        this.current.runsChecked += 1;
        index += 1;
        if (performance.now() >= deadline && index < this.options.prefixes.length) {
          this.workedMs += performance.now() - started;
          this.next(index);
          return;
        }
      }
      this.current.state = this.current.damagedRuns.length > 0 ? 'damaged' : 'ok';
    } catch (error) {
      this.steps = null;
      this.current.state = 'failed';
      this.current.error = error instanceof Error ? error.message : String(error);
    }
    this.current.finishedAt = now().toISOString();
    this.finish(this.state);
  }

  /** Scans `prefix` until done or `deadline`; 'forgotten' when its run was deleted since open (a read that failed for that reason included). */
  private advance(prefix: TrustedPrefix, deadline: number): IteratorResult<void, LogScan> | 'forgotten' {
    if (!this.steps && this.isForgotten(prefix.runId)) return 'forgotten';
    try {
      this.steps ??= scanLogSteps(prefix.file, prefix.runId, undefined, { untilSeq: prefix.through.seq });
      let step = this.steps.next();
      while (!step.done && performance.now() < deadline) step = this.steps.next();
      return step;
    } catch (error) {
      this.steps = null;
      if (this.isForgotten(prefix.runId)) return 'forgotten';
      throw error;
    }
  }

  private isForgotten(runId: string): boolean {
    return this.options.forgotten?.(runId) ?? false;
  }

  /** Stops between slices (on close); `done` settles with the state so far. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelNext?.();
    this.cancelNext = null;
    this.steps?.return(undefined as never);
    this.steps = null;
    if (this.current.state === 'running') this.current.state = 'stopped';
    this.finish(this.state);
  }
}
