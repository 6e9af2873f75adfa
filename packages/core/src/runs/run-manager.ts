import path from 'node:path';
import { KeelRpcError } from '../contract/index.js';
import type { AgentSpec, ApprovalMode, LedgerEvent, RunStateName, RunSummary } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';
import { readRunState } from '../replay/index.js';
import { killLeftover, sweepTagged } from '../runtime/index.js';
import { resumeInterruptedRestores } from './checkpoint-effects.js';
import { RunController, type RunControllerOptions } from './run-controller.js';
import { readRunEvents } from './run-events.js';
import { clearStorageFailure, readStorageFailure } from './storage-failure.js';
import { ACTIVE_STATES, leftLive } from './reconcile-gate.js';

export type RuntimeTuning = Omit<RunControllerOptions, 'ledger' | 'runId' | 'dataDir'>;

export interface RunManagerOptions {
  ledger: Ledger;
  dataDir: string;
  tuning?: RuntimeTuning;
  /** The host's run list: a run the person deleted (files kept or not) is never opened again. */
  isDeleted?: (runId: string) => boolean;
}

// Shared with `keel runs`, which lists without opening the runs when nothing here would act.
const ACTIVE = ACTIVE_STATES;

/**
 * All runs of one host. On open it reconciles what a killed host left behind (I4): runs the
 * ledger shows as active are marked interrupted with a recovery event, their orphaned agent
 * process groups killed and their pending approvals reset; the next prompt resumes them.
 */
export class RunManager {
  private readonly controllers = new Map<string, RunController>();
  /** Runs a delete is withdrawing: no controller opens for them while their agent stops (ADR 0019). */
  private readonly withdrawing = new Set<string>();

  private constructor(private readonly options: RunManagerOptions) {}

  static async open(options: RunManagerOptions): Promise<RunManager> {
    const manager = new RunManager(options);
    await manager.reconcile();
    await resumeInterruptedRestores(options.dataDir, (runId) => manager.get(runId));
    return manager;
  }

  private controllerOptions(runId: string): RunControllerOptions {
    return { ...this.options.tuning, ledger: this.options.ledger, dataDir: this.options.dataDir, runId };
  }

  /**
   * Reads only what the projections point at: the runs table says which runs may have been live
   * (state active, or idle with an agent whose exit is not recorded), and for those the ledger's
   * process events alone (their own index) say which agents and commands may be left; no run's
   * other events are loaded here. A run found left live is then opened as usual.
   */
  private async reconcile(): Promise<void> {
    const { ledger } = this.options;
    for (const summary of ledger.runs()) {
      if (summary.quarantined || summary.readOnly) continue;
      const projected = summary.state as RunStateName;
      const runDir = path.join(this.options.dataDir, 'runs', summary.id);
      const storageFailure = readStorageFailure(runDir);
      if (!storageFailure && !ACTIVE.has(projected) && projected !== 'idle') continue;
      // Most idle runs ended their agent: their runs row says so (`agent_exited`, as for `keel runs`), and no event is read.
      if (!storageFailure && !leftLive({ state: projected, lastGenerationExited: ledger.lastGenerationExited(summary.id) })) continue;
      // The process facts fold the same way as from every event (readRunState reads only these types for them).
      const facts = readRunState(summary.id, ledger.processFacts(summary.id));
      if (!leftLive({ state: projected, lastGenerationExited: facts.lastGenerationExited }) && !storageFailure) continue;
      // The ledger lock proves the host that wrote these events is gone; its agents may not be.
      const leftovers = [...facts.agents.values(), ...facts.openTerminals.values()];
      for (const { pid, command } of leftovers) killLeftover(pid, command);
      // Processes that left their generation's group (setsid) still carry its tag (ADR 0005).
      const swept = new Map<number, Array<{ pid: number; command: string[] }>>();
      for (const [generation, agent] of facts.agents) {
        if (agent.tag) swept.set(generation, await sweepTagged(agent.tag).catch(() => []));
      }
      const cause = storageFailure ? { reason: 'storage_failed' as const, detail: storageFailure.message } : { reason: 'host_interrupted' as const };
      // A deleted run (files kept) is reconciled too, so its leftovers die, then closed again.
      const deleted = this.isDeleted(summary.id);
      const controller = deleted ? RunController.open(this.controllerOptions(summary.id)) : this.getOrOpen(summary.id);
      await controller.reconcileAfterHostCrash({ previousState: projected, hostPid: facts.hostPid, swept, cause });
      if (storageFailure) clearStorageFailure(runDir);
      if (deleted) await controller.close();
    }
  }

  private isDeleted(runId: string): boolean {
    return this.withdrawing.has(runId) || (this.options.isDeleted?.(runId) ?? false);
  }

  private getOrOpen(runId: string): RunController {
    if (this.isDeleted(runId)) throw new KeelRpcError('not_found', 'This run was deleted.');
    let controller = this.controllers.get(runId);
    if (!controller) {
      if (!this.options.ledger.run(runId)) throw new KeelRpcError('not_found', `No run ${runId}.`);
      controller = RunController.open(this.controllerOptions(runId));
      this.controllers.set(runId, controller);
    }
    return controller;
  }

  async create(spec: Parameters<typeof RunController.create>[1]): Promise<RunController> {
    const controller = await RunController.create({ ...this.options.tuning, ledger: this.options.ledger, dataDir: this.options.dataDir }, spec);
    this.controllers.set(controller.runId, controller);
    return controller;
  }

  get(runId: string): RunController {
    this.usableSummary(runId);
    return this.getOrOpen(runId);
  }

  /**
   * A run's workspace (its `run.created`'s, as its controller has it), without opening a
   * controller for a run that has none open: what listing its checkpoints or changes needs.
   * Refused as `get` refuses.
   */
  workspaceOf(runId: string): string {
    const summary = this.usableSummary(runId);
    return this.controllers.get(runId)?.view.workspace ?? summary.workspace ?? this.getOrOpen(runId).view.workspace;
  }

  private usableSummary(runId: string): RunSummary {
    if (this.isDeleted(runId)) throw new KeelRpcError('not_found', 'This run was deleted.');
    const summary = this.options.ledger.run(runId);
    if (!summary) throw new KeelRpcError('not_found', `No run ${runId}.`);
    if (summary.quarantined) throw new KeelRpcError('forbidden', `Run ${runId} is quarantined: ${summary.quarantineReason ?? 'damaged'}.`);
    return summary;
  }

  /** The runs this host has open (a controller each), for host-wide chores such as the idle stop. */
  open(): RunController[] {
    return [...this.controllers.values()];
  }

  /** Closes a run's controller, if open (its agent stops as an expected exit). */
  async release(runId: string): Promise<void> {
    const controller = this.controllers.get(runId);
    if (!controller) return;
    this.controllers.delete(runId);
    await controller.close();
  }

  /**
   * Before a run is deleted: from this call on (before any await) `get` refuses the run, so no
   * prompt can open a new controller while the old one's agent stops; then its controller is
   * closed. The caller ends it with `endWithdraw` once the run list's mark refuses the run, or
   * to give the run back when the delete did not happen.
   */
  async withdraw(runId: string): Promise<void> {
    this.withdrawing.add(runId);
    await this.release(runId);
  }

  endWithdraw(runId: string): void {
    this.withdrawing.delete(runId);
  }

  events(runId: string): LedgerEvent[] {
    return readRunEvents(this.options.ledger, runId);
  }

  /** A run's events of `types` only, a page at a time (never the whole run in memory). */
  eventsOfTypes(runId: string, types: readonly string[]): Iterable<LedgerEvent> {
    return this.options.ledger.eventsOfTypes(runId, types);
  }

  /** Stops every agent this host started (expected exits). */
  async close(): Promise<void> {
    await Promise.all([...this.controllers.values()].map((controller) => controller.close()));
    this.controllers.clear();
  }
}
