import { createRequire } from 'node:module';
import path from 'node:path';

/** Where the built renderer lives: the renderer workspace's `dist`. */
export function rendererDistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@keel/renderer/package.json')), 'dist');
}
