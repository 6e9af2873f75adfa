import type { RunManager } from './run-manager.js';

export interface IdleStopOptions {
  /** How long an agent may sit idle before it is stopped; 0 or less = never (read at every check). */
  idleMs(): number;
  /** How often open runs are looked at. */
  checkEveryMs?: number;
  now?: () => number;
}

/**
 * Stops agent processes of runs left idle (no open turn, no traffic) for a while, so every run
 * ever opened does not keep its agent alive. The stop is expected (no restart, no budget spent);
 * the next prompt starts the agent again through the normal resume path
 * (session/load, or a handoff). Runs with an open turn, a start under way or a restart pending
 * are left alone.
 */
export class IdleStopper {
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly stopping = new Set<string>();

  constructor(
    private readonly runs: RunManager,
    private readonly options: IdleStopOptions,
  ) {
    this.timer = setInterval(() => void this.check(), options.checkEveryMs ?? 30_000);
    this.timer.unref?.();
  }

  /** One pass over the open runs (the timer calls it; tests may too). */
  async check(): Promise<string[]> {
    const idleMs = this.options.idleMs();
    if (idleMs <= 0) return [];
    const now = (this.options.now ?? Date.now)();
    const stopped: string[] = [];
    for (const run of this.runs.open()) {
      const generation = run.supervisor.generation;
      if (!generation || generation.lifecycle !== 'ready' || !generation.process?.running || generation.killedFor || generation.expected) continue;
      if (run.view.openTurn || run.runState !== 'idle' || run.supervisor.launching || run.supervisor.restartArmed) continue;
      if (now - generation.lastActivity < idleMs || this.stopping.has(run.runId)) continue;
      this.stopping.add(run.runId);
      try {
        // No note: an expected exit is recorded (runtime.exited, expected) but is not activity, so
        // the run list keeps its order and time (issue 15, point 12).
        await run.supervisor.stop(generation.number, { resetReason: 'the agent was stopped after being idle' });
        stopped.push(run.runId);
      } catch {
        // A run that cannot record (closing, storage failed) keeps its agent; the next pass tries again.
      } finally {
        this.stopping.delete(run.runId);
      }
    }
    return stopped;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
