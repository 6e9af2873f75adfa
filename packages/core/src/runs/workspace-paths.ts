import fs from 'node:fs';
import path from 'node:path';

/**
 * Resolves `target` (absolute, or relative to the workspace) through symlinks and says
 * whether it stays inside the workspace. A file that does not exist yet is judged by the
 * real path of its nearest existing ancestor, so `ws/link-to-etc/new` is caught too.
 */
export function resolveInWorkspace(workspace: string, target: string): { path: string; inside: boolean } {
  const root = fs.realpathSync(workspace);
  const absolute = path.resolve(root, target);
  let existing = absolute;
  const missing: string[] = [];
  while (!fs.existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    missing.unshift(path.basename(existing));
    existing = parent;
  }
  const real = path.join(fs.realpathSync(existing), ...missing);
  return { path: real, inside: real === root || real.startsWith(root + path.sep) };
}
