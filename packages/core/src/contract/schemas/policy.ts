// The policy's contract, by responsibility (DESIGN I8): the policy file format (policy-file.ts),
// the normalised actions it decides (policy-actions.ts), and the policy in a run's ledger and
// its views (policy-events.ts). Every export stays importable from here and from the contract index.
export * from './policy-file.js';
export * from './policy-actions.js';
export * from './policy-events.js';
