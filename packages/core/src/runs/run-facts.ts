import type { AgentSpec, ApprovalMode, LedgerEvent, RunStateName } from '../contract/schemas/ledger.js';

/** What a run controller needs to know about its run, read once from the ledger. */
export interface RunFacts {
  workspace: string;
  agent: AgentSpec;
  approvalMode: ApprovalMode;
  title: string | null;
  state: RunStateName;
  stopReason: string | null;
  /** The agent's session (ACP session id, Codex thread id), once bound. */
  sessionId: string | null;
  generation: number;
  currentTurn: number;
  /** A prompt with no `turn.ended` yet. */
  openTurn: number | null;
  /** Agent process ids by generation, for killing orphans after a host crash. */
  agentPids: Map<number, number>;
  /** The command line of each generation, to recognise its process later. */
  agentCommands: Map<number, string[]>;
  /** Commands Keel started for the agent and never saw end: pid and command line. */
  openTerminals: Map<string, { pid: number; command: string[] }>;
  hostPid: number | null;
  readOnly: boolean;
  /** The latest generation's exit is recorded (a clean close, or a crash Keel saw). */
  lastGenerationExited: boolean;
}

export function readRunFacts(events: readonly LedgerEvent[]): RunFacts {
  const facts: RunFacts = {
    workspace: '',
    agent: { kind: 'builtin' },
    approvalMode: 'interactive',
    title: null,
    state: 'created',
    stopReason: null,
    sessionId: null,
    generation: 0,
    currentTurn: 0,
    openTurn: null,
    agentPids: new Map(),
    agentCommands: new Map(),
    openTerminals: new Map(),
    hostPid: null,
    readOnly: false,
    lastGenerationExited: true,
  };
  for (const event of events) {
    const payload = event.payload as Record<string, unknown>;
    switch (event.type) {
      case 'run.created':
        facts.workspace = payload.workspace as string;
        facts.agent = payload.agent as AgentSpec;
        facts.approvalMode = (payload.approvalMode as ApprovalMode | undefined) ?? 'interactive';
        facts.title = (payload.title as string | undefined) ?? null;
        break;
      case 'run.state':
        facts.state = payload.state as RunStateName;
        facts.stopReason = (payload.stopReason as string | undefined) ?? null;
        break;
      case 'session.bound':
        facts.sessionId = (payload.sessionId as string | null) ?? facts.sessionId;
        break;
      case 'runtime.started':
        facts.generation = Math.max(facts.generation, payload.generation as number);
        facts.agentPids.set(payload.generation as number, payload.pid as number);
        facts.agentCommands.set(payload.generation as number, payload.command as string[]);
        facts.hostPid = payload.hostPid as number;
        facts.lastGenerationExited = false;
        break;
      case 'terminal.started':
        if (typeof payload.pid === 'number') {
          facts.openTerminals.set(payload.terminalId as string, { pid: payload.pid, command: [payload.command as string, ...(payload.args as string[])] });
        }
        break;
      case 'terminal.exited':
        facts.openTerminals.delete(payload.terminalId as string);
        break;
      case 'runtime.exited':
        if (payload.generation === facts.generation) facts.lastGenerationExited = true;
        break;
      case 'prompt.sent':
        facts.currentTurn = Math.max(facts.currentTurn, payload.turn as number);
        facts.openTurn = payload.turn as number;
        break;
      case 'turn.ended':
        if (facts.openTurn === payload.turn) facts.openTurn = null;
        break;
    }
  }
  return facts;
}
