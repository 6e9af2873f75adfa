export { createCodexAdapter, type CodexAdapterOptions } from './codex-adapter.js';
export type { ApprovalPolicy, SandboxMode } from './protocol.js';
export type { TurnResult } from './stop-reason.js';
