import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { KeelRpcError } from '../contract/errors.js';
import type { Action, AgentSpec, AppendInput, ApprovalDecision, ApprovalMode, LedgerEvent, RunStateName, SessionOutcome } from '../contract/schemas/ledger.js';
import { stopReasonInfo } from '../contract/stop-reasons.js';
import type { Ledger } from '../ledger/index.js';
import { SessionNotFoundError, type AdapterHost, type AgentAdapter, type AgentUpdate, type SessionHistory } from '../runtime/adapter.js';
import { AgentProcess, type AgentExit } from '../runtime/agent-process.js';
import { createAdapter, resolveAgentCommand } from '../runtime/create-adapter.js';
import { RestartPolicy, type RestartPolicyOptions } from '../runtime/restart-policy.js';
import { ApprovalBroker } from './approvals.js';
import { idempotencyKey } from './idempotency.js';
import { readRunFacts, type RunFacts } from './run-facts.js';
import { Terminals } from './terminals.js';
import { readRegularFile, writeRegularFile } from './workspace-files.js';
import { resolveInWorkspace } from './workspace-paths.js';

export interface RunControllerOptions {
  ledger: Ledger;
  runId: string;
  dataDir: string;
  restart?: RestartPolicyOptions;
  /** A turn with no traffic from the agent for this long is hung (0 disables). */
  hangTimeoutMs?: number;
  approvalTimeoutMs?: number;
  maxMessageBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** Protocol errors a generation may make before Keel gives up on it. */
  maxProtocolErrors?: number;
}

interface Generation {
  number: number;
  process: AgentProcess;
  adapter: AgentAdapter;
  startedAt: number;
  /** Keel is stopping it on purpose: its exit is expected. */
  stopping: boolean;
  /** Why Keel killed it, if it did (the stop reason of the turn it was running). */
  killedFor: string | null;
  lastActivity: number;
  /** Requests from the agent Keel is still working on (approvals, commands): not a hang. */
  busy: number;
  protocolErrors: number;
  terminals: Terminals;
  /** The agent's stdout ended: it is dying, whatever its pending requests now say. */
  disconnected: boolean;
  /** Resolves once `runtime.exited` is in the ledger; nothing of this generation is recorded after it (I6). */
  exitRecorded: Promise<void>;
  exited: boolean;
  /** Initialised, session bound, in-flight turn settled: prompts may go to it. */
  ready: boolean;
  /** Output bytes per command, for the recording limit. */
  terminalBytes: Map<string, number>;
}

interface InFlight {
  turn: number;
  text: string;
  ik: string;
}


/** The most of one command's output the ledger records (the agent still gets all of it, up to its own limit). */
const TERMINAL_RECORD_LIMIT = 1024 * 1024;
/** Agent-provided text that goes into a note is cut to this. */
const NOTE_LIMIT = 90_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * One run: a small decider between the agent process, the user and the ledger. Every
 * decision is an event appended before its effect (I1); agent processes come and go as
 * generations while the run, its session and its approvals stay (I4, I5, I6).
 */
export class RunController {
  readonly runId: string;
  private readonly ledger: Ledger;
  private readonly options: RunControllerOptions;
  private facts: RunFacts;
  private readonly policy: RestartPolicy;
  private readonly broker: ApprovalBroker;
  private current: Generation | null = null;
  private inFlight: InFlight | null = null;
  private state: RunStateName;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  private readonly turnWaiters = new Map<number, Array<(stopReason: string) => void>>();
  private readonly runDir: string;
  private launching: Promise<void> | null = null;

  private constructor(options: RunControllerOptions, facts: RunFacts) {
    this.options = options;
    this.ledger = options.ledger;
    this.runId = options.runId;
    this.facts = facts;
    this.state = facts.state;
    this.policy = new RestartPolicy(options.restart);
    this.runDir = path.join(options.dataDir, 'runs', options.runId);
    fs.mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    this.broker = new ApprovalBroker({
      append: (body) => this.append(body),
      mode: facts.approvalMode,
      timeoutMs: options.approvalTimeoutMs ?? 15 * 60_000,
      isLive: (generation) => this.current?.number === generation && this.current.process.running,
      onPendingChange: (count) => this.onPendingApprovals(count),
    });
  }

  /** Opens an existing run from its ledger. */
  static open(options: RunControllerOptions): RunController {
    const events = readAll(options.ledger, options.runId);
    const readOnly = options.ledger.runs().find((run) => run.id === options.runId)?.readOnly ?? false;
    const controller = new RunController(options, { ...readRunFacts(events), readOnly });
    controller.broker.restore(events);
    return controller;
  }

  /** Creates a run (its `run.created` event) and returns its controller. */
  static async create(
    options: Omit<RunControllerOptions, 'runId'>,
    spec: { workspace: string; agent: AgentSpec; title?: string; approvalMode?: ApprovalMode },
  ): Promise<RunController> {
    const stat = fs.statSync(spec.workspace, { throwIfNoEntry: false });
    if (!stat?.isDirectory()) throw new KeelRpcError('invalid_input', `The workspace ${spec.workspace} is not a directory.`);
    const runId = options.ledger.newRunId();
    await options.ledger.append(runId, {
      type: 'run.created',
      payload: {
        workspace: fs.realpathSync(spec.workspace),
        agent: spec.agent,
        ...(spec.title ? { title: spec.title } : {}),
        approvalMode: spec.approvalMode ?? 'interactive',
      },
    });
    return RunController.open({ ...options, runId });
  }

  get runState(): RunStateName {
    return this.state;
  }

  get generation(): number {
    return this.current?.number ?? this.facts.generation;
  }

  /** The agent process's pid, while one runs (tests kill it). */
  get agentPid(): number | null {
    return this.current?.process.running ? this.current.process.pid : null;
  }

  /**
   * Every append of this run. A rejection is always handled here (a fire-and-forget append
   * must never become an unhandled rejection that kills the host); callers that await still
   * see it. An event the agent made invalid becomes a protocol error; a storage failure stops
   * the run's agent, since nothing it does could be recorded (I1).
   */
  private append(body: AppendInput, durability: 'critical' | 'stream' = 'critical'): Promise<LedgerEvent> {
    const appended = this.ledger.append(this.runId, body, { durability });
    appended.catch((error: unknown) => this.onAppendFailure(error, body));
    return appended;
  }

  private ledgerFailure: Error | null = null;

  private onAppendFailure(error: unknown, body: AppendInput): void {
    const code = (error as { code?: string }).code;
    if (code === 'invalid_event' && body.type !== 'runtime.protocol_error' && this.current && !this.ledgerFailure) {
      this.onProtocolError(this.current.number, 'invalid_message', `the agent produced an unrecordable ${body.type}: ${(error as Error).message}`.slice(0, 4000));
      return;
    }
    if (code === 'ledger_closed' || this.ledgerFailure) return;
    this.ledgerFailure = error instanceof Error ? error : new Error(String(error));
    process.stderr.write(`keel: run ${this.runId} can no longer record events (${this.ledgerFailure.message}); stopping its agent\n`);
    const current = this.current;
    if (current?.process.running) {
      current.stopping = true;
      current.process.kill();
    }
  }

  /** A promise nobody awaits: its failure is reported, never left unhandled. */
  private guard(work: Promise<unknown>): void {
    work.catch((error: unknown) => {
      if ((error as { code?: string }).code === 'ledger_closed' || this.ledgerFailure) return;
      process.stderr.write(`keel: run ${this.runId}: ${(error as Error).stack ?? String(error)}\n`);
    });
  }

  private async setState(state: RunStateName, extra: { stopReason?: string; detail?: string } = {}): Promise<void> {
    this.state = state;
    await this.append({ type: 'run.state', payload: { state, ...extra } });
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Starts an agent process if none runs (first start, or after a host restart). */
  async start(): Promise<void> {
    if (this.closed) throw new KeelRpcError('unavailable', 'The run is closed.');
    if (this.launching) return this.launching;
    if (this.current?.process.running) return;
    this.launching ??= this.launch('start').finally(() => {
      this.launching = null;
    });
    return this.launching;
  }

  /** The "restart runtime" button: a fresh attempt budget and a new generation now. */
  async restartRuntime(): Promise<void> {
    this.policy.reset();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const current = this.current;
    if (current?.process.running) {
      current.stopping = true;
      await current.process.stop();
      await this.afterGenerationEnded(current, 'the runtime was restarted by the user');
    }
    await this.start();
  }

  private async launch(reason: string): Promise<void> {
    const number = this.generation + 1;
    await this.setState('starting', { detail: reason });
    const command = resolveAgentCommand(this.facts.agent, { runDir: this.runDir });
    let agentProcess: AgentProcess;
    try {
      agentProcess = await AgentProcess.spawn({
        command,
        cwd: this.facts.workspace,
        env: {
          ...process.env,
          ...this.options.env,
          // Inside Electron, process.execPath is Electron: make it behave as Node for the built-in agent.
          ...(this.facts.agent.kind === 'builtin' && process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}),
        },
        stderrFile: path.join(this.runDir, `agent-${number}.stderr.log`),
        protocolFile: path.join(this.runDir, `agent-${number}.protocol.log`),
        ...(this.options.maxMessageBytes ? { maxMessageBytes: this.options.maxMessageBytes } : {}),
        onProtocolError: (kind, detail, sample) => this.onProtocolError(number, kind, detail, sample),
        onActivity: () => {
          if (this.current?.number === number) this.current.lastActivity = Date.now();
        },
      });
    } catch (error) {
      const detail = `Could not start ${command.join(' ')}: ${(error as Error).message}`;
      await this.append({ type: 'runtime.stopped', payload: { stopReason: 'agent_unavailable', attempts: this.policy.attemptsUsed, detail } });
      await this.endInFlight('agent_unavailable');
      await this.setState('stopped', { stopReason: 'agent_unavailable', detail });
      return;
    }
    if (this.closed) {
      // Closed while spawning: this agent never joins the run.
      agentProcess.kill();
      return;
    }
    await this.append({
      type: 'runtime.started',
      payload: { generation: number, pid: agentProcess.pid, command, hostPid: process.pid },
    });
    const generation: Generation = {
      number,
      process: agentProcess,
      adapter: undefined as unknown as AgentAdapter,
      startedAt: Date.now(),
      stopping: false,
      killedFor: null,
      lastActivity: Date.now(),
      busy: 0,
      protocolErrors: 0,
      disconnected: false,
      exitRecorded: Promise.resolve(),
      exited: false,
      ready: false,
      terminalBytes: new Map(),
      terminals: new Terminals({
        // A dead generation's commands are killed with it; their last words are not recorded (I6).
        started: async (terminalId, cmd, args, cwd, pid) => {
          if (!generation.exited) {
            await this.append({ type: 'terminal.started', generation: number, payload: { terminalId, command: cmd, args, cwd, ...(pid ? { pid } : {}) } });
          }
        },
        output: (terminalId, text) => {
          if (generation.exited) return;
          // The ledger keeps at most TERMINAL_RECORD_LIMIT bytes of one command's output; the rest is only counted.
          const recorded = generation.terminalBytes.get(terminalId) ?? 0;
          generation.terminalBytes.set(terminalId, recorded + Buffer.byteLength(text));
          if (recorded >= TERMINAL_RECORD_LIMIT) return;
          const room = TERMINAL_RECORD_LIMIT - recorded;
          const kept = Buffer.byteLength(text) > room ? `${Buffer.from(text).subarray(0, room).toString('utf8')}\n[Keel: further output of this command is not recorded]\n` : text;
          void this.append({ type: 'terminal.output', generation: number, payload: { terminalId, text: kept } }, 'stream');
        },
        exited: (terminalId, exit) => {
          if (!generation.exited) {
            void this.append({ type: 'terminal.exited', generation: number, payload: { terminalId, exitCode: exit.exitCode, signal: exit.signal } });
          }
        },
      }),
    };
    generation.adapter = createAdapter(this.facts.agent, agentProcess.channel, this.hostFor(generation), { cwd: this.facts.workspace });
    this.current = generation;
    void agentProcess.channel.closed.then(() => {
      generation.disconnected = true;
    });
    generation.exitRecorded = agentProcess.exited.then((exit) => this.onExit(generation, exit));
    this.guard(generation.exitRecorded);
    this.startWatchdog();

    try {
      const capabilities = await this.withStartupDeadline(generation, generation.adapter.initialize());
      const history = await this.bindSession(generation, capabilities);
      if (history === 'unavailable') return;
      generation.ready = true;
      await this.resumeInFlight(generation, history);
    } catch (error) {
      if (generation.disconnected || !generation.process.running || this.current !== generation) return; // The exit handler takes over.
      if (!generation.killedFor) {
        await this.append({ type: 'note', payload: { text: `Generation ${number} failed to start: ${(error as Error).message}`.slice(0, NOTE_LIMIT) } });
      }
      generation.killedFor ??= 'agent_unavailable';
      generation.process.kill();
    }
  }

  /** initialize/session calls that never answer are a hang, not a wait. */
  private withStartupDeadline<T>(generation: Generation, work: Promise<T>): Promise<T> {
    const limit = this.options.hangTimeoutMs ?? 120_000;
    return new Promise<T>((resolve, reject) => {
      // A dead agent answers nothing, even if a grandchild keeps its stdout open.
      void generation.process.exited.then(() => reject(new Error('the agent exited while starting')));
      if (limit <= 0) {
        work.then(resolve, reject);
        return;
      }
      const timer = setTimeout(() => {
        if (this.current === generation && generation.process.running) {
          void this.append({ type: 'runtime.hang', payload: { generation: generation.number, idleMs: limit } });
          generation.killedFor ??= 'agent_hung';
          generation.process.kill();
        }
        reject(new Error('the agent did not answer while starting'));
      }, limit);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /**
   * Re-binds the conversation to the agent's session (I6): load (history replayed, not
   * recorded again), else resume, else a fresh session — always with an explicit outcome.
   * A stale mapping gets exactly one remap to a fresh session.
   */
  private async bindSession(generation: Generation, capabilities: { loadSession: boolean; resumeSession: boolean }): Promise<SessionHistory | null | 'unavailable'> {
    const { adapter } = generation;
    const previous = this.facts.sessionId;
    const bound = async (sessionId: string | null, outcome: SessionOutcome, method: string, remapped: boolean, detail?: string) => {
      this.facts = { ...this.facts, sessionId };
      await this.append({
        type: 'session.bound',
        generation: generation.number,
        payload: { generation: generation.number, sessionId, outcome, method, remapped, ...(detail ? { detail } : {}) },
      });
    };
    const fresh = async (remapped: boolean, detail: string, outcome: SessionOutcome = 'fresh') => {
      try {
        const { sessionId } = await this.withStartupDeadline(generation, adapter.newSession(this.facts.workspace));
        await bound(sessionId, outcome, adapter.restoreMethods.new, remapped, detail);
        return null;
      } catch (error) {
        if (this.current !== generation || !generation.process.running || generation.disconnected) throw error;
        const why = `the agent could not create a session: ${(error as Error).message}`;
        await bound(null, 'unavailable', adapter.restoreMethods.new, remapped, why);
        await this.append({ type: 'runtime.stopped', payload: { stopReason: 'session_unavailable', attempts: this.policy.attemptsUsed, detail: why } });
        await this.endInFlight('session_unavailable');
        generation.stopping = true;
        await generation.process.stop();
        await this.setState('stopped', { stopReason: 'session_unavailable', detail: why });
        return 'unavailable' as const;
      }
    };

    if (previous === null) return fresh(false, 'first session of this run', 'new');
    const restore = capabilities.loadSession ? 'load' : capabilities.resumeSession ? 'resume' : null;
    if (restore === null) return fresh(false, 'the agent cannot restore sessions');
    try {
      const history =
        restore === 'load'
          ? await this.withStartupDeadline(generation, adapter.loadSession(previous, this.facts.workspace))
          : await this.withStartupDeadline(generation, adapter.resumeSession(previous, this.facts.workspace));
      await bound(previous, restore === 'load' ? 'replayed' : 'restored', adapter.restoreMethods[restore], false);
      return history;
    } catch (error) {
      if (!(error instanceof SessionNotFoundError)) throw error;
      return fresh(true, `the agent no longer knew session ${previous}; remapped once to a new session`);
    }
  }

  /**
   * A turn that was in flight when the previous generation died: resent only when the
   * agent's own history proves it never arrived (I6: a prompt is never sent twice);
   * otherwise the turn ends as interrupted and the next prompt continues the run.
   */
  private async resumeInFlight(generation: Generation, history: SessionHistory | null): Promise<void> {
    const inFlight = this.inFlight;
    if (!inFlight) {
      await this.setState('idle');
      return;
    }
    // Without message ids, chunks of several prompts may read as one: containing the prompt
    // counts as received, erring towards never sending twice (I6).
    const received = history?.userMessages.some(
      (message) => message.clientId === inFlight.ik || message.text === inFlight.text || message.text.includes(inFlight.text),
    );
    if (history && history.complete !== false && !received) {
      await this.append({ type: 'note', payload: { text: `Turn ${inFlight.turn} re-sent to generation ${generation.number}: the agent's history shows it never received it.` } });
      await this.setState('running');
      this.sendTurn(generation, inFlight);
      return;
    }
    await this.endInFlight(generation.killedFor ?? this.lastDeathReason ?? 'agent_restarted');
    await this.setState('idle', { stopReason: this.lastDeathReason ?? 'agent_restarted' });
  }

  private lastDeathReason: string | null = null;

  private async onExit(generation: Generation, exit: AgentExit): Promise<void> {
    this.stopWatchdog();
    // Commands die with their generation; their ends are recorded before its exit (I1, I6).
    await generation.terminals.killAll();
    generation.exited = true;
    // The group may hold orphans (npm wrappers of native agents): end them too.
    try {
      process.kill(-generation.process.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
    await this.append({
      type: 'runtime.exited',
      generation: generation.number,
      payload: {
        generation: generation.number,
        code: exit.code,
        signal: exit.signal,
        expected: generation.stopping,
        ...(generation.process.stderrSummary() ? { stderrTail: generation.process.stderrSummary().slice(-4000) } : {}),
      },
    });
    if (generation.stopping) return;
    await this.afterGenerationEnded(generation, generation.killedFor === 'agent_hung' ? 'the agent hung' : 'the agent process exited');
    if (this.current !== generation) return;
    const fatal = generation.killedFor === 'protocol_error' || generation.killedFor === 'agent_unavailable';
    this.policy.ranFor(Date.now() - generation.startedAt);
    const next = fatal ? null : this.policy.next();
    this.lastDeathReason = generation.killedFor ?? 'agent_restarted';
    if (!next) {
      const stopReason = fatal ? generation.killedFor! : 'runtime_stopped';
      const detail = fatal ? stopReasonInfo(stopReason).diagnosis : `The agent exited ${this.policy.attemptsUsed + 1} times; restarts are exhausted.`;
      await this.append({ type: 'runtime.stopped', payload: { stopReason, attempts: this.policy.attemptsUsed, detail } });
      await this.endInFlight(stopReason);
      await this.setState('stopped', { stopReason, detail });
      return;
    }
    await this.append({
      type: 'runtime.restarting',
      payload: { nextGeneration: generation.number + 1, attempt: next.attempt, delayMs: next.delayMs, reason: this.lastDeathReason },
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.closed) return;
      const previous = this.launching ?? Promise.resolve();
      const launching = previous
        .catch(() => {})
        .then(() => this.launch(`restart ${next.attempt} after ${this.lastDeathReason}`))
        .finally(() => {
          if (this.launching === launching) this.launching = null;
        });
      this.launching = launching;
      this.guard(launching);
    }, next.delayMs);
  }

  /** Pending approvals of a dead generation become orphaned, visibly (I5). */
  private async afterGenerationEnded(generation: Generation, reason: string): Promise<void> {
    await generation.terminals.killAll();
    await this.broker.resetGeneration(generation.number, reason);
  }

  // ---- turns -------------------------------------------------------------------------------

  /** Records the prompt (intent first), then sends it. Resolves once it is durable. */
  async prompt(text: string): Promise<{ turn: number; ik: string }> {
    if (this.closed) throw new KeelRpcError('unavailable', 'The run is closed.');
    if (this.inFlight) throw new KeelRpcError('conflict', `Turn ${this.inFlight.turn} is still running; cancel it or wait.`);
    if (this.facts.readOnly) throw new KeelRpcError('forbidden', 'This run is read-only.');
    if (this.runState === 'stopped') throw new KeelRpcError('unavailable', 'The agent runtime is stopped; restart it first.');
    if (this.ledgerFailure) throw new KeelRpcError('unavailable', `This run can no longer record events: ${this.ledgerFailure.message}`);
    if (this.restartTimer) throw new KeelRpcError('unavailable', 'The agent is restarting; try again in a moment.');
    // Only a generation that finished starting (session bound, earlier turn settled) takes prompts.
    if (!this.current?.ready || !this.current.process.running || this.current.killedFor) {
      await this.start();
      // The start may have re-sent an interrupted turn: that one runs now.
      const resent = this.inFlight as InFlight | null;
      if (resent) throw new KeelRpcError('conflict', `Turn ${resent.turn} is still running; cancel it or wait.`);
      if (!this.current?.ready || !this.current.process.running || this.state === 'stopped') {
        throw new KeelRpcError('unavailable', 'The agent runtime is stopped; restart it first.');
      }
    }
    const turn = this.facts.currentTurn + 1;
    const ik = idempotencyKey({ runId: this.runId, turn, text });
    this.facts = { ...this.facts, currentTurn: turn };
    const inFlight: InFlight = { turn, text, ik };
    this.inFlight = inFlight;
    await this.append({ type: 'prompt.sent', generation: this.current.number, payload: { turn, text, ik } });
    await this.setState('running');
    this.sendTurn(this.current, inFlight);
    return { turn, ik };
  }

  private sendTurn(generation: Generation, inFlight: InFlight): void {
    generation.lastActivity = Date.now();
    generation.adapter.prompt(inFlight.text, inFlight.ik).then(
      ({ stopReason, detail }) => {
        const noted = detail ? this.append({ type: 'note', generation: generation.number, payload: { text: detail.slice(0, NOTE_LIMIT) } }) : Promise.resolve();
        this.guard(noted.then(() => this.finishTurn(generation, inFlight, stopReason)));
      },
      (error: unknown) => {
        if (generation.disconnected || !generation.process.running || this.current !== generation) return; // The exit path decides.
        const message = `The agent answered turn ${inFlight.turn} with an error: ${(error as Error).message}`.slice(0, NOTE_LIMIT);
        this.guard(this.append({ type: 'note', payload: { text: message } }).then(() => this.finishTurn(generation, inFlight, 'agent_error')));
      },
    );
  }

  private async finishTurn(generation: Generation, inFlight: InFlight, stopReason: string): Promise<void> {
    if (this.current !== generation || this.inFlight !== inFlight) return; // Stale generation (I6).
    this.inFlight = null;
    await this.broker.cancelPending(`turn ${inFlight.turn} ended (${stopReason})`);
    await this.append({ type: 'turn.ended', generation: generation.number, payload: { turn: inFlight.turn, stopReason } });
    await this.setState('idle', { stopReason });
    this.resolveTurn(inFlight.turn, stopReason);
  }

  private async endInFlight(stopReason: string): Promise<void> {
    const inFlight = this.inFlight;
    if (!inFlight) return;
    this.inFlight = null;
    await this.append({ type: 'turn.ended', payload: { turn: inFlight.turn, stopReason } });
    this.resolveTurn(inFlight.turn, stopReason);
  }

  private resolveTurn(turn: number, stopReason: string): void {
    for (const resolve of this.turnWaiters.get(turn) ?? []) resolve(stopReason);
    this.turnWaiters.delete(turn);
  }

  /** Resolves with the turn's stop reason once its `turn.ended` is durable. */
  waitForTurn(turn: number): Promise<string> {
    const ended = readAll(this.ledger, this.runId).find((event) => event.type === 'turn.ended' && (event.payload as { turn: number }).turn === turn);
    if (ended) return Promise.resolve((ended.payload as { stopReason: string }).stopReason);
    return new Promise((resolve) => {
      const list = this.turnWaiters.get(turn) ?? [];
      list.push(resolve);
      this.turnWaiters.set(turn, list);
    });
  }

  /** Resolves when the run reaches a state `accept` likes (waits on ledger commits, not time). */
  waitForState(accept: (state: RunStateName) => boolean): Promise<RunStateName> {
    if (accept(this.state) && !this.launching && !this.restartTimer) return Promise.resolve(this.state);
    return new Promise((resolve) => {
      const stop = this.ledger.onCommit((event) => {
        if (event.run_id !== this.runId || event.type !== 'run.state') return;
        const state = (event.payload as { state: RunStateName }).state;
        if (!accept(state) || this.restartTimer) return;
        stop();
        resolve(state);
      });
    });
  }

  async cancel(): Promise<void> {
    if (!this.inFlight || !this.current) throw new KeelRpcError('conflict', 'No turn is running.');
    await this.append({ type: 'note', payload: { text: `Cancel requested for turn ${this.inFlight.turn}.` } });
    await this.current.adapter.cancel();
    // ACP: after session/cancel the client answers every pending permission request "cancelled".
    await this.broker.cancelPending('the turn was cancelled');
  }

  async decide(approvalId: string, decision: ApprovalDecision): Promise<void> {
    await this.broker.decide(approvalId, decision);
  }

  private onPendingApprovals(count: number): void {
    const generation = this.current;
    // A reset by a dying generation is not the turn running again.
    if (!this.inFlight || this.closed || !generation?.process.running || generation.disconnected) return;
    const next: RunStateName = count > 0 ? 'awaiting_approval' : 'running';
    if (next !== this.state) this.guard(this.setState(next));
  }

  // ---- the agent's requests, per generation --------------------------------------------------

  private hostFor(generation: Generation): AdapterHost {
    // Output the agent wrote before dying still counts until its exit is being recorded.
    const live = () => this.current === generation && !generation.exited;
    const stale = () => new Error('This agent process has been replaced; the request is dropped.');
    const busy = async <T>(work: () => Promise<T>): Promise<T> => {
      generation.busy += 1;
      try {
        return await work();
      } finally {
        generation.busy -= 1;
        generation.lastActivity = Date.now();
      }
    };
    const turn = () => this.inFlight?.turn;
    const ask = (action: Action, reason: string, source: 'agent' | 'keel', signal?: AbortSignal) =>
      this.broker.ask({
        generation: generation.number,
        ...(turn() ? { turn: turn()! } : {}),
        action,
        reason,
        source,
        insideWorkspace: (action.paths ?? []).length > 0 && (action.paths ?? []).every((p) => workspacePath(p).inside),
        ...(signal ? { signal } : {}),
      });
    const workspacePath = (target: string) => resolveInWorkspace(this.facts.workspace, target);
    const normalisePaths = (action: Action): Action =>
      action.paths ? { ...action, paths: action.paths.map((p) => workspacePath(p).path) } : action;
    const permitted = async (action: Action, reason: string): Promise<boolean> => {
      if (this.broker.consumeGrant(generation.number, action)) return true;
      const answer = await ask(action, reason, 'keel');
      return answer === 'allow_once' || answer === 'allow_always';
    };

    return {
      update: (update: AgentUpdate, replay: boolean) => {
        if (!live() || replay) return; // Replayed history is already in the ledger.
        generation.lastActivity = Date.now();
        const body = this.eventFor(update);
        if (body) void this.append({ ...body, generation: generation.number } as AppendInput, body.type.endsWith('chunk') || body.type === 'tool.updated' ? 'stream' : 'critical');
      },
      askPermission: (request, signal) => {
        if (!live()) return Promise.reject(stale());
        // Adapters abort a request's signal both when the agent withdraws it (Codex
        // serverRequest/resolved, ACP $/cancel_request) and when the connection dies. A dead
        // agent withdraws nothing: its requests are orphaned by the exit path (approval.reset),
        // so a late decision can still be carried over (I5). Everything a closed channel sets
        // off runs in microtasks, so one macrotask later `disconnected` tells the two apart.
        const withdrawn = new AbortController();
        const onAbort = () =>
          setImmediate(() => {
            if (!generation.disconnected && generation.process.running) withdrawn.abort(signal.reason);
          });
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
        return busy(() => ask(normalisePaths(request.action), request.reason, 'agent', withdrawn.signal));
      },
      readTextFile: (target, line, limit) =>
        busy(async () => {
          if (!live()) throw stale();
          const resolved = workspacePath(target);
          if (!resolved.inside && !(await permitted({ kind: 'read', title: `Read ${target} (outside the workspace)`, paths: [resolved.path] }, 'read outside the workspace'))) {
            throw new Error(`Reading ${target} was not allowed.`);
          }
          const content = await readRegularFile(resolved.path);
          if (line === undefined && limit === undefined) return content;
          const lines = content.split('\n');
          const start = Math.max(0, (line ?? 1) - 1);
          return lines.slice(start, limit === undefined ? undefined : start + limit).join('\n');
        }),
      writeTextFile: (target, content) =>
        busy(async () => {
          if (!live()) throw stale();
          const resolved = workspacePath(target);
          if (!resolved.inside) throw new Error(`Refused to write ${target}: it is outside the workspace.`);
          const relative = path.relative(fs.realpathSync(this.facts.workspace), resolved.path);
          if (!(await permitted({ kind: 'write', title: `Write ${relative}`, paths: [resolved.path] }, `write ${relative}`))) {
            throw new Error(`Writing ${relative} was not allowed.`);
          }
          if (!live()) throw stale();
          // Judged again after the wait: the tree may have changed while the user decided.
          const now = workspacePath(target);
          if (!now.inside || now.path !== resolved.path) throw new Error(`Refused to write ${target}: it changed while waiting for approval.`);
          const { created } = await writeRegularFile(resolved.path, content);
          await this.append({
            type: 'fs.written',
            generation: generation.number,
            payload: { path: resolved.path, bytes: Buffer.byteLength(content), sha256: sha256(content), created },
          });
        }),
      terminals: {
        create: (request) =>
          busy(async () => {
            if (!live()) throw stale();
            const cwd = workspacePath(request.cwd ?? this.facts.workspace);
            if (!cwd.inside) throw new Error(`Refused to run a command in ${request.cwd}: it is outside the workspace.`);
            const action: Action = { kind: 'exec', title: [request.command, ...request.args].join(' '), command: request.command, args: request.args, cwd: cwd.path };
            if (!(await permitted(action, `run ${action.title}`))) throw new Error(`Running ${action.title} was not allowed.`);
            if (!live()) throw stale();
            return generation.terminals.start(request.command, request.args, cwd.path, request.env, request.outputByteLimit);
          }),
        output: async (terminalId) => generation.terminals.output(terminalId),
        waitForExit: (terminalId) => busy(() => generation.terminals.waitForExit(terminalId)),
        kill: async (terminalId) => generation.terminals.kill(terminalId),
        release: async (terminalId) => generation.terminals.release(terminalId),
      },
      protocolError: (kind, detail, sample) => this.onProtocolError(generation.number, kind, detail, sample),
    };
  }

  private eventFor(update: AgentUpdate): AppendInput | null {
    const turn = this.inFlight?.turn;
    switch (update.kind) {
      case 'message':
        return { type: 'message.chunk', payload: { ...(turn ? { turn } : {}), text: update.text } };
      case 'thought':
        return { type: 'thought.chunk', payload: { ...(turn ? { turn } : {}), text: update.text } };
      case 'plan':
        return { type: 'plan.updated', payload: { entries: update.entries } };
      case 'tool_started':
        return {
          type: 'tool.started',
          payload: {
            toolCallId: update.toolCallId,
            title: update.title,
            ...(update.toolKind ? { kind: update.toolKind } : {}),
            ...(update.input === undefined ? {} : { input: update.input }),
          },
        };
      case 'tool_updated':
        return {
          type: 'tool.updated',
          payload: {
            toolCallId: update.toolCallId,
            ...(update.status ? { status: update.status } : {}),
            ...(update.output ? { output: update.output } : {}),
            ...(update.diff ? { diff: update.diff } : {}),
          },
        };
      case 'user_message':
        return null; // The prompt is already recorded as prompt.sent.
    }
  }

  private onProtocolError(generationNumber: number, kind: Parameters<AdapterHost['protocolError']>[0], detail: string, sample?: string): void {
    const generation = this.current;
    if (!generation || generation.number !== generationNumber) return;
    generation.protocolErrors += 1;
    void this.append({
      type: 'runtime.protocol_error',
      generation: generationNumber,
      payload: { generation: generationNumber, kind, detail, ...(sample ? { sample } : {}) },
    });
    const limit = this.options.maxProtocolErrors ?? 20;
    if ((kind === 'oversize' || generation.protocolErrors > limit) && generation.process.running && !generation.killedFor) {
      // An unreadable message may have been an answer we now never get: stop this agent.
      generation.killedFor = 'protocol_error';
      generation.process.kill();
    }
  }

  // ---- hang watchdog -----------------------------------------------------------------------

  private startWatchdog(): void {
    const limit = this.options.hangTimeoutMs ?? 120_000;
    if (limit <= 0 || this.watchdog) return;
    this.watchdog = setInterval(() => {
      const generation = this.current;
      if (!generation?.process.running || !this.inFlight || generation.busy > 0 || generation.killedFor) return;
      const idle = Date.now() - generation.lastActivity;
      if (idle < limit) return;
      generation.killedFor = 'agent_hung';
      // Killed whether or not the record lands: a hung agent must not hold the turn.
      this.guard(this.append({ type: 'runtime.hang', generation: generation.number, payload: { generation: generation.number, idleMs: idle } }).finally(() => generation.process.kill()));
    }, Math.max(50, Math.min(1_000, Math.floor(limit / 4))));
    this.watchdog.unref?.();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /**
   * After a host crash (I4): requests left pending are orphaned, the open turn ends as
   * interrupted, and the run waits, interrupted, for the next prompt to resume it.
   */
  async reconcileAfterHostCrash(lastGeneration: number, openTurn: number | null): Promise<void> {
    for (let generation = 1; generation <= lastGeneration; generation++) {
      await this.broker.resetGeneration(generation, 'Keel stopped while the request was pending');
    }
    if (openTurn !== null) {
      await this.append({ type: 'turn.ended', payload: { turn: openTurn, stopReason: 'host_interrupted' } });
      this.resolveTurn(openTurn, 'host_interrupted');
    }
    await this.setState('interrupted', { stopReason: 'host_interrupted', detail: stopReasonInfo('host_interrupted').diagnosis });
  }

  /** Test and reliability hook: kill -9 the agent's process group. */
  killAgent(): void {
    this.current?.process.kill();
  }

  /** Stops the agent (expected exit) and releases the run. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.stopWatchdog();
    await this.launching?.catch(() => {});
    const current = this.current;
    if (current?.process.running) {
      current.stopping = true;
      await current.terminals.killAll();
      await current.process.stop(500);
      // The exit record (expected) lands before whoever closed us closes the ledger.
      await current.exitRecorded;
    }
  }
}

function readAll(ledger: Ledger, runId: string): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  for (let from = 1; ; ) {
    const page = ledger.read(runId, { fromSeq: from, limit: 5_000 });
    events.push(...page);
    if (page.length < 5_000) return events;
    from = page[page.length - 1]!.seq + 1;
  }
}

export { readAll as readRunEvents };
