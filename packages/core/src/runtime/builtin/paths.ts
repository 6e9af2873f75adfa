import { fileURLToPath } from 'node:url';

// Both src/runtime/builtin and dist/runtime/builtin sit three levels below packages/core, so
// the same relative URLs work from the sources (tests) and from the compiled package.

/** The shipped scripts: `packages/core/builtin-scripts/<name>.json`. */
export const scriptsDir = fileURLToPath(new URL('../../../builtin-scripts/', import.meta.url));

/** The compiled agent entry point (always in dist/: the agent runs as a plain Node process). */
export const compiledMain = fileURLToPath(new URL('../../../dist/runtime/builtin/main.js', import.meta.url));
