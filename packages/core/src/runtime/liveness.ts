import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` still runs the program we started (pids get reused): its command line must
 * contain the agent's program. Unknown (no way to tell) counts as no: never kill a stranger.
 */
function runsCommand(pid: number, command: readonly string[]): boolean {
  const program = command.find((part, index) => index > 0 && /[\\/]/.test(part)) ?? command[0];
  if (!program) return false;
  let cmdline: string;
  try {
    cmdline =
      process.platform === 'linux'
        ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
        : execFileSync('ps', ['-p', String(pid), '-o', 'args='], { encoding: 'utf8' });
  } catch {
    return false;
  }
  return cmdline.includes(program) || cmdline.includes(path.basename(program));
}

/**
 * After a host crash: kills the process group a dead host recorded (an agent or a command),
 * only while its leader is alive and still runs what was recorded.
 */
export function killLeftover(pid: number, command: readonly string[]): boolean {
  if (!alive(pid) || !runsCommand(pid, command)) return false;
  try {
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false; // Raced with its exit.
  }
}
