import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** True when `command` is an executable file somewhere on PATH. */
function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** The command that opens a URL in a desktop browser here, or null where there is no desktop. */
export function browserOpener(
  url: string,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): { command: string; args: string[] } | null {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start` is a cmd builtin; the empty "" is the window title it would otherwise take from the URL.
  if (platform === 'win32') return { command: 'cmd', args: ['/d', '/s', '/c', 'start', '""', url] };
  if ((env.DISPLAY || env.WAYLAND_DISPLAY) && onPath('xdg-open', env)) return { command: 'xdg-open', args: [url] };
  return null;
}

/** Opens the URL in the desktop browser if there is one. Never throws, never waits. */
export function openInBrowser(url: string): boolean {
  const opener = browserOpener(url);
  if (!opener) return false;
  try {
    const child = spawn(opener.command, opener.args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.on('error', () => {}); // A missing or failing opener is not Keel's failure.
    child.unref();
    return true;
  } catch {
    return false;
  }
}
