export * from './server.js';
export * from './renderer-dir.js';
export * from './security.js';
