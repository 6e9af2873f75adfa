// The harness's hands on a real run: a real ledger and RunManager in a scenario's own directory,
// the built-in agent (a real child process) with a script the scenario writes, and waits that
// resolve on ledger commits — with a guard that turns a hang into a counted failure, not a stall.
import fs from 'node:fs';
import path from 'node:path';
import type { AgentSpec, ApprovalDecision, ApprovalMode, LedgerEvent } from '../contract/schemas/ledger.js';
import { openLedger, type Ledger } from '../ledger/index.js';
import { readRunEvents, RunManager, type RunController, type RuntimeTuning } from '../runs/index.js';

/** Fast restarts for the harness: what it measures is Keel's recovery path, not the backoff's wait. */
export const HARNESS_RESTART = { baseMs: 20, capMs: 100, maxAttempts: 5 } as const;

/** The longest any single wait of a scenario may take before it counts as not recovered. */
export const GUARD_MS = 30_000;

export class GuardExpired extends Error {
  constructor(what: string, ms: number) {
    super(`gave up after ${ms} ms waiting for ${what}`);
    this.name = 'GuardExpired';
  }
}

/** `promise`, or a GuardExpired rejection after `ms`. */
export function guarded<T>(promise: Promise<T>, what: string, ms = GUARD_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new GuardExpired(what, ms)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** Writes a built-in agent script (the scenario's own) and returns its path. */
export function writeScript(dir: string, name: string, turns: Array<{ steps: unknown[] }>): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ name, description: `reliability harness: ${name}`, turns }, null, 2));
  return file;
}

/** One ledger and one RunManager for a scenario, in `dataDir`. */
export class ScenarioHost {
  private constructor(
    readonly dataDir: string,
    readonly ledger: Ledger,
    readonly manager: RunManager,
  ) {}

  static async open(dataDir: string, tuning: RuntimeTuning = {}): Promise<ScenarioHost> {
    const ledger = await openLedger({ dataDir });
    try {
      const manager = await RunManager.open({ ledger, dataDir, tuning: { restart: HARNESS_RESTART, hangTimeoutMs: 10_000, ...tuning } });
      return new ScenarioHost(dataDir, ledger, manager);
    } catch (error) {
      await ledger.close();
      throw error;
    }
  }

  async createRun(options: { workspace: string; script: string; faults?: string[]; approvalMode?: ApprovalMode }): Promise<ScenarioRun> {
    fs.mkdirSync(options.workspace, { recursive: true });
    const agent: AgentSpec = { kind: 'builtin', script: options.script, ...(options.faults?.length ? { faults: options.faults } : {}) };
    const controller = await this.manager.create({ workspace: options.workspace, agent, approvalMode: options.approvalMode ?? 'interactive' });
    return new ScenarioRun(this, controller);
  }

  async close(): Promise<void> {
    await this.manager.close();
    await this.ledger.close();
  }
}

export class ScenarioRun {
  constructor(
    readonly host: ScenarioHost,
    readonly controller: RunController,
  ) {}

  get runId(): string {
    return this.controller.runId;
  }

  events(): LedgerEvent[] {
    return readRunEvents(this.host.ledger, this.runId);
  }

  lastSeq(): number {
    return this.events().at(-1)?.seq ?? 0;
  }

  /** The first committed event after `after` that `accept` likes (already there, or the next to commit). */
  waitFor(accept: (event: LedgerEvent) => boolean, what: string, after = 0, ms = GUARD_MS): Promise<LedgerEvent> {
    const existing = this.events().find((event) => event.seq > after && accept(event));
    if (existing) return Promise.resolve(existing);
    let stop: () => void = () => undefined;
    const found = new Promise<LedgerEvent>((resolve) => {
      stop = this.host.ledger.onCommit((event) => {
        if (event.run_id === this.runId && event.seq > after && accept(event)) resolve(event);
      });
    });
    return guarded(found, what, ms).finally(stop);
  }

  waitForType(type: string, what = type, after = 0, accept: (payload: Record<string, unknown>) => boolean = () => true): Promise<LedgerEvent> {
    return this.waitFor((event) => event.type === type && accept(event.payload as Record<string, unknown>), what, after);
  }

  /** Sends `text` and resolves with the turn's stop reason. */
  async promptToEnd(text: string): Promise<string> {
    const { turn } = await guarded(this.controller.prompt(text), `prompt "${text}" to be recorded`);
    return guarded(this.controller.waitForTurn(turn), `turn ${turn} to end`);
  }

  waitIdle(): Promise<string> {
    return guarded(
      this.controller.waitForState((state) => state === 'idle' || state === 'stopped' || state === 'interrupted'),
      'the run to settle',
    );
  }

  /** Answers every approval that waits for a person with `decision` until stopped. */
  answerApprovals(decision: ApprovalDecision): () => void {
    const answered = new Set<string>();
    const answer = () => {
      for (const event of this.events()) {
        if (event.type !== 'approval.requested') continue;
        const id = (event.payload as { approvalId: string }).approvalId;
        if (answered.has(id) || !this.pendingApprovals().includes(id)) continue;
        answered.add(id);
        this.controller.decide(id, decision).catch(() => undefined);
      }
    };
    const stop = this.host.ledger.onCommit((event) => {
      if (event.run_id === this.runId && event.type === 'run.state' && (event.payload as { state: string }).state === 'awaiting_approval') answer();
    });
    if (this.controller.runState === 'awaiting_approval') answer();
    return stop;
  }

  /** Approval ids requested and not yet decided, timed out, cancelled or reset. */
  pendingApprovals(): string[] {
    const events = this.events();
    const done = new Set<string>();
    const requested: string[] = [];
    for (const event of events) {
      const payload = event.payload as { approvalId?: string; approvalIds?: string[] };
      if (event.type === 'approval.requested') requested.push(payload.approvalId!);
      if (event.type === 'approval.decided' || event.type === 'approval.timed_out' || event.type === 'approval.cancelled') done.add(payload.approvalId!);
      if (event.type === 'approval.reset') for (const id of payload.approvalIds ?? []) done.add(id);
    }
    return requested.filter((id) => !done.has(id));
  }

  /** The prompts this run recorded as sent, in order. */
  sentPrompts(): string[] {
    return this.events()
      .filter((event) => event.type === 'prompt.sent')
      .map((event) => (event.payload as { text: string }).text);
  }

  /** The user messages in the built-in agent's own session files (what it really received). */
  agentReceived(): string[] {
    return agentReceivedPrompts(this.host.dataDir, this.runId);
  }

  async close(): Promise<void> {
    await this.controller.close();
  }
}

/** The user messages in a run's built-in agent session files: what the agent really received. */
export function agentReceivedPrompts(dataDir: string, runId: string): string[] {
  const dir = path.join(dataDir, 'runs', runId, 'builtin-agent');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .flatMap((name) => {
      const session = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { history: Array<{ role: string; text: string }> };
      return session.history.filter((entry) => entry.role === 'user').map((entry) => entry.text);
    });
}
