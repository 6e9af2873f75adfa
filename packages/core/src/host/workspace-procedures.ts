import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { KeelRpcError } from '../contract/errors.js';
import type { WorkspaceCheck } from '../contract/schemas/workspace-check.js';
import type { ProcedureHandlers } from './router.js';

const run = promisify(execFile);

type WorkspaceHandlers = Pick<ProcedureHandlers, 'workspace.check' | 'workspace.init'>;

/** `~` and `~/x` are the user's home, as in a shell; anything else is resolved from the home too when relative. */
export function expandWorkspacePath(input: string, home = os.homedir()): string {
  const trimmed = input.trim();
  if (trimmed === '~') return home;
  if (trimmed.startsWith('~/') || trimmed.startsWith('~\\')) return path.join(home, trimmed.slice(2));
  return path.resolve(home, trimmed);
}

/** A typed workspace path, checked: the status and the problem in words a person can act on. */
export function checkWorkspace(input: string, home = os.homedir()): WorkspaceCheck {
  if (input.trim() === '') return { input, resolved: '', status: 'empty', problem: 'Type the folder the agent should work in (e.g. ~/projects/app).', canInit: false };
  const absolute = expandWorkspacePath(input, home);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(absolute, { throwIfNoEntry: false });
  } catch (error) {
    return { input, resolved: absolute, status: 'unreadable', problem: `Keel cannot look at ${absolute} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, canInit: false };
  }
  if (!stat) return { input, resolved: absolute, status: 'missing', problem: `There is no folder at ${absolute}. Check the path, or create the folder first.`, canInit: false };
  if (!stat.isDirectory()) return { input, resolved: absolute, status: 'not_a_folder', problem: `${absolute} is a file, not a folder. Choose the folder that contains it.`, canInit: false };
  const resolved = fs.realpathSync(absolute);
  if (!isInsideGitRepository(resolved)) {
    return {
      input,
      resolved,
      status: 'not_git',
      problem: `${resolved} is not a git repository. Make it one now (git init) so its history shows the agent's changes, or create the run anyway.`,
      canInit: true,
    };
  }
  return { input, resolved, status: 'git', problem: null, canInit: false };
}

/** True when the folder or one of its parents holds a `.git`: a repository directory (with HEAD), or a file (worktrees). */
function isInsideGitRepository(folder: string): boolean {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, '.git');
    const stat = fs.statSync(dotGit, { throwIfNoEntry: false });
    if (stat?.isFile() || (stat?.isDirectory() && fs.existsSync(path.join(dotGit, 'HEAD')))) return true;
    if (path.dirname(dir) === dir) return false;
  }
}

export function workspaceProcedures(): WorkspaceHandlers {
  return {
    'workspace.check': ({ path: input }) => checkWorkspace(input),
    'workspace.init': async ({ path: input }) => {
      const before = checkWorkspace(input);
      if (before.status === 'git') return before;
      if (!before.canInit) throw new KeelRpcError('invalid_input', before.problem ?? 'That folder cannot be made a repository.');
      try {
        await run('git', ['init', '--quiet', before.resolved], { timeout: 15_000 });
      } catch (error) {
        throw new KeelRpcError('unavailable', `git init failed in ${before.resolved}: ${(error as Error).message.split('\n')[0]}`);
      }
      return checkWorkspace(before.resolved);
    },
  };
}
