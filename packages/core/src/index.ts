export * from './contract/index.js';
export * from './fsutil/index.js';
export * from './host/index.js';
export * from './ledger/index.js';
export * from './replay/index.js';
export * from './runtime/index.js';
export * from './runs/index.js';
