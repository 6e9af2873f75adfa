#!/usr/bin/env node
// `npm test`: every runner in turn, then one plain closing line `N passed, N failed, N skipped`
// aggregated from their JSON reports (CI reads only that line).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const reports = path.join(root, '.cache', 'reports');
fs.mkdirSync(reports, { recursive: true });
fs.mkdirSync(path.join(root, 'e2e', 'artifacts'), { recursive: true });

const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function run(label, command, args, env = {}) {
  process.stdout.write(`\n=== ${label}: ${[command, ...args].join(' ')}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

/** A check that is one test: it passes or fails as a whole. */
function check(label, command, args) {
  if (run(label, command, args)) totals.passed += 1;
  else {
    totals.failed += 1;
    failures.push(label);
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
check('typecheck: packages and apps', process.execPath, [tsc, '-b']);
check('typecheck: renderer', process.execPath, [tsc, '-p', 'apps/renderer/tsconfig.json']);
check('typecheck: tests', process.execPath, [tsc, '-p', 'tsconfig.test.json']);
check('typecheck: e2e', process.execPath, [tsc, '-p', 'e2e/tsconfig.json']);
check('build: renderer', 'npm', ['run', 'build', '-w', '@keel/renderer', '--silent']);

// Unit and integration tests.
const vitestReport = path.join(reports, 'vitest.json');
fs.rmSync(vitestReport, { force: true });
const vitestOk = run('vitest', process.execPath, [
  path.join(root, 'node_modules', 'vitest', 'vitest.mjs'),
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${vitestReport}`,
]);
const vitest = readJson(vitestReport);
if (vitest) {
  totals.passed += vitest.numPassedTests;
  totals.failed += vitest.numFailedTests;
  totals.skipped += vitest.numPendingTests + vitest.numTodoTests;
  if (!vitestOk && vitest.numFailedTests === 0) {
    totals.failed += 1; // e.g. a suite that failed to load, or an unhandled error
    failures.push('vitest (run failed outside any test)');
  } else if (vitest.numFailedTests > 0) failures.push('vitest');
} else {
  totals.failed += 1;
  failures.push('vitest (no report)');
}

check('security: Electronegativity scan of apps/main', process.execPath, [path.join(root, 'scripts', 'electronegativity.mjs')]);

// Browser end-to-end tests.
const playwrightReport = path.join(root, 'e2e', 'artifacts', 'playwright-report.json');
fs.rmSync(playwrightReport, { force: true });
const playwrightOk = run('playwright', process.execPath, [
  path.join(root, 'node_modules', '@playwright', 'test', 'cli.js'),
  'test',
  '-c',
  'e2e/playwright.config.ts',
]);
const playwright = readJson(playwrightReport);
// A skipped spec says why (e.g. no Electron binary here): print its reason.
function* specsOf(suite) {
  for (const spec of suite.specs ?? []) yield spec;
  for (const child of suite.suites ?? []) yield* specsOf(child);
}
for (const spec of (playwright?.suites ?? []).flatMap((suite) => [...specsOf(suite)])) {
  for (const test of spec.tests ?? []) {
    if (test.status !== 'skipped') continue;
    const reasons = (test.annotations ?? []).filter((a) => a.type === 'skip').map((a) => a.description).filter(Boolean);
    process.stdout.write(`skipped: ${spec.title} — ${reasons.join('; ') || 'no reason given'}\n`);
  }
}
if (playwright?.stats) {
  const { expected, unexpected, skipped, flaky } = playwright.stats;
  totals.passed += expected + flaky;
  totals.failed += unexpected;
  totals.skipped += skipped;
  if (!playwrightOk && unexpected === 0) {
    totals.failed += 1;
    failures.push('playwright (run failed outside any test)');
  } else if (unexpected > 0) failures.push('playwright');
} else {
  totals.failed += 1;
  failures.push('playwright (no report)');
}

if (failures.length > 0) process.stdout.write(`\nFailed: ${failures.join('; ')}\n`);
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exitCode = totals.failed === 0 ? 0 : 1;
