import type { CheckpointBudget, DepsChangedPayload, LedgerEvent, WorkspaceWorktreePayload } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';
import { loadPolicy, matchWord } from '../policy/index.js';
import type { RunState } from '../replay/index.js';
import {
  checkRunWorktree,
  createCheckpoint,
  depsChangedInTurn,
  driftSince,
  findRestoreJournals,
  lockfileKindOf,
  pendingRestore,
  restoreCheckpoint,
  resumeRestore,
  type RestoreOptions,
  type RestoreResult,
  type ResumeResult,
} from '../workspace/index.js';
import type { CheckpointEffect, CheckpointInput, DepsViolation } from './checkpoint-decisions.js';
import type { Decision } from './inputs.js';

/** The events `CheckpointRunner.observe` reads. */
const OBSERVED_TYPES = ['checkpoint.created', 'checkpoint.skipped', 'checkpoint.restore_completed'] as const;

export interface CheckpointTuning {
  /** Default true: a run takes checkpoints at its turn boundaries. */
  enabled?: boolean;
  budget?: Partial<CheckpointBudget>;
  /** Restore batches and a hook before each (progress; fault injection in the crash tests). */
  restore?: Pick<RestoreOptions, 'batchSize' | 'onStep'>;
}

/** What the runner needs of its run (a RunController). */
export interface CheckpointRunHost {
  readonly runId: string;
  readonly ledger: Ledger;
  readonly view: Readonly<RunState>;
  dispatch(input: CheckpointInput): Promise<Decision>;
  /** Every input so far decided (its checkpoint effects queued) and those effects done. */
  checkpointsSettled(): Promise<void>;
}

/**
 * Runs a run's checkpoint effects one at a time (checkpoint, drift check, restore), after their
 * intent is durable; each outcome goes back to the decider as a `CheckpointInput`. The next
 * prompt waits for `idle()`: a turn never starts while the previous turn's checkpoint (or a
 * restore) is being taken, and the budget bounds that wait (never a hang).
 */
export class CheckpointRunner {
  private tail: Promise<void> = Promise.resolve();
  /** Turns whose checkpoint is recorded (created or skipped) or under way; read from the ledger on first use. */
  private known: Set<number> | null = null;
  private readonly abort = new AbortController();
  private readonly stopObserving: () => void;
  private lastRestore: RestoreResult | ResumeResult | null = null;
  /** The restored worktree's commit when a restore completed after the last checkpoint: the next checkpoint's parent. */
  private restoredSince: string | null = null;

  constructor(
    private readonly run: CheckpointRunHost,
    private readonly dataDir: string,
    private readonly tuning: CheckpointTuning = {},
  ) {
    this.stopObserving = run.ledger.onCommit((event) => {
      if (event.run_id === run.runId) this.observe(event);
    });
  }

  get enabled(): boolean {
    return this.tuning.enabled !== false;
  }

  /** Resolves when every checkpoint effect queued so far is done. */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Starts one effect (queued behind the others). Synchronous up to the queueing, so order holds. */
  start(effect: CheckpointEffect): Promise<void> {
    if (!this.enabled || this.abort.signal.aborted) return Promise.resolve();
    if (effect.kind === 'checkpoint') {
      const known = this.knownTurns();
      if (known.has(effect.turn)) return Promise.resolve();
      known.add(effect.turn);
    }
    const work = this.tail.then(() => this.execute(effect));
    this.tail = work.catch(() => undefined);
    return work;
  }

  /**
   * Restores the workspace to turn N's checkpoint (or only `files`): recorded as requested
   * first (refused while a turn is active), then done by the queue; resolves with the outcome.
   */
  async restore(turn: number, files: string[] | null): Promise<RestoreResult | ResumeResult> {
    await this.run.checkpointsSettled();
    this.lastRestore = null;
    await this.run.dispatch({ kind: 'restore_requested', request: { targetTurn: turn, targetRef: `refs/keel/checkpoints/${this.run.runId}/${turn}`, files } });
    await this.idle();
    if (!this.lastRestore) throw new Error('The restore did not run (the run was closed).');
    return this.lastRestore;
  }

  /** After a crash: finishes (or rolls back) a restore the previous host left half done, and records it. */
  resumePending(): Promise<ResumeResult | null> {
    const work = this.tail.then(async () => {
      const journal = pendingRestore(this.dataDir, this.run.runId);
      if (!journal) return null;
      const result = await resumeRestore(journal, { dataDir: this.dataDir, ...this.tuning.restore });
      this.lastRestore = result;
      await this.recordRestore(result);
      return result;
    });
    this.tail = work.then(
      () => undefined,
      () => undefined,
    );
    return work;
  }

  /** Lets a checkpoint under way finish for a moment, then cancels the rest and waits for it. */
  async close(graceMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.tail, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.abort.abort();
    this.stopObserving();
    await this.tail;
  }

  private observe(event: LedgerEvent): void {
    if (!this.known) return;
    if (event.type === 'checkpoint.created' || event.type === 'checkpoint.skipped') this.known.add((event.payload as { turn: number }).turn);
    // A restore is a diff boundary: the next turn's changes are measured from the restored tree.
    if (event.type === 'checkpoint.created') this.restoredSince = null;
    if (event.type === 'checkpoint.restore_completed') this.restoredSince = (event.payload as { restoredCommit?: string }).restoredCommit ?? null;
  }

  private knownTurns(): Set<number> {
    if (!this.known) {
      this.known = new Set();
      // Only the events observe() reads: a long run's other events stay on disk (issue 16).
      for (const event of this.run.ledger.eventsOfTypes(this.run.runId, OBSERVED_TYPES)) this.observe(event);
    }
    return this.known;
  }

  private async execute(effect: CheckpointEffect): Promise<void> {
    if (this.abort.signal.aborted) return;
    const workspace = this.run.view.workspace;
    const scope = { dataDir: this.dataDir, runId: this.run.runId };
    switch (effect.kind) {
      case 'checkpoint': {
        this.knownTurns();
        const parent = this.restoredSince ?? undefined;
        const result = await createCheckpoint(workspace, { ...scope, turn: effect.turn, budget: this.tuning.budget, signal: this.abort.signal, ...(parent ? { preferredParent: parent } : {}) });
        if (this.abort.signal.aborted && result.kind === 'skipped') return; // Closing: the next start takes it.
        const outcome =
          result.kind === 'created'
            ? { kind: 'created' as const, payload: stripCreated(result) }
            : { kind: 'skipped' as const, payload: { turn: result.turn, reason: result.reason, detail: result.detail, budget: result.budget, bytes: result.bytes, durationMs: result.durationMs } };
        let deps: DepsChangedPayload | null = null;
        let warnings: string[] = [];
        let violations: DepsViolation[] = [];
        if (result.kind === 'created' && effect.turn > 0 && (result.truncated || result.files.some((file) => lockfileKindOf(file.path) !== null))) {
          try {
            deps = await depsChangedInTurn(workspace, { ...scope, turn: effect.turn });
          } catch (error) {
            warnings.push(`The lockfile changes of turn ${effect.turn} could not be read: ${(error as Error).message}`);
          }
          if (deps) ({ violations, warnings } = await checkDeps(deps, workspace, this.dataDir, warnings));
        }
        await this.run.dispatch({ kind: 'checkpoint_taken', turn: effect.turn, outcome, deps, violations, warnings });
        return;
      }
      case 'drift_check': {
        await this.checkWorktree();
        // After a restore (and no checkpoint since), drift is measured from the restored tree.
        this.knownTurns();
        const since = this.restoredSince ? { since: { commit: this.restoredSince } } : {};
        const drift = await driftSince(workspace, { ...scope, ...since, budget: this.tuning.budget ?? {}, signal: this.abort.signal });
        if (drift.kind !== 'drift') return;
        const { kind: _kind, ...payload } = drift;
        await this.run.dispatch({ kind: 'drift_checked', drift: payload });
        return;
      }
      case 'restore': {
        let result: RestoreResult;
        try {
          result = await restoreCheckpoint(workspace, { turn: effect.turn }, { ...scope, files: effect.files, safety: { budget: this.tuning.budget }, ...this.tuning.restore });
        } catch (error) {
          result = { kind: 'failed', targetTurn: effect.turn, reason: 'target_missing', detail: (error as Error).message.slice(0, 4000), rolledBack: true, safetyRef: null, durationMs: 0 };
        }
        this.lastRestore = result;
        await this.recordRestore(result);
        return;
      }
    }
  }

  /** A run with its own worktree: reused, recreated or reported on every resume (before the agent starts). */
  private async checkWorktree(): Promise<void> {
    const recorded = [...this.run.ledger.eventsOfTypes(this.run.runId, ['workspace.worktree'])].at(-1);
    if (!recorded) return;
    const { path: where, branch, baseCommit, source } = recorded.payload as WorkspaceWorktreePayload;
    let checked: WorkspaceWorktreePayload;
    try {
      const { action, detail } = await checkRunWorktree({ path: where, branch, baseCommit, source });
      checked = { action, path: where, branch, baseCommit, source, detail };
    } catch (error) {
      checked = { action: 'mismatch', path: where, branch, baseCommit, source, detail: `The worktree could not be recreated: ${(error as Error).message}`.slice(0, 2000) };
    }
    await this.run.dispatch({ kind: 'worktree_checked', worktree: checked });
  }

  private async recordRestore(result: RestoreResult | ResumeResult): Promise<void> {
    if (result.kind === 'unreadable') {
      const detail = `The restore journal ${result.journal} is ${result.problem} (${result.detail}); it was left in place and nothing was done. Inspect it, then remove it.`;
      await this.run.dispatch({
        kind: 'restore_finished',
        outcome: { kind: 'failed', payload: { targetTurn: null, reason: 'interrupted', detail: detail.slice(0, 4000), rolledBack: false, safetyRef: null, durationMs: 0 } },
      });
      return;
    }
    if (result.kind === 'completed') {
      const { kind: _kind, journal: _journal, ...payload } = result as typeof result & { journal?: string };
      await this.run.dispatch({ kind: 'restore_finished', outcome: { kind: 'completed', payload } });
    } else {
      const { kind: _kind, journal: _journal, ...payload } = result as typeof result & { journal?: string };
      await this.run.dispatch({ kind: 'restore_finished', outcome: { kind: 'failed', payload } });
    }
  }
}

function stripCreated(result: Extract<Awaited<ReturnType<typeof createCheckpoint>>, { kind: 'created' }>) {
  const { kind: _kind, repoInfo: _repoInfo, ...payload } = result;
  return payload;
}

/**
 * A turn's lockfile changes against the policy's `deps` section (when it has one): strict
 * allows none, allowlist the packages its globs match (`@scope/*`), open any; more packages
 * added than `warn_above` is a warning. Packages removed are never a violation.
 */
export function depsViolations(deps: DepsChangedPayload, policy: { mode?: 'strict' | 'allowlist' | 'open' | undefined; allow?: string[] | undefined; warn_above?: number | undefined }): {
  violations: DepsViolation[];
  warnings: string[];
} {
  const warnings: string[] = [];
  if (policy.warn_above !== undefined && deps.totals.added > policy.warn_above) {
    warnings.push(`Turn ${deps.turn} added ${deps.totals.added} packages to lockfiles, over the policy's warn_above of ${policy.warn_above}.`);
  }
  const violations: DepsViolation[] = [];
  if (policy.mode === undefined || policy.mode === 'open') return { violations, warnings };
  const allow = policy.allow ?? [];
  for (const lockfile of deps.lockfiles) {
    const changed = [
      ...lockfile.added.map((entry) => ({ name: entry.name, version: entry.versions.join(', ') })),
      ...lockfile.updated.map((entry) => ({ name: entry.name, version: entry.to.join(', ') })),
    ];
    for (const { name, version } of changed) {
      if (policy.mode === 'strict') violations.push({ name, version, lockfile: lockfile.path, why: 'The policy allows no dependency changes (deps: strict).' });
      else if (!allow.some((glob) => matchWord(glob, name))) violations.push({ name, version, lockfile: lockfile.path, why: `The policy's deps allowlist does not list ${name}.` });
    }
    if (lockfile.parseError && policy.mode === 'strict') warnings.push(`${lockfile.path} could not be read (${lockfile.parseError}); its change could not be checked.`);
  }
  return { violations, warnings };
}

async function checkDeps(deps: DepsChangedPayload, workspace: string, dataDir: string, warnings: string[]): Promise<{ violations: DepsViolation[]; warnings: string[] }> {
  const loaded = await loadPolicy({ dataDir, workspace }).catch((error: unknown) => ({ ok: false as const, errors: [{ message: String(error) }], files: [] }));
  if (!loaded.ok) {
    warnings.push(`The policy could not be loaded, so turn ${deps.turn}'s dependency changes were not checked.`);
    return { violations: [], warnings };
  }
  const checked = depsViolations(deps, loaded.policy.deps);
  return { violations: checked.violations, warnings: [...warnings, ...checked.warnings] };
}

/**
 * At a host's start: every run whose restore a crash interrupted (a journal left behind) is
 * finished or rolled back, and the outcome recorded in its ledger (I4).
 */
export async function resumeInterruptedRestores(dataDir: string, open: (runId: string) => { checkpoints: CheckpointRunner }): Promise<void> {
  for (const { runId } of findRestoreJournals(dataDir)) {
    try {
      await open(runId).checkpoints.resumePending();
    } catch (error) {
      process.stderr.write(`keel: the interrupted restore of run ${runId} could not be resumed: ${(error as Error).message}\n`);
    }
  }
}
