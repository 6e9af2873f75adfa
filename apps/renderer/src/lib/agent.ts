import type { AgentSpec } from '@keel/core/contract';

// The command-line helpers are shared with the CLI through the contract.
export { quoteWord, splitCommandLine } from '@keel/core/contract';

/** A short name for a run's agent: "built-in: edit-and-test", "codex app-server", "gemini --acp". */
export function agentLabel(agent: AgentSpec | null | undefined): string {
  if (!agent) return 'unknown agent';
  if (agent.kind === 'builtin') return `built-in: ${agent.script ?? 'default'}`;
  const command = agent.command ?? [];
  const program = command[0] ? baseName(command[0]) : agent.kind;
  const line = [program, ...command.slice(1)].join(' ');
  return agent.kind === 'codex' ? `Codex: ${line}` : `ACP: ${line}`;
}

/** The last segment of a path (either separator), for narrow columns. */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  const at = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return at === -1 ? trimmed || path : trimmed.slice(at + 1) || path;
}
