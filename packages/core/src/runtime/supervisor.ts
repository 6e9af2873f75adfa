import type { ProtocolErrorKind } from '../contract/index.js';
import type { AgentAdapter, MessageChannel } from './adapter.js';
import { AgentProcess, type AgentExit } from './agent-process.js';
import { RestartBackoff, type RestartBackoffOptions } from './restart-backoff.js';
import { generationTag, GENERATION_TAG_VAR, sweepTagged } from './process-sweep.js';
import { bindSession, type BindResult } from './session-binding.js';

/** One agent process's life, in order; a generation never goes back. */
export type GenerationLifecycle = 'spawning' | 'initializing' | 'binding' | 'ready' | 'stopping' | 'exited';

/** What the supervisor measured about a generation that ended. */
export interface GenerationExit {
  generation: number;
  code: number | null;
  signal: string | null;
  /** Keel stopped it on purpose. */
  expected: boolean;
  stderrTail?: string;
  /** Why Keel killed it, when it did (a stop reason). */
  killedFor: string | null;
  /** Its waiting approvals are orphaned with this reason (null: left as they are). */
  resetReason: string | null;
  /** The next restart slot from the backoff, or null when none may follow. */
  restart: { attempt: number; delayMs: number } | null;
  attemptsUsed: number;
  /** Processes it had started that outlived it (left its process group), found by its tag and killed. */
  swept: Array<{ pid: number; command: string[] }>;
}

/** One agent process serving a run. */
export interface Generation {
  readonly number: number;
  /** Inherited by every process it starts (environment variable KEEL_GENERATION_TAG): what the sweep looks for. */
  readonly tag: string;
  lifecycle: GenerationLifecycle;
  process: AgentProcess | null;
  adapter: AgentAdapter | null;
  startedAt: number;
  /** Keel stops it on purpose: its exit is expected. */
  expected: boolean;
  /** Orphan its waiting approvals with this reason when an expected stop ends it. */
  resetReason: string | null;
  /** Why Keel killed it, if it did (the stop reason of the turn it was running). */
  killedFor: string | null;
  lastActivity: number;
  /** Requests from the agent Keel is still working on (approvals, commands): not a hang. */
  busy: number;
  protocolErrors: number;
  /** The agent's stdout ended: it is dying, whatever its pending requests now say. */
  disconnected: boolean;
  /** Resolves once the run has recorded its exit; nothing of it is recorded after (I6). */
  exitRecorded: Promise<void>;
}

/** What the supervisor tells the run; each becomes a decider input. */
export interface SupervisorReports {
  createAdapter(generation: Generation, channel: MessageChannel): AgentAdapter;
  spawned(generation: number, pid: number, command: string[], tag: string): Promise<unknown>;
  spawnFailed(command: string[], detail: string, attempts: number): Promise<unknown>;
  bound(generation: number, result: BindResult, attempts: number): Promise<unknown>;
  startFailed(generation: number, message: string): Promise<unknown>;
  hang(generation: number, idleMs: number, whileStarting: boolean): Promise<unknown>;
  protocolError(generation: number, kind: ProtocolErrorKind, detail: string, sample: string | undefined, fatal: boolean): Promise<unknown>;
  /** The generation is gone: end what it started (its commands) before its exit is recorded. */
  ending(generation: number): Promise<void>;
  exited(exit: GenerationExit): Promise<unknown>;
  restartDue(attempt: number, reason: string): void;
  /** A turn is in flight (the watchdog only watches turns). */
  turnOpen(): boolean;
}

export interface SupervisorOptions {
  runId: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Per-generation log files. */
  logs(generation: number): { stderrFile: string; protocolFile: string };
  /** A turn with no traffic from the agent for this long is hung (0 disables); also the startup deadline. */
  hangTimeoutMs?: number;
  maxMessageBytes?: number;
  /** Protocol errors a generation may make before Keel gives up on it. */
  maxProtocolErrors?: number;
  backoff?: RestartBackoffOptions;
}

const FATAL_KILLS: ReadonlySet<string> = new Set(['protocol_error', 'agent_unavailable']);

/**
 * The process side of a run: spawns generations (own process group), bounds their start,
 * watches for hangs, kills and stops them, measures their exits and arms restarts with
 * backoff. It decides nothing about the run; it reports, and the run's decider answers.
 */
export class Supervisor {
  readonly backoff: RestartBackoff;
  private current: Generation | null = null;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private launch: { promise: Promise<void>; settle: () => void } | null = null;
  private readonly hangTimeoutMs: number;

  constructor(
    private readonly options: SupervisorOptions,
    private readonly reports: SupervisorReports,
  ) {
    this.backoff = new RestartBackoff(options.backoff);
    this.hangTimeoutMs = options.hangTimeoutMs ?? 120_000;
  }

  /** The generation Keel talks to (maybe exited), if any. */
  get generation(): Generation | null {
    return this.current;
  }

  get running(): boolean {
    return this.current?.process?.running ?? this.current?.lifecycle === 'spawning';
  }

  get restartArmed(): boolean {
    return this.restartTimer !== null;
  }

  /** Settles when the generation being started is ready, or failed to be. */
  get launching(): Promise<void> | null {
    return this.launch?.promise ?? null;
  }

  private settleLaunch(): void {
    const launch = this.launch;
    this.launch = null;
    launch?.settle();
  }

  /** Spawns generation `number`; reports `spawned` or `spawnFailed`. */
  async spawn(number: number, command: string[]): Promise<void> {
    if (!this.launch) {
      let settle = () => {};
      const promise = new Promise<void>((resolve) => (settle = resolve));
      this.launch = { promise, settle };
    }
    const generation: Generation = {
      number,
      tag: generationTag(this.options.runId, number),
      lifecycle: 'spawning',
      process: null,
      adapter: null,
      startedAt: Date.now(),
      expected: false,
      resetReason: null,
      killedFor: null,
      lastActivity: Date.now(),
      busy: 0,
      protocolErrors: 0,
      disconnected: false,
      exitRecorded: Promise.resolve(),
    };
    this.current = generation;
    let agentProcess: AgentProcess;
    try {
      agentProcess = await AgentProcess.spawn({
        command,
        cwd: this.options.cwd,
        env: { ...this.options.env, [GENERATION_TAG_VAR]: generation.tag },
        ...this.options.logs(number),
        ...(this.options.maxMessageBytes ? { maxMessageBytes: this.options.maxMessageBytes } : {}),
        onProtocolError: (kind, detail, sample) => this.protocolError(number, kind, detail, sample),
        onActivity: () => this.touch(generation),
      });
    } catch (error) {
      generation.lifecycle = 'exited';
      await this.reports.spawnFailed(command, (error as Error).message, this.backoff.attemptsUsed).finally(() => this.settleLaunch());
      return;
    }
    generation.process = agentProcess;
    if (generation.lifecycle === 'stopping') {
      // Closed while spawning: this agent never joins the run.
      agentProcess.kill();
      generation.lifecycle = 'exited';
      this.settleLaunch();
      return;
    }
    generation.adapter = this.reports.createAdapter(generation, agentProcess.channel);
    void agentProcess.channel.closed.then(() => {
      generation.disconnected = true;
    });
    generation.exitRecorded = agentProcess.exited.then((exit) => this.onExit(generation, exit));
    generation.exitRecorded.catch(() => {}); // Reported by the run's append handling.
    this.startWatchdog();
    await this.reports.spawned(number, agentProcess.pid, command, generation.tag);
  }

  /** initialize, then bind the session; reports `bound` or `startFailed` (an exit reports itself). */
  async initialize(number: number, previousSession: string | null): Promise<void> {
    const generation = this.current;
    if (!generation || generation.number !== number || !generation.adapter || !generation.process?.running) return;
    const adapter = generation.adapter;
    generation.lifecycle = 'initializing';
    try {
      const capabilities = await this.withStartupDeadline(generation, adapter.initialize());
      if (generation.lifecycle === 'initializing') generation.lifecycle = 'binding';
      const result = await bindSession({
        adapter,
        capabilities,
        previous: previousSession,
        workspace: this.options.cwd,
        deadline: (work) => this.withStartupDeadline(generation, work),
        alive: () => this.isCurrentAndConnected(generation),
      });
      await this.reports.bound(number, result, this.backoff.attemptsUsed);
    } catch (error) {
      if (!this.isCurrentAndConnected(generation)) return; // The exit handler takes over.
      await this.reports.startFailed(number, (error as Error).message);
    }
  }

  private isCurrentAndConnected(generation: Generation): boolean {
    return this.current === generation && !generation.disconnected && (generation.process?.running ?? false);
  }

  /** The generation finished starting: prompts may go to it. */
  markReady(number: number): void {
    const generation = this.current;
    if (generation?.number === number && (generation.lifecycle === 'initializing' || generation.lifecycle === 'binding')) generation.lifecycle = 'ready';
    this.settleLaunch();
  }

  /** initialize/session calls that never answer are a hang, not a wait. */
  private withStartupDeadline<T>(generation: Generation, work: Promise<T>): Promise<T> {
    const limit = this.hangTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      // A dead agent answers nothing, even if a grandchild keeps its stdout open.
      void generation.process?.exited.then(() => reject(new Error('the agent exited while starting')));
      const timer =
        limit > 0
          ? setTimeout(() => {
              if (this.current === generation && generation.process?.running && !generation.killedFor) {
                this.markKilled(generation, 'agent_hung');
                this.reports.hang(generation.number, limit, true).catch(() => this.kill(generation.number, 'agent_hung'));
              }
              reject(new Error('the agent did not answer while starting'));
            }, limit)
          : null;
      work.then(
        (value) => {
          if (timer) clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          if (timer) clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** Something came from the agent, or Keel finished working on its request. */
  touch(generation: Generation): void {
    generation.lastActivity = Date.now();
  }

  /** Runs work for an agent request: while it runs, the agent's silence is not a hang. */
  async whileBusy<T>(generation: Generation, work: () => Promise<T>): Promise<T> {
    generation.busy += 1;
    try {
      return await work();
    } finally {
      generation.busy -= 1;
      this.touch(generation);
    }
  }

  /** Counts a protocol error; past the limit (or any oversize message) the generation is killed. */
  protocolError(number: number, kind: ProtocolErrorKind, detail: string, sample?: string): void {
    const generation = this.current;
    if (!generation || generation.number !== number) return;
    generation.protocolErrors += 1;
    const limit = this.options.maxProtocolErrors ?? 20;
    // An unreadable message may have been an answer we now never get: stop this agent.
    const fatal = (kind === 'oversize' || generation.protocolErrors > limit) && (generation.process?.running ?? false) && !generation.killedFor;
    if (fatal) this.markKilled(generation, 'protocol_error');
    this.reports.protocolError(number, kind, detail, sample, fatal).catch(() => {
      if (fatal) this.kill(number, 'protocol_error');
    });
  }

  private markKilled(generation: Generation, reason: string): void {
    generation.killedFor ??= reason;
    if (generation.lifecycle !== 'exited') generation.lifecycle = 'stopping';
  }

  /** kill -9 of the generation's process group (hang, protocol error, failed start, tests). */
  kill(number: number, reason: string | null): void {
    const generation = this.current;
    if (!generation || generation.number !== number) return;
    if (reason) this.markKilled(generation, reason);
    generation.process?.kill();
  }

  /** Graceful stop, expected: resolves once its exit is recorded. */
  async stop(number: number, options: { resetReason?: string; graceMs?: number } = {}): Promise<void> {
    const generation = this.current;
    if (!generation || generation.number !== number) return;
    generation.expected = true;
    generation.resetReason = options.resetReason ?? null;
    if (generation.lifecycle !== 'exited') generation.lifecycle = 'stopping';
    // Whether its exit could be recorded is the run's to report (a failed append is handled there).
    if (generation.process?.running) await generation.process.stop(options.graceMs);
    await generation.exitRecorded.catch(() => {});
  }

  /** A storage failure: nothing the agent does could be recorded, so it stops (I1). */
  stopForFailure(): void {
    const generation = this.current;
    if (!generation?.process?.running) return;
    generation.expected = true;
    generation.lifecycle = 'stopping';
    generation.process.kill();
  }

  private async onExit(generation: Generation, exit: AgentExit): Promise<void> {
    this.stopWatchdog();
    // Commands die with their generation; their ends are recorded before its exit (I1, I6).
    await this.reports.ending(generation.number);
    generation.lifecycle = 'exited';
    // The group may hold orphans (npm wrappers of native agents): end them too. Processes that
    // left the group (setsid) still carry the generation's tag: sweep those (ADR 0005).
    generation.process?.kill();
    const swept = await sweepTagged(generation.tag).catch(() => []);
    const { expected, killedFor } = generation;
    let restart: GenerationExit['restart'] = null;
    if (!expected) {
      this.backoff.ranFor(Date.now() - generation.startedAt);
      if (!FATAL_KILLS.has(killedFor ?? '')) restart = this.backoff.next();
    }
    const stderrTail = generation.process?.stderrSummary().slice(-4000);
    try {
      await this.reports.exited({
        generation: generation.number,
        code: exit.code,
        signal: exit.signal,
        expected,
        ...(stderrTail ? { stderrTail } : {}),
        killedFor,
        resetReason: expected ? generation.resetReason : killedFor === 'agent_hung' ? 'the agent hung' : 'the agent process exited',
        restart,
        attemptsUsed: this.backoff.attemptsUsed,
        swept,
      });
    } finally {
      this.settleLaunch();
    }
  }

  /** Arms the restart the run decided on. */
  armRestart(attempt: number, delayMs: number, reason: string): void {
    this.disarmRestart();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.reports.restartDue(attempt, reason);
    }, delayMs);
  }

  disarmRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  private startWatchdog(): void {
    const limit = this.hangTimeoutMs;
    if (limit <= 0 || this.watchdog) return;
    this.watchdog = setInterval(() => {
      const generation = this.current;
      if (!generation?.process?.running || !this.reports.turnOpen() || generation.busy > 0 || generation.killedFor) return;
      const idle = Date.now() - generation.lastActivity;
      if (idle < limit) return;
      this.markKilled(generation, 'agent_hung');
      // Killed whether or not the record lands: a hung agent must not hold the turn.
      this.reports.hang(generation.number, idle, false).catch(() => this.kill(generation.number, 'agent_hung'));
    }, Math.max(50, Math.min(1_000, Math.floor(limit / 4))));
    this.watchdog.unref?.();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /** Stops everything: no restart, no watchdog, the live generation stopped (expected). */
  async close(graceMs: number): Promise<void> {
    this.disarmRestart();
    this.stopWatchdog();
    const generation = this.current;
    if (generation?.lifecycle === 'spawning') generation.lifecycle = 'stopping';
    await this.launching?.catch(() => {});
    if (this.current?.process?.running) await this.stop(this.current.number, { graceMs });
  }
}
