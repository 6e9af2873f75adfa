import { execFile } from 'node:child_process';
import os from 'node:os';
import { KEEL_VERSION } from '../contract/index.js';
import { agentCatalog } from '../runs/index.js';

/** How long one `--version` may take before it is reported as not answering. */
const VERSION_TIMEOUT_MS = 5_000;

/** The first line a program prints for `args`, or why there is none. */
function versionOf(command: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: VERSION_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
      const line = `${stdout}`.trim().split('\n')[0] || `${stderr}`.trim().split('\n')[0] || '';
      if (error) resolve(`unavailable (${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed' : error.message.split('\n')[0]})`);
      else resolve(line || 'unknown');
    });
  });
}

export interface Versions {
  keel: string;
  node: string;
  electron: string | null;
  v8: string;
  platform: { os: string; arch: string; release: string };
  git: string;
  agents: Array<{ name: string; command: string[]; version: string }>;
}

/** Versions of Keel, its runtime, git and every agent found on PATH, for a diagnostics bundle. */
export async function collectVersions(pathVariable = process.env.PATH ?? ''): Promise<Versions> {
  const catalog = agentCatalog(pathVariable);
  const agents = await Promise.all(
    catalog.detected.map(async (agent) => ({ name: agent.name, command: agent.command, version: await versionOf(agent.path, ['--version']) })),
  );
  return {
    keel: KEEL_VERSION,
    node: process.versions.node,
    electron: process.versions.electron ?? null,
    v8: process.versions.v8,
    platform: { os: process.platform, arch: process.arch, release: os.release() },
    git: await versionOf('git', ['--version']),
    agents: [{ name: 'built-in scripted agent', command: ['builtin'], version: KEEL_VERSION }, ...agents],
  };
}
