/**
 * The one formula for a run's usage (I9) lives in the contract, so the ledger's runs projection
 * (the run list) applies the same steps as the run view's fold (the run header).
 */
export { usageReported, usageToolCall, usageTurnEnded, usageTurnStarted } from '../contract/index.js';
