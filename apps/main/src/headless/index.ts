export * from './server.js';
export * from './renderer-dir.js';
export * from './security.js';
export * from './server-identity.js';
export { openInBrowser } from '../open-browser.js';
export * from './persistent-server.js';
