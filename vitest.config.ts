import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, never stale builds.
    alias: [
      { find: /^@keel\/core\/contract$/, replacement: src('./packages/core/src/contract/index.ts') },
      { find: /^@keel\/core\/version$/, replacement: src('./packages/core/src/contract/version.ts') },
      { find: /^@keel\/core\/quiet-listing$/, replacement: src('./packages/core/src/ledger/quiet-listing.ts') },
      { find: /^@keel\/core\/reconcile-gate$/, replacement: src('./packages/core/src/runs/reconcile-gate.ts') },
      { find: /^@keel\/core\/data-dir$/, replacement: src('./packages/core/src/host/data-dir.ts') },
      { find: /^@keel\/core\/run-list-marks$/, replacement: src('./packages/core/src/host/run-list-marks.ts') },
      { find: /^@keel\/core\/replay$/, replacement: src('./packages/core/src/replay/index.ts') },
      { find: /^@keel\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@keel\/main\/headless$/, replacement: src('./apps/main/src/headless/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.{ts,tsx}', 'apps/*/test/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Renderer component tests opt into a DOM per file with `// @vitest-environment jsdom`.
  },
});
