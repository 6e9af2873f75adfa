import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The renderer may import from core only the contract and the pure replay fold (I11, ADR 0003);
// both are bundled from source.
const core = (path: string) => fileURLToPath(new URL(`../../packages/core/src/${path}`, import.meta.url));

export default defineConfig({
  base: './',
  plugins: [react()],
  resolve: {
    alias: {
      '@keel/core/contract': core('contract/index.ts'),
      '@keel/core/replay': core('replay/index.ts'),
    },
  },
  // One local bundle (React, zod, markdown): loaded from disk or loopback, so its size matters little.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
});
