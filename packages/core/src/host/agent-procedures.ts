import { KeelRpcError } from '../contract/errors.js';
import type { AgentSpec } from '../contract/index.js';
import type { Ledger } from '../ledger/index.js';
import { checkAgent, type RunManager } from '../runs/index.js';
import type { ProcedureHandlers } from './router.js';

type AgentHandlers = Pick<ProcedureHandlers, 'agents.check' | 'run.setAgent'>;

/** States in which the agent is busy with a turn: its agent cannot be swapped under it. */
const BUSY = new Set(['starting', 'running', 'awaiting_approval']);

/** Checks an agent for a run in `workspace`; a failure becomes invalid_input in plain words. */
export async function requireWorkingAgent(agent: AgentSpec, workspace: string): Promise<void> {
  const check = await checkAgent(agent, workspace);
  if (!check.ok) throw new KeelRpcError('invalid_input', `The agent cannot be used: ${check.problem}`);
}

/**
 * Checking an agent before use, and changing the agent of an existing run (issue 15): the
 * change is recorded as `run.agent_changed` (intent first), then a running agent process is
 * restarted so the new agent takes over; a stopped one starts as the new agent on the next prompt.
 */
export function agentProcedures(ledger: Ledger, runs: RunManager): AgentHandlers {
  return {
    'agents.check': async ({ agent, workspace }) => {
      const check = await checkAgent(agent, workspace);
      return check.ok ? { ok: true, problem: null } : { ok: false, problem: check.problem };
    },
    'run.setAgent': async ({ runId, agent }) => {
      const summary = ledger.run(runId);
      if (!summary) throw new KeelRpcError('not_found', `No run ${runId}.`);
      if (summary.readOnly || summary.quarantined) throw new KeelRpcError('forbidden', 'This run is read-only; its agent cannot be changed.');
      if (BUSY.has(summary.state)) throw new KeelRpcError('conflict', 'The agent is working on a turn. Wait for it to end, or cancel it, then change the agent.');
      if (!summary.agent || !summary.workspace) throw new KeelRpcError('invalid_input', 'This run has no agent to change.');
      await requireWorkingAgent(agent, summary.workspace);
      const controller = runs.get(runId);
      await ledger.append(runId, { type: 'run.agent_changed', payload: { agent, previous: summary.agent } });
      if (controller.agentPid !== null) await controller.restartRuntime();
      return {};
    },
  };
}
