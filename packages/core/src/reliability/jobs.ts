// One harness run at a time for the host (the pane's "Run harness"): progress goes to every
// listener as it happens, and the scorecard lands in the data directory like the CLI's.
import type { HarnessProfile, HarnessProgress, ScenarioName } from '../contract/schemas/reliability.js';
import { randomSeed, runHarness } from './harness.js';
import { reliabilityDir, writeScorecard } from './scorecard.js';

export class HarnessJobs {
  private current: HarnessProgress = { kind: 'idle' };
  private running = false;
  private readonly listeners = new Set<(progress: HarnessProgress) => void>();
  private readonly stop = new AbortController();

  constructor(private readonly dataDir: string) {}

  /** The latest progress (idle, running, or how the last run ended). */
  get status(): HarnessProgress {
    return this.current;
  }

  subscribe(listener: (progress: HarnessProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(progress: HarnessProgress): void {
    this.current = progress;
    for (const listener of [...this.listeners]) {
      try {
        listener(progress);
      } catch {
        // A broken subscriber must not stop the harness.
      }
    }
  }

  /** Starts a run unless one is going; resolves at once with whether this call started it. */
  start(options: { profile: HarnessProfile; seed?: number; scenarios?: readonly ScenarioName[] }): { started: boolean; seed: number } {
    if (this.stop.signal.aborted) return { started: false, seed: 0 };
    if (this.running) return { started: false, seed: this.current.kind === 'running' ? this.current.seed : 0 };
    this.running = true;
    const seed = options.seed ?? randomSeed();
    void runHarness({
      profile: options.profile,
      seed,
      ...(options.scenarios ? { scenarios: options.scenarios } : {}),
      signal: this.stop.signal,
      // The scorecard so far after each scenario: a run the host's closing stops keeps what it measured.
      onScenarioDone: (partial) => {
        try {
          writeScorecard(reliabilityDir(this.dataDir), partial);
        } catch {
          // The final write reports a lasting problem (the run then ends as failed).
        }
      },
      onProgress: (event) =>
        this.publish({ kind: 'running', profile: options.profile, seed, scenario: event.scenario, index: event.index, total: event.total, done: event.done, planned: event.planned }),
    })
      .then((card) => {
        const files = writeScorecard(reliabilityDir(this.dataDir), card);
        this.publish({ kind: 'finished', file: files.json, verdict: card.verdict });
      })
      .catch((error: unknown) => this.publish({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        this.running = false;
      });
    return { started: true, seed };
  }

  /** The host is closing: a running harness stops at its next fault boundary and nothing new starts. */
  close(): void {
    this.stop.abort(new Error('The host closed while the harness ran.'));
  }

  get busy(): boolean {
    return this.running;
  }
}
