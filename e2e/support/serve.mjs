// Starts the real `keel serve` (the built CLI) on a data dir and waits for its listening line.
// Plain JavaScript so scripts/bench-ui.mjs can use it without a TypeScript loader; the specs
// reach it through keel-server.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const artifactsDir = path.join(repoRoot, 'e2e', 'artifacts');

/**
 * Starts the real `keel serve` on a fresh data dir (or on `options.dataDir`, e.g. one a
 * generator filled beforehand) and waits for its listening line.
 */
export async function startKeel(options = {}) {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'keel-e2e-'));
  const child = spawn(process.execPath, [path.join(repoRoot, 'apps/cli/bin/keel.js'), 'serve', '--data', dataDir, ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /^Keel is listening on (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)$/m.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`keel serve exited with ${code}: ${stderr}`)));
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token'),
    dataDir,
    process: child,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
