// `keel reliability` (a real process over real faults, a reduced scenario set) and the pre-push
// hook installer (a real git repository): clear errors for bad input, a schema-valid scorecard
// written to --out, and a hook installed once, never over someone else's, removable.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scorecard } from '@keel/core';
import { removeTempDirs, repoRoot, requireBuilt, runKeel, tempDir } from '../../../packages/core/test/fixtures/runtime-kit.js';

beforeAll(requireBuilt);
afterAll(removeTempDirs);

describe('keel reliability', () => {
  it('runs the chosen scenarios with a seed, prints the scorecard as JSON and writes both files to --out; exit 0 when every SLO is met', { timeout: 120_000 }, async () => {
    const out = tempDir('keel-rel-cli-');
    const result = await runKeel(['reliability', '--scenario', 'torn-tail', 'mid-file-damage', '--seed', '5', '--json', '--out', out], { guardMs: 110_000 });
    expect(result.code, result.stderr).toBe(0);
    const card = Scorecard.parse(JSON.parse(result.stdout));
    expect(card).toMatchObject({ seed: 5, profile: 'quick', verdict: 'pass' });
    // Each finished scenario is said on stderr as it ends, --json or not.
    expect(result.stderr).toMatch(/\[1\/2\] torn-tail +passed +10\/10 recovered/);
    expect(result.stderr).toMatch(/\[2\/2\] mid-file-damage +passed +5\/5 recovered/);
    expect(card.scenarios.map((scenario) => [scenario.name, scenario.verdict, scenario.counters.attempts])).toEqual([
      ['torn-tail', 'passed', 10],
      ['mid-file-damage', 'passed', 5],
    ]);
    const files = fs.readdirSync(out).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^scorecard-\d{8}T\d{9}Z\.json$/);
    expect(files[1]).toBe(files[0]!.replace('.json', '.md'));
    expect(Scorecard.parse(JSON.parse(fs.readFileSync(path.join(out, files[0]!), 'utf8')))).toEqual(card);
  });

  it('exits 1 and prints MISS when a measured SLO misses its target (a real recovery against a 0 ms p95 target), the scenario itself passing', { timeout: 150_000 }, async () => {
    const out = tempDir('keel-rel-miss-');
    const result = await runKeel(['reliability', '--scenario', 'agent-kill-mid-stream', '--seed', '5', '--target', 'recovery_p95=0', '--out', out], { guardMs: 140_000 });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('Keel reliability scorecard: FAIL');
    expect(result.stdout).toMatch(/MISS\s+Recovery time p95/);
    const json = fs.readdirSync(out).find((name) => name.endsWith('.json'))!;
    const card = Scorecard.parse(JSON.parse(fs.readFileSync(path.join(out, json), 'utf8')));
    expect(card.scenarios.map((scenario) => scenario.verdict)).toEqual(['passed']);
    const p95 = card.slos.find((slo) => slo.id === 'recovery_p95')!;
    expect(p95).toMatchObject({ target: 0, verdict: 'missed' });
    expect(p95.value).toBeGreaterThan(0);
    expect(card.slos.filter((slo) => slo.verdict === 'missed').map((slo) => slo.id)).toEqual(['recovery_p95']);
    expect(card.verdict).toBe('fail');
  });

  it('refuses an unknown scenario, a bad seed, two profiles and a bad target, in plain words, with exit 1', { timeout: 90_000 }, async () => {
    const unknown = await runKeel(['reliability', '--scenario', 'meteor-strike']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('There is no scenario "meteor-strike". Scenarios: agent-kill-mid-stream');
    const seed = await runKeel(['reliability', '--seed', '1.5']);
    expect(seed.code).toBe(1);
    expect(seed.stderr).toContain('--seed must be an integer from 0 to 4294967295, got "1.5".');
    const both = await runKeel(['reliability', '--quick', '--full']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('Choose one of --quick and --full.');
    const target = await runKeel(['reliability', '--target', 'speed=3']);
    expect(target.code).toBe(1);
    expect(target.stderr).toContain('There is no SLO "speed". SLOs: recovery_success');
    const shape = await runKeel(['reliability', '--target', 'recovery_p95']);
    expect(shape.code).toBe(1);
    expect(shape.stderr).toContain('--target must look like recovery_p95=2000, got "recovery_p95".');
  });
});

describe('npm run hooks:install', () => {
  const installer = path.join(repoRoot, 'scripts', 'hooks-install.mjs');
  const install = (repo: string, ...args: string[]) => spawnSync(process.execPath, [installer, '--repo', repo, ...args], { encoding: 'utf8' });

  it('installs the pre-push hook, is idempotent, removes only its own hook, and never overwrites a foreign one', () => {
    const repo = tempDir('keel-hooks-');
    expect(spawnSync('git', ['init', '-q', repo]).status).toBe(0);
    const hook = path.join(repo, '.git', 'hooks', 'pre-push');

    const first = install(repo);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('Installed');
    const body = fs.readFileSync(hook, 'utf8');
    expect(body).toContain('npm run --silent prepush');
    expect(fs.statSync(hook).mode & 0o111).not.toBe(0);
    const again = install(repo);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('already installed');
    expect(fs.readFileSync(hook, 'utf8')).toBe(body);

    expect(install(repo, '--remove').status).toBe(0);
    expect(fs.existsSync(hook)).toBe(false);
    expect(install(repo, '--remove').stdout).toContain('nothing to remove');

    const foreign = '#!/bin/sh\necho my own hook\n';
    fs.writeFileSync(hook, foreign, { mode: 0o755 });
    const refused = install(repo);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('was not written by Keel');
    expect(install(repo, '--remove').status).toBe(1);
    expect(fs.readFileSync(hook, 'utf8')).toBe(foreign);
  });

  it('says so when the folder is not a git repository', () => {
    const plain = tempDir('keel-hooks-plain-');
    const result = install(plain);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('is not a git repository');
  });
});
