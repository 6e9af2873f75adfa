export * from './router.js';
export * from './connection.js';
export * from './data-dir.js';
export * from './workstation.js';
export * from './keep-alive.js';
