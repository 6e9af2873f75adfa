import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from '../contract/schemas/reliability.js';

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: Math.max(1, cpus.length),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    load: os.loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

/** The commit Keel runs from, when it runs from a git checkout (null otherwise). */
export function gitSha(): string | null {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: here, encoding: 'utf8', timeout: 5_000 });
  const sha = result.status === 0 ? result.stdout.trim() : '';
  return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
}
