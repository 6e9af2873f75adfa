import fs from 'node:fs';
import path from 'node:path';
import { KeelRpcError } from '../contract/index.js';
import type { AgentSpec, AppendInput, ApprovalDecision, ApprovalMode, LedgerEvent, RunStateName } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';
import { applyRunEvent, RUN_STATE_TYPES, type RunState } from '../replay/index.js';
import { nodeChildEnv, resolveAgentCommand, Supervisor, type RestartBackoffOptions } from '../runtime/index.js';
import type { Terminals } from '../workspace/index.js';
import { ApprovalWaiters } from './approval-waiters.js';
import { withCheckpointEffects } from './checkpoint-decisions.js';
import { CheckpointRunner, type CheckpointTuning } from './checkpoint-effects.js';
import { prepareRunWorkspace } from './run-worktree.js';
import { decide } from './decider.js';
import { runEffect } from './effects.js';
import type { Decision, RunInput, RuntimeFacts } from './inputs.js';
import { Mailbox } from './mailbox.js';
import { PolicyGate } from './policy-gate.js';
import { ReceiptBus } from './receipts.js';
import { recordStorageFailure, reserveStorageFailureMarker } from './storage-failure.js';
import { loadRunState, saveRunState } from './run-state-store.js';
import { supervisorReports } from './supervisor-reports.js';
import { appLog } from '../logging/index.js';

export interface RunControllerOptions {
  ledger: Ledger;
  runId: string;
  dataDir: string;
  restart?: RestartBackoffOptions;
  /** A turn with no traffic from the agent for this long is hung (0 disables). */
  hangTimeoutMs?: number;
  approvalTimeoutMs?: number;
  maxMessageBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** Protocol errors a generation may make before Keel gives up on it. */
  maxProtocolErrors?: number;
  /** Checkpoints at turn boundaries (on by default) and their budget. */
  checkpoints?: CheckpointTuning;
}

/**
 * One run: its state folded from its ledger, a mailbox feeding the decider, and the effects
 * that follow durable decisions (the supervisor's process work, answers to the agent). Agent
 * processes come and go as generations while the run, its session and its approvals stay
 * (I4, I5, I6).
 */
export class RunController {
  readonly runId: string;
  readonly receipts = new ReceiptBus();
  readonly ledger: Ledger;
  readonly supervisor: Supervisor;
  readonly waiters = new ApprovalWaiters();
  readonly terminals = new Map<number, Terminals>();
  readonly runDir: string;
  /** The policy in force for this run and the judgement of each request (I8). */
  readonly policy: PolicyGate;
  /** The run's checkpoint effects (turn boundaries, drift on resume, restore). */
  readonly checkpoints: CheckpointRunner;
  private state: RunState;
  private readonly mailbox: Mailbox;
  private readonly stopFolding: () => void;
  /** The seq of the run state stored for this run (0: none): the next open starts from it. */
  private storedStateSeq = 0;
  private readonly readOnly: boolean;
  private closed = false;
  private ledgerFailure: Error | null = null;
  private readonly checks = new Set<() => boolean>();

  private constructor(
    readonly options: RunControllerOptions,
    state: RunState,
  ) {
    this.ledger = options.ledger;
    this.runId = options.runId;
    this.state = state;
    this.readOnly = options.ledger.run(options.runId)?.readOnly ?? false;
    this.runDir = path.join(options.dataDir, 'runs', options.runId);
    fs.mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    reserveStorageFailureMarker(this.runDir);
    // In-memory state comes only from committed events (I1).
    this.stopFolding = options.ledger.onCommit((event) => {
      if (event.run_id !== this.runId) return;
      applyRunEvent(this.state, event);
      this.runChecks();
    });
    this.mailbox = new Mailbox({
      decide: (input) => withCheckpointEffects(this.state, this.facts(), input, decide(this.state, this.facts(), input)),
      append: (body, durability) => this.append(body, durability),
      run: (effects) => {
        for (const effect of effects) this.guard(runEffect(this, effect));
      },
    });
    this.checkpoints = new CheckpointRunner(this, options.dataDir, options.checkpoints);
    this.policy = new PolicyGate({
      dataDir: options.dataDir,
      workspace: state.workspace,
      agentKind: state.agent.kind,
      approvalMode: () => this.state.approvalMode,
      record: (events) => this.dispatch({ kind: 'policy_recorded', events }),
      env: { PATH: options.env?.PATH ?? process.env.PATH, HOME: options.env?.HOME ?? process.env.HOME },
    });
    this.supervisor = new Supervisor(
      {
        runId: options.runId,
        cwd: state.workspace,
        // The built-in agent is a Node script started with process.execPath (Electron, in the app).
        env: state.agent.kind === 'builtin' ? nodeChildEnv({ ...process.env, ...options.env }) : { ...process.env, ...options.env },
        logs: (generation) => ({
          stderrFile: path.join(this.runDir, `agent-${generation}.stderr.log`),
          protocolFile: path.join(this.runDir, `agent-${generation}.protocol.log`),
        }),
        ...(options.hangTimeoutMs !== undefined ? { hangTimeoutMs: options.hangTimeoutMs } : {}),
        ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
        ...(options.maxProtocolErrors !== undefined ? { maxProtocolErrors: options.maxProtocolErrors } : {}),
        ...(options.restart ? { backoff: options.restart } : {}),
      },
      supervisorReports(this),
    );
  }

  /**
   * Opens an existing run from its ledger: from its stored run state (saved when a controller
   * closes), the events after it of only the types the state reads, a page at a time (a long
   * run's text and other events are never loaded).
   */
  static open(options: RunControllerOptions): RunController {
    const { state, storedSeq } = loadRunState(options.ledger, options.runId);
    for (const event of options.ledger.eventsOfTypes(options.runId, RUN_STATE_TYPES, { afterSeq: state.lastSeq })) applyRunEvent(state, event);
    const controller = new RunController(options, state);
    controller.storedStateSeq = storedSeq;
    return controller;
  }

  /** Creates a run (its `run.created` event) and returns its controller. */
  static async create(
    options: Omit<RunControllerOptions, 'runId'>,
    spec: { workspace: string; agent: AgentSpec; title?: string; approvalMode?: ApprovalMode; worktree?: boolean },
  ): Promise<RunController> {
    const stat = fs.statSync(spec.workspace, { throwIfNoEntry: false });
    if (!stat?.isDirectory()) throw new KeelRpcError('invalid_input', `The workspace ${spec.workspace} is not a directory.`);
    const runId = options.ledger.newRunId();
    // --worktree: the run works in its own git worktree (runs/run-worktree.ts).
    const prepared = await prepareRunWorkspace(fs.realpathSync(spec.workspace), spec.worktree ?? false, { dataDir: options.dataDir, runId });
    await options.ledger.append(runId, {
      type: 'run.created',
      payload: {
        workspace: prepared.workspace,
        agent: spec.agent,
        ...(spec.title ? { title: spec.title } : {}),
        approvalMode: spec.approvalMode ?? 'interactive',
      },
    });
    if (prepared.worktree) await options.ledger.append(runId, { type: 'workspace.worktree', payload: prepared.worktree });
    return RunController.open({ ...options, runId });
  }

  /** The run's state as committed (read-only to everyone but the fold). */
  get view(): Readonly<RunState> {
    return this.state;
  }

  /** The run's state as committed; `failed` once its events can no longer be recorded. */
  get runState(): RunStateName {
    return this.ledgerFailure ? 'failed' : this.state.state;
  }

  get generation(): number {
    return this.supervisor.generation?.number ?? this.state.generation;
  }

  /** The agent process's pid, while one runs (tests kill it). */
  get agentPid(): number | null {
    const agent = this.supervisor.generation?.process;
    return agent?.running ? agent.pid : null;
  }

  facts(): RuntimeFacts {
    const live = this.supervisor.generation;
    return {
      live: live ? { generation: live.number, lifecycle: live.lifecycle, killedFor: live.killedFor } : null,
      restartArmed: this.supervisor.restartArmed,
      closed: this.closed,
      readOnly: this.readOnly,
      ledgerFailure: this.ledgerFailure?.message ?? null,
      approvalTimeoutMs: this.options.approvalTimeoutMs ?? 15 * 60_000,
    };
  }

  dispatch(input: RunInput): Promise<Decision> {
    return this.mailbox.dispatch(input);
  }

  /**
   * Every append of this run. A rejection is always handled here (a fire-and-forget append
   * must never become an unhandled rejection that kills the host); callers that await still
   * see it. An event the agent made invalid becomes a protocol error; a storage failure stops
   * the run's agent, since nothing it does could be recorded (I1).
   */
  private append(body: AppendInput, durability: 'critical' | 'stream'): Promise<LedgerEvent> {
    const appended = this.ledger.append(this.runId, body, { durability });
    appended.catch((error: unknown) => this.onAppendFailure(error, body));
    return appended;
  }

  private onAppendFailure(error: unknown, body: AppendInput): void {
    const code = (error as { code?: string }).code;
    const generation = this.supervisor.generation;
    if (code === 'invalid_event' && body.type !== 'runtime.protocol_error' && generation && !this.ledgerFailure) {
      this.supervisor.protocolError(generation.number, 'invalid_message', `the agent produced an unrecordable ${body.type}: ${(error as Error).message}`.slice(0, 4000));
      return;
    }
    if (code === 'ledger_closed' || this.ledgerFailure) return;
    this.ledgerFailure = error instanceof Error ? error : new Error(String(error));
    appLog().error({ runId: this.runId, reason: this.ledgerFailure.message }, 'the run can no longer record events; stopping its agent');
    this.supervisor.stopForFailure();
    recordStorageFailure(this.runDir, this.ledgerFailure.message);
    // Nothing more will commit: whoever waits for this run learns it failed now (storage_failed).
    this.runChecks();
  }

  /** A promise nobody awaits: its failure is reported, never left unhandled. */
  guard(work: Promise<unknown>): void {
    work.catch((error: unknown) => {
      const code = (error as { code?: string }).code;
      if (code === 'ledger_closed' || code === 'conflict' || code === 'unavailable' || this.ledgerFailure) return;
      appLog().error({ runId: this.runId, err: error }, 'run failure');
    });
  }

  /** The command line of this run's agent (resolved per start: the built-in agent's is computed). */
  agentCommand(): string[] {
    return resolveAgentCommand(this.state.agent, { runDir: this.runDir });
  }

  // ---- what the user (and the host) can do ------------------------------------------------

  /** Starts an agent process if none runs (first start, or after a host restart). */
  async start(): Promise<void> {
    if (this.closed) throw new KeelRpcError('unavailable', 'The run is closed.');
    if (this.supervisor.launching) return this.supervisor.launching;
    // A generation Keel is stopping on purpose (a cancel's deadline) is waited out, then replaced.
    const leaving = this.supervisor.generation;
    if (leaving?.expected && leaving.lifecycle === 'stopping') await leaving.exitRecorded.catch(() => {});
    if (this.supervisor.running) return;
    await this.dispatch({ kind: 'start', reason: 'start' });
    // A spawn waiting for its worktree to be recreated starts once the checkpoint effects are done.
    if (!this.supervisor.launching) await this.checkpoints.idle();
    await this.supervisor.launching;
  }

  /** The "restart runtime" button: a fresh attempt budget and a new generation now. */
  async restartRuntime(): Promise<void> {
    this.supervisor.backoff.reset();
    this.supervisor.disarmRestart();
    const current = this.supervisor.generation;
    if (current?.process?.running) await this.supervisor.stop(current.number, { resetReason: 'the runtime was restarted by the user' });
    await this.start();
  }

  /** Every input so far decided (so its checkpoint effects are queued), then those effects done. */
  async checkpointsSettled(): Promise<void> {
    await this.mailbox.settled();
    await this.checkpoints.idle();
  }

  /** Records the prompt (intent first), then sends it. Resolves once it is durable. */
  async prompt(text: string): Promise<{ turn: number; ik: string }> {
    if (!this.readOnly && !this.closed && !this.ledgerFailure) await this.policy.refresh(); // At the run's start, and a file changed between turns.
    await this.checkpointsSettled(); // The previous turn's checkpoint is taken before the next prompt is decided.
    let decision = await this.dispatch({ kind: 'prompt', text });
    if (decision.needsStart) {
      await this.start();
      await this.checkpointsSettled(); // The baseline, or the drift check of a resume.
      // The start may have re-sent an interrupted turn: then that one runs now.
      decision = await this.dispatch({ kind: 'prompt', text, afterStart: true });
    }
    return decision.reply as { turn: number; ik: string };
  }

  /**
   * Asks the agent to cancel the turn; resolves once it was told and waiting requests are settled.
   * If the agent does not end the turn within CANCEL_GRACE_MS, Keel stops it and the turn ends
   * `cancelled`. `force` (Force stop) does that now, without asking the agent.
   */
  async cancel(force = false): Promise<void> {
    if (force) {
      const turn = this.state.openTurn?.turn;
      const generation = this.supervisor.generation?.number;
      if (turn === undefined || generation === undefined) throw new KeelRpcError('conflict', 'No turn is running.');
      await this.dispatch({ kind: 'cancel_deadline', generation, turn, forced: true });
      return;
    }
    const delivered = this.receipts.next('turn.cancel_delivered');
    await this.dispatch({ kind: 'cancel' });
    await delivered;
  }

  async decide(approvalId: string, decision: ApprovalDecision): Promise<void> {
    await this.dispatch({ kind: 'approval_decided', approvalId, decision });
  }

  /** After a host crash or a storage failure (I4): waiting requests orphaned, the open turn ended. */
  async reconcileAfterHostCrash(recovered: Omit<Extract<RunInput, { kind: 'host_recovered' }>, 'kind'>): Promise<void> {
    await this.dispatch({ kind: 'host_recovered', ...recovered });
  }

  /** Resolves with the turn's stop reason once its `turn.ended` is durable (storage_failed if it never can be). */
  waitForTurn(turn: number): Promise<string> {
    return this.waitFor(() => this.state.turnStops.get(turn) ?? (this.ledgerFailure ? 'storage_failed' : null));
  }

  /** Resolves when the run reaches a state `accept` likes, with no restart pending (waits on ledger commits). */
  waitForState(accept: (state: RunStateName) => boolean): Promise<RunStateName> {
    return this.waitFor(() => (accept(this.runState) && (!this.state.restartPending || this.ledgerFailure) ? this.runState : null));
  }

  /** Checks `settled` now, then after every commit of this run (and on a storage failure) until it answers. */
  private waitFor<T>(settled: () => T | null): Promise<T> {
    const now = settled();
    if (now !== null) return Promise.resolve(now);
    return new Promise((resolve) => {
      this.checks.add(() => {
        const value = settled();
        if (value !== null) resolve(value);
        return value !== null;
      });
    });
  }

  private runChecks(): void {
    for (const check of [...this.checks]) if (check()) this.checks.delete(check);
  }

  /** Test and reliability hook: kill -9 the agent's process group, as a crash would. */
  killAgent(): void {
    this.supervisor.generation?.process?.kill();
  }

  /** Stops the agent (expected exit) and releases the run. */
  async close(): Promise<void> {
    this.closed = true;
    await this.supervisor.close(500);
    await this.checkpoints.close();
    this.stopFolding();
    this.storedStateSeq = saveRunState(this.ledger, this.state, this.storedStateSeq);
  }
}
