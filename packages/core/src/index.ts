export * from './contract/index.js';
export * from './host/index.js';
