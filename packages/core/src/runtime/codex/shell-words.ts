import { splitCommandLine } from '../../contract/index.js';

/**
 * Codex reports a command as the shell line it runs, e.g. `/bin/bash -lc 'npm test'`. Policy
 * decides on the script the agent wrote, so unwrap `<shell> -c|-lc <one literal word>`; any
 * other shape is returned unchanged (the policy then sees the whole line, which is safe).
 */
export function unwrapShellCommand(command: string): string {
  const match = /^(?:\S*\/)?(?:bash|zsh|sh)\s+-(?:c|lc|lic|ilc)\s+([\s\S]+)$/.exec(command.trim());
  if (!match) return command;
  try {
    const words = splitCommandLine(match[1]!, { literal: true });
    return words.length === 1 ? words[0]! : command;
  } catch {
    return command;
  }
}
