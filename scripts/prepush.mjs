#!/usr/bin/env node
// `npm run prepush`: the local gate before pushing Keel itself — typecheck (tsc -b), the unit
// tests (vitest), then `keel reliability --quick`. Stops at the first step that fails, with its
// exit code. `--dry-run` prints the steps without running them.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

export const STEPS = [
  { label: 'typecheck', command: npx, args: ['tsc', '-b'] },
  { label: 'unit tests', command: npx, args: ['vitest', 'run'] },
  { label: 'reliability (quick)', command: process.execPath, args: ['apps/cli/bin/keel.js', 'reliability', '--quick'] },
];

const dryRun = process.argv.includes('--dry-run');
for (const [index, step] of STEPS.entries()) {
  const line = `[prepush ${index + 1}/${STEPS.length}] ${step.label}: ${[step.command === process.execPath ? 'node' : step.command, ...step.args].join(' ')}`;
  process.stdout.write(`${line}\n`);
  if (dryRun) continue;
  const started = Date.now();
  const result = spawnSync(step.command, step.args, { cwd: root, stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    process.stderr.write(`[prepush] ${step.label} failed (${result.signal ?? `exit ${result.status}`}) after ${seconds} s: not pushing.\n`);
    process.exit(result.status || 1);
  }
  process.stdout.write(`[prepush] ${step.label} passed in ${seconds} s\n`);
}
process.stdout.write(dryRun ? '[prepush] dry run: nothing was run\n' : '[prepush] all checks passed\n');
