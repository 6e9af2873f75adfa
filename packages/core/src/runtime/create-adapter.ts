import path from 'node:path';
import type { AgentSpec } from '../contract/schemas/ledger.js';
import { createAcpAdapter } from './acp/acp-adapter.js';
import type { AgentRequests, AgentAdapter, MessageChannel } from './adapter.js';
import { builtinAgentCommand } from './builtin/index.js';
import { createCodexAdapter } from './codex/index.js';

/** The command line that starts a run's agent (the built-in agent's is computed here, not stored). */
export function resolveAgentCommand(agent: AgentSpec, context: { runDir: string }): string[] {
  switch (agent.kind) {
    case 'builtin':
      return builtinAgentCommand({
        script: agent.script ?? 'hello',
        stateDir: path.join(context.runDir, 'builtin-agent'),
        ...(agent.faults ? { faults: agent.faults } : {}),
      });
    case 'codex':
      return agent.command ?? ['codex', 'app-server'];
    case 'acp':
      if (!agent.command || agent.command.length === 0) throw new Error('An ACP agent needs a command (--agent-cmd).');
      return agent.command;
  }
}

/** The protocol adapter for an agent kind: the built-in agent speaks ACP. */
export function createAdapter(agent: AgentSpec, channel: MessageChannel, host: AgentRequests, options: { cwd: string }): AgentAdapter {
  return agent.kind === 'codex' ? createCodexAdapter(channel, host, options) : createAcpAdapter(channel, host, options);
}
