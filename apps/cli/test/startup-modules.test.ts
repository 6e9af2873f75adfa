// Start-up (issue 16 item 4), seen through the modules a real process resolves (a module hook
// reports each): `keel --version` loads only the version; `keel runs` on a quiet data directory without run list marks loads
// the ledger's SQLite half and the quiet listing only — no commander, no zod, no contract schemas, no runtime;
// and importing Keel at all (every other command, the host) loads neither the OpenTelemetry SDK
// nor pg nor secretlint, which load with their first use.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunSummary } from '@keel/core';
import { openLedger } from '@keel/core';
import { removeTempDirs, repoRoot, requireBuilt, runKeel, tempDir } from '../../../packages/core/test/fixtures/runtime-kit.js';
import { buildProgram } from '../src/program.js';

let hooks: string;

beforeAll(() => {
  requireBuilt();
  hooks = tempDir('keel-cli-hooks-');
  fs.writeFileSync(
    path.join(hooks, 'hooks.mjs'),
    "import fs from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  const result = await next(specifier, context);\n  fs.writeSync(2, `RESOLVED ${result.url}\\n`);\n  return result;\n}\n",
  );
  fs.writeFileSync(path.join(hooks, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
});
afterAll(removeTempDirs);

/** A data directory with one finished run, closed cleanly (so its ledger is quiet). */
async function quietDataDir(): Promise<{ data: string; runId: string }> {
  const data = tempDir('keel-cli-quiet-');
  const ledger = await openLedger({ dataDir: data });
  const runId = ledger.newRunId();
  await ledger.append(runId, { type: 'run.created', payload: { workspace: data, agent: { kind: 'builtin', script: 'hello' } } });
  await ledger.append(runId, { type: 'run.state', payload: { state: 'completed', stopReason: 'end_turn' } });
  await ledger.close();
  return { data, runId };
}

async function listWithModules(data: string): Promise<{ runs: RunSummary[]; modules: string[] }> {
  const result = await runKeel(['runs', '--data', data, '--json'], { env: { NODE_OPTIONS: `--import=${path.join(hooks, 'register.mjs')}` } });
  expect(result.code, result.stderr).toBe(0);
  const modules = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('RESOLVED '))
    .map((line) => line.slice('RESOLVED '.length));
  return { runs: JSON.parse(result.stdout) as RunSummary[], modules };
}

/** The modules a plain `import('@keel/core')` resolves, in a fresh Node. */
function modulesOfImportingKeel(): string[] {
  const script = path.join(hooks, 'import-keel.mjs');
  fs.writeFileSync(script, `await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, 'packages/core/dist/index.js')).href)});\n`);
  const result = spawnSync(process.execPath, ['--import', path.join(hooks, 'register.mjs'), script], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stderr
    .split('\n')
    .filter((line) => line.startsWith('RESOLVED '))
    .map((line) => line.slice('RESOLVED '.length));
}

describe('start-up modules', () => {
  it('importing Keel loads neither the OpenTelemetry SDK nor pg nor secretlint (they load on first use)', () => {
    const modules = modulesOfImportingKeel();
    expect(modules.some((url) => url.endsWith('/ledger/index.js'))).toBe(true);
    const heavy = modules.filter((url) => /\/node_modules\/(@opentelemetry|pg|@secretlint)\//.test(url));
    expect(heavy).toEqual([]);
  });

  it('keel --version prints the version loading nothing but it: no commander, no command, no ledger', async () => {
    const result = await runKeel(['--version'], { env: { NODE_OPTIONS: `--import=${path.join(hooks, 'register.mjs')}` } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const keelModules = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('RESOLVED file:'))
      .map((line) => line.slice('RESOLVED '.length))
      .filter((url) => !url.includes('/hooks'));
    expect(keelModules.map((url) => url.split('/').slice(-2).join('/'))).toEqual(['bin/keel.js', 'dist/bin.js', 'contract/version.js']);
  });

  it('lists a quiet ledger without marks loading neither commander nor zod nor the contract schemas nor the runtime', async () => {
    const { data, runId } = await quietDataDir();
    const { runs, modules } = await listWithModules(data);
    expect(runs.map((run) => [run.id, run.state, run.archived])).toEqual([[runId, 'completed', false]]);
    expect(modules.some((url) => url.includes('/ledger/quiet-listing.js'))).toBe(true);
    expect(modules.filter((url) => /\/node_modules\/(zod|commander)\//.test(url) || url.includes('/contract/schemas/') || url.includes('/runtime/'))).toEqual([]);
  });

  it('keel runs without commander lists exactly what it lists through commander, in every accepted shape', async () => {
    const { data } = await quietDataDir();
    const table = await runKeel(['runs', '--data', data]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^[0-9A-Z]{26} {2}builtin:hello/);
    for (const args of [['runs', `--data=${data}`], ['runs', '--data', data, '--json'], ['runs', '--json', '--data', data]]) {
      const result = await runKeel(args);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(args.includes('--json') ? JSON.stringify(JSON.parse(result.stdout), null, 2) + '\n' : table.stdout);
    }
    // The same data directory from the environment, as commander's --data default.
    const fromEnv = await runKeel(['runs'], { env: { KEEL_DATA_DIR: data } });
    expect(fromEnv.stdout).toBe(table.stdout);
    // Through commander (the whole program, in this process): the same bytes.
    for (const args of [['runs', '--data', data], ['runs', '--data', data, '--json']]) {
      const written: string[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
      try {
        await buildProgram().parseAsync(['node', 'keel', ...args]);
      } finally {
        spy.mockRestore();
      }
      const fast = await runKeel(args);
      expect(written.join('')).toBe(fast.stdout);
    }
  });

  it('any other shape of keel runs goes through commander: its help, its errors, its subcommands', async () => {
    const { data } = await quietDataDir();
    const help = await runKeel(['runs', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: keel runs [options] [command]');
    const unknown = await runKeel(['runs', '--data', data, '--bogus']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("error: unknown option '--bogus'");
    const missing = await runKeel(['runs', '--data']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("error: option '--data <dir>' argument missing");
    const subcommand = await runKeel(['runs', 'archive', '--help']);
    expect(subcommand.code).toBe(0);
    expect(subcommand.stdout).toContain('Usage: keel runs archive');
  });

  it('with run list marks present it reads them (and only then loads the schemas that check the file)', async () => {
    const { data, runId } = await quietDataDir();
    fs.writeFileSync(path.join(data, 'run-list.json'), JSON.stringify({ schema_version: 1, runs: { [runId]: { archivedAt: new Date().toISOString() } } }));
    const { runs, modules } = await listWithModules(data);
    expect(runs.map((run) => [run.id, run.archived])).toEqual([[runId, true]]);
    expect(modules.some((url) => url.includes('/node_modules/zod/'))).toBe(true);
  });
});
