export { RunManager, type RunManagerOptions, type RuntimeTuning } from './run-manager.js';
export { RunController, readRunEvents, type RunControllerOptions } from './run-controller.js';
export { readRunFacts, type RunFacts } from './run-facts.js';
export { ApprovalBroker } from './approvals.js';
export { idempotencyKey } from './idempotency.js';
export { actionKey } from './action-key.js';
export { resolveInWorkspace } from './workspace-paths.js';
export { agentCatalog } from './agent-catalog.js';
export { AttentionTracker, type AttentionChange } from './attention.js';
