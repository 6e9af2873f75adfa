import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Keel's version, read from the core package manifest (also present inside a packaged app). */
export const KEEL_VERSION: string = (require('../../package.json') as { version: string }).version;
