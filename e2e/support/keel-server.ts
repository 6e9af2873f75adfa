// The specs' door to the real headless server; the implementation is plain JavaScript
// (serve.mjs) so the standalone UI benchmark (scripts/bench-ui.mjs) shares it.
export { artifactsDir, repoRoot, startKeel, type RunningKeel } from './serve.mjs';
