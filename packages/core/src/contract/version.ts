/**
 * Keel's version. It lives in the contract so that every layer (runtime adapters introducing
 * themselves to agents, the host's app info, the CLI, the Electron about panel) reads it from
 * the bottom layer, and so that it stays browser-safe: a literal, not a read of package.json.
 * architecture.test.ts checks it equals the `version` in packages/core/package.json.
 */
export const KEEL_VERSION = '0.1.0';
