export * from './adapter.js';
export { AgentProcess, type AgentExit } from './agent-process.js';
export { frameChannel, DEFAULT_MAX_MESSAGE_BYTES } from './framing.js';
export { RestartPolicy, type RestartPolicyOptions } from './restart-policy.js';
export { createAdapter, resolveAgentCommand } from './create-adapter.js';
export { createAcpAdapter } from './acp/acp-adapter.js';
export { builtinAgentCommand, listBuiltinScripts, resolveBuiltinScript } from './builtin/index.js';
