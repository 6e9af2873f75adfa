export * from './adapter.js';
export { AgentProcess, type AgentExit } from './agent-process.js';
export { frameChannel, DEFAULT_MAX_MESSAGE_BYTES } from './framing.js';
export { RestartBackoff, type RestartBackoffOptions } from './restart-backoff.js';
export { createAdapter, resolveAgentCommand } from './create-adapter.js';
export { createAcpAdapter } from './acp/acp-adapter.js';
export { builtinAgentCommand, listBuiltinScripts, resolveBuiltinScript } from './builtin/index.js';
export { Supervisor, type Generation, type GenerationExit, type GenerationLifecycle, type SupervisorOptions, type SupervisorReports } from './supervisor.js';
export { bindSession, mayResend, type BindResult, type SessionBinding } from './session-binding.js';
