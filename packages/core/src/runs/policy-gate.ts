import type {
  Action,
  AgentSpec,
  AppendInput,
  ApprovalMode,
  ApprovalPolicyContext,
  PolicyActionSource,
  PolicyDecidedKind,
  PolicyDecidedPayload,
  PolicyLoadedPayload,
} from '../contract/index.js';
import {
  BUILTIN_POLICY,
  combineLayers,
  decidedParts,
  evaluatePolicy,
  formatPolicyError,
  loadPolicy,
  loadShellParser,
  requestInput,
  ruleKind,
  type EffectivePolicy,
} from '../policy/index.js';
import type { AgentUpdate } from '../runtime/index.js';
import { resolveInWorkspace } from '../workspace/index.js';

/** What the policy said about one request, for the decider (which records and applies it). */
export interface PolicyJudgement {
  decided: PolicyDecidedPayload;
  /** Carried on the approval card when the policy asks a person. */
  context: ApprovalPolicyContext;
  onViolation: 'record' | 'stop';
}

export interface PolicyGateOptions {
  /** Keel's data directory: `<data>/policy.yaml` is the user's layer. */
  dataDir: string;
  workspace: string;
  agentKind: AgentSpec['kind'];
  approvalMode(): ApprovalMode;
  /** Records policy events (through the run's decider). */
  record(events: AppendInput[]): Promise<unknown>;
  /** PATH and HOME of the commands the agent runs. */
  env?: { PATH?: string | undefined; HOME?: string | undefined };
}

/** ACP and Codex tool kinds that name something the policy can judge after the fact. */
const OBSERVABLE: Record<string, Action['kind']> = {
  execute: 'exec',
  edit: 'write',
  delete: 'write',
  move: 'write',
  read: 'read',
  search: 'read',
  fetch: 'network',
};

const asRecord = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : typeof value === 'string' ? [value] : []);

/** The action a reported tool call names (`tool_call` rawInput), or null when it names none the policy can judge. */
export function observedAction(toolKind: string | undefined, title: string, input: unknown): Action | null {
  const kind = toolKind === undefined ? undefined : OBSERVABLE[toolKind];
  if (!kind) return null;
  const raw = asRecord(input);
  if (kind === 'exec') {
    const command = raw.command ?? raw.cmd;
    const cwd = typeof raw.cwd === 'string' ? raw.cwd : undefined;
    if (typeof command === 'string' && command.trim() !== '') {
      const args = Array.isArray(raw.args) ? strings(raw.args) : undefined;
      return { kind, title, command, ...(args ? { args } : {}), ...(cwd ? { cwd } : {}) };
    }
    const argv = strings(command);
    return argv.length > 0 ? { kind, title, command: argv[0]!, args: argv.slice(1), ...(cwd ? { cwd } : {}) } : null;
  }
  if (kind === 'network') {
    const url = typeof raw.url === 'string' ? raw.url : undefined;
    return { kind, title, ...(url ? { detail: url } : {}) };
  }
  const paths = [...new Set(['path', 'paths', 'file_path', 'filePath', 'abs_path'].flatMap((key) => strings(raw[key])))];
  return paths.length > 0 ? { kind, title, paths } : null;
}

/**
 * The policy side of one run (runtime facts, ADR 0004): the policy in force, loaded at the
 * run's start and again before every turn (a changed file is a new `policy.loaded`; an invalid
 * one is refused, recorded as `policy.refused`, and the last valid policy stays), and the
 * judgement of each request. It remembers which actions were decided in each generation so a
 * tool call the agent reports afterwards is judged as observed only when nobody was asked.
 */
export class PolicyGate {
  private current: EffectivePolicy | null = null;
  private recordedHash: string | null = null;
  private refused: string | null = null;
  private loading: Promise<void> | null = null;
  private reloading: Promise<void> | null = null;
  private readonly decided = new Map<number, Set<string>>();
  private readonly askedToolCalls = new Set<string>();
  private readonly openTools = new Map<string, { generation: number; action: Action }>();

  constructor(private readonly options: PolicyGateOptions) {
    // The shell parser (WebAssembly) compiles once per process: start now, so the run's first
    // prompt does not wait for it. A failure here shows again, with its cause, at the first load.
    loadShellParser().catch(() => {});
  }

  /** The policy in force (null before the first load). */
  get policy(): EffectivePolicy | null {
    return this.current;
  }

  /**
   * Reads the policy files again; records what changed. A call made while a load runs gets one
   * more load after it (that one may have read the files before they changed, as when a rule was
   * just added), shared by every call made meanwhile.
   */
  refresh(reason: 'changed' | 'rule_added' = 'changed'): Promise<void> {
    if (!this.loading) {
      this.loading = this.load(reason).finally(() => {
        this.loading = null;
      });
      return this.loading;
    }
    this.reloading ??= this.loading
      .catch(() => {})
      .then(() => {
        this.reloading = null;
        return this.refresh(reason);
      });
    return this.reloading;
  }

  /** The policy in force, loaded first if it never was. */
  async ready(): Promise<EffectivePolicy> {
    if (!this.current) await this.refresh();
    return this.current!;
  }

  private async load(reason: 'changed' | 'rule_added'): Promise<void> {
    const { dataDir, workspace } = this.options;
    const result = await loadPolicy({ dataDir, workspace });
    const events: AppendInput[] = [];
    let policy: EffectivePolicy;
    let refused: string | null = null;
    if (result.ok) {
      policy = result.policy;
    } else {
      const errors = result.errors.map(formatPolicyError).slice(0, 100);
      refused = errors.join('\n');
      // Without any valid policy yet, Keel's built-in layer alone is in force.
      policy = this.current ?? combineLayers([{ name: 'builtin', file: null, policy: BUILTIN_POLICY }]);
      if (refused !== this.refused) events.push({ type: 'policy.refused', payload: { files: result.files, errors, kept: this.recordedHash ?? policy.hash } });
    }
    if (policy.hash !== this.recordedHash) {
      events.push({ type: 'policy.loaded', payload: loadedPayload(policy, this.recordedHash === null ? 'run_start' : reason) });
    }
    // In force only once its `policy.loaded` is durable (I1): no judgement names a policy the
    // ledger does not have yet, and a failed append leaves the last recorded one in force.
    if (events.length > 0) await this.options.record(events);
    this.current = policy;
    this.refused = refused;
    this.recordedHash = policy.hash;
  }

  /** Judges a request (needs `ready()` first). Nobody can answer asks unless the run is interactive or approves all. */
  judge(action: Action, source: PolicyActionSource, extra: { toolCallId?: string; observed?: boolean } = {}): PolicyJudgement {
    const policy = this.current;
    if (!policy) throw new Error('The policy is not loaded yet.');
    const mode = this.options.approvalMode();
    // Observed actions already happened: the question is only what the policy says of them.
    const unattended = !extra.observed && (mode === 'none' || mode === 'reads');
    // `--approve all` answers asks without anybody looking: only about what Keel can show as it is.
    const approveAll = !extra.observed && mode === 'all';
    const input = requestInput(action);
    let verdict: Pick<PolicyDecidedPayload, 'decision' | 'rule' | 'layer' | 'why'>;
    let kind: PolicyDecidedKind;
    let parts: ReturnType<typeof decidedParts> = { parts: [], more: 0 };
    if (input === null) {
      kind = action.kind === 'generic' ? 'generic' : action.kind;
      const why = `no rule: Keel cannot tell what this ${action.kind === 'generic' ? 'request' : `${action.kind} request`} touches`;
      // A generic request (a protocol question that names no action) is still answered by `--approve all`.
      verdict = unattended
        ? { decision: 'deny', rule: null, layer: null, why: `${why} (unattended: nobody can answer)` }
        : approveAll && action.kind !== 'generic'
          ? { decision: 'deny', rule: null, layer: null, why: `${why} (--approve all approves only what is statically known)` }
          : { decision: 'ask', rule: null, layer: null, why };
    } else {
      const { env } = this.options;
      const evaluation = evaluatePolicy(policy, input, {
        workspace: this.options.workspace,
        ...(action.cwd ? { cwd: action.cwd } : {}),
        unattended,
        approveAll,
        ...(env?.PATH !== undefined ? { path: env.PATH } : {}),
        ...(env?.HOME !== undefined ? { home: env.HOME } : {}),
      });
      verdict = { decision: evaluation.decision, rule: evaluation.rule, layer: evaluation.layer, why: evaluation.why };
      const top = evaluation.actions.find((part) => part.decision === evaluation.decision && part.rule === evaluation.rule && part.why === evaluation.why);
      kind = top?.kind ?? (action.kind === 'generic' ? 'generic' : action.kind);
      parts = decidedParts(evaluation.actions);
    }
    const decided: PolicyDecidedPayload = {
      action: { kind, title: action.title.slice(0, 2000), ...(parts.parts.length > 0 ? { parts: parts.parts } : {}), ...(parts.more > 0 ? { moreParts: parts.more } : {}) },
      ...verdict,
      why: verdict.why.slice(0, 4000),
      policyHash: policy.hash,
      source,
      ...(unattended ? { unattended: true } : {}),
      ...(extra.observed ? { observed: true, ...(verdict.decision === 'deny' ? { violation: true } : {}) } : {}),
      ...(extra.toolCallId ? { toolCallId: extra.toolCallId } : {}),
    };
    return { decided, context: { ...verdict, why: decided.why, policyHash: policy.hash, kind }, onViolation: policy.onViolation };
  }

  /**
   * `judge`, never throwing: an action the engine fails on (a bug, never an input) is never
   * allowed. It is asked about when a person answers asks (an interactive run), and denied in
   * every other mode — `--approve all` included, which answers asks without anybody looking —
   * with the failure as its why.
   */
  judgeSafely(action: Action, source: PolicyActionSource, extra: { toolCallId?: string; observed?: boolean } = {}): PolicyJudgement {
    try {
      return this.judge(action, source, extra);
    } catch (error) {
      const mode = this.options.approvalMode();
      const unattended = !extra.observed && mode !== 'interactive';
      const cause = error instanceof Error ? error.message : String(error);
      const why = `Keel could not evaluate the policy (${cause}), so it is never allowed`.slice(0, 4000);
      const decision = unattended ? 'deny' : 'ask';
      const kind: PolicyDecidedKind = action.kind;
      const policyHash = this.current?.hash ?? '';
      return {
        decided: { action: { kind, title: action.title.slice(0, 2000) }, decision, rule: null, layer: null, why, policyHash, source, ...(unattended ? { unattended: true } : {}), ...(extra.observed ? { observed: true } : {}), ...(extra.toolCallId ? { toolCallId: extra.toolCallId } : {}) },
        context: { decision, rule: null, layer: null, why, policyHash, kind },
        onViolation: this.current?.onViolation ?? 'record',
      };
    }
  }

  /** Where an agent's own permission request comes from, by the agent's protocol. */
  get permissionSource(): PolicyActionSource {
    return this.options.agentKind === 'codex' ? 'codex.approval' : this.options.agentKind === 'builtin' ? 'builtin.permission' : 'acp.permission';
  }

  /** A request of this generation was decided: a tool call reporting the same action was not done unasked. */
  noteRequest(generation: number, action: Action, toolCallId?: string): void {
    if (toolCallId) this.askedToolCalls.add(toolCallId);
    let keys = this.decided.get(generation);
    if (!keys) this.decided.set(generation, (keys = new Set()));
    for (const key of this.keysOf(action)) keys.add(key);
  }

  /**
   * Follows the agent's tool calls; returns the judgement of one that completed or failed (a
   * command that exits non-zero still ran) without any request of its generation covering it
   * (the agent did it on its own), else null.
   */
  observe(generation: number, update: AgentUpdate): PolicyJudgement | null {
    if (update.kind === 'tool_started') {
      if (this.openTools.has(update.toolCallId) && update.input === undefined) return null;
      const action = observedAction(update.toolKind, update.title, update.input);
      if (action) this.openTools.set(update.toolCallId, { generation, action });
      return null;
    }
    if (update.kind !== 'tool_updated' || (update.status !== 'completed' && update.status !== 'failed')) return null;
    const open = this.openTools.get(update.toolCallId);
    this.openTools.delete(update.toolCallId);
    if (!open || !this.current || this.askedToolCalls.has(update.toolCallId)) return null;
    const keys = this.decided.get(open.generation);
    const covered = this.keysOf(open.action);
    if (covered.length > 0 && covered.every((key) => keys?.has(key))) return null;
    return this.judgeSafely(open.action, 'tool_call', { toolCallId: update.toolCallId, observed: true });
  }

  /** A generation ended: what it decided no longer covers anything. */
  forget(generation: number): void {
    this.decided.delete(generation);
    for (const [id, open] of this.openTools) if (open.generation === generation) this.openTools.delete(id);
  }

  /** What makes a reported tool call "the same" as a decided request: the command line, or each real path. */
  private keysOf(action: Action): string[] {
    if (action.kind === 'exec') return action.command ? [`exec\0${[action.command, ...(action.args ?? [])].join('\0')}`] : [];
    if (action.kind === 'write' || action.kind === 'read') {
      return (action.paths ?? []).map((target) => {
        let real = target;
        try {
          real = resolveInWorkspace(this.options.workspace, target).path;
        } catch {
          // keep it as given
        }
        return `${action.kind}\0${real}`;
      });
    }
    return action.detail ? [`${action.kind}\0${action.detail}`] : [];
  }
}

/** The `policy.loaded` payload of a policy in force. */
export function loadedPayload(policy: EffectivePolicy, reason: PolicyLoadedPayload['reason']): PolicyLoadedPayload {
  return {
    hash: policy.hash,
    reason,
    files: policy.layers.filter((layer) => layer.file !== null).map((layer) => ({ layer: layer.name, file: layer.file! })),
    rules: policy.rules.map((rule) => ({ id: rule.id, layer: rule.layer, decision: rule.decision, kind: ruleKind(rule) })),
    defaults: { ...policy.defaults },
    defaultLayers: { ...policy.defaultLayers } as Record<string, PolicyLoadedPayload['defaultLayers'][string]>,
    onViolation: policy.onViolation,
  };
}
