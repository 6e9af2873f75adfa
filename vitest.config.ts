import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, never stale builds.
    alias: [
      { find: /^@keel\/core\/contract$/, replacement: src('./packages/core/src/contract/index.ts') },
      { find: /^@keel\/core\/version$/, replacement: src('./packages/core/src/contract/version.ts') },
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
