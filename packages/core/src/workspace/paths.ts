import fs from 'node:fs';
import path from 'node:path';

/**
 * Resolves `target` (absolute, or relative to the workspace) through symlinks and says
 * whether it stays inside the workspace. A file that does not exist yet is judged by the
 * real path of its nearest existing ancestor, so `ws/link-to-etc/new` is caught too; a
 * dangling symlink anywhere on the way counts as outside (it could point anywhere).
 */
export function resolveInWorkspace(workspace: string, target: string): { path: string; inside: boolean } {
  const root = fs.realpathSync(workspace);
  const absolute = path.resolve(root, target);
  let existing = absolute;
  const missing: string[] = [];
  // lstat, not exists: a dangling link exists as a link, and must not be walked past.
  while (fs.lstatSync(existing, { throwIfNoEntry: false }) === undefined) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    missing.unshift(path.basename(existing));
    existing = parent;
  }
  let real: string;
  try {
    real = path.join(fs.realpathSync(existing), ...missing);
  } catch {
    return { path: absolute, inside: false };
  }
  return { path: real, inside: real === root || real.startsWith(root + path.sep) };
}
