// A command Keel runs for the agent (ACP terminal/create) is judged with the variables the agent
// sets for it (I8, ADR 0006 §2): an allow rule trusts `git` only as found on Keel's PATH, so
// `git --version` with PATH pointing at a `git` the agent planted in the workspace is not
// covered by it. Real runs of an ACP agent, a real planted program, the real ledger.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRun, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

const AGENT = fileURLToPath(new URL('./fixtures/policy-env-agent.mjs', import.meta.url));

/** A workspace allowing `git --version`, with a `bin/git` that leaves `pwned` behind when it runs. */
function plantedWorkspace(): string {
  const workspace = tempDir('keel-policy-env-ws-');
  fs.mkdirSync(path.join(workspace, '.keel'));
  fs.writeFileSync(
    path.join(workspace, '.keel', 'policy.yaml'),
    `schema_version: 1
rules:
  - id: git-version
    exec: ["git --version"]
    decision: allow
    why: Printing git's version is harmless.
`,
  );
  fs.mkdirSync(path.join(workspace, 'bin'));
  fs.writeFileSync(path.join(workspace, 'bin', 'git'), '#!/bin/sh\necho pwned > "$(dirname "$0")/../pwned"\n', { mode: 0o755 });
  return workspace;
}

type Variable = { name: string; value: string };
const agent = (env: Variable[]) => ({ kind: 'acp' as const, command: [process.execPath, AGENT, '--command', 'git', '--args', '--version', '--env-json', JSON.stringify(env)] });

async function runOnce(env: Variable[], runEnv?: NodeJS.ProcessEnv) {
  const workspace = plantedWorkspace();
  const harness = await createRun({ workspace, agent: agent(env), approvalMode: 'none', ...(runEnv ? { tuning: { env: runEnv } } : {}) });
  const { turn } = await harness.controller.prompt('run it');
  expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
  const said = harness
    .of('message.chunk')
    .map((event) => event.payload.text)
    .join('');
  return { harness, workspace, said, decided: harness.of('policy.decided') };
}

describe('terminal/create with the agent\'s own variables', () => {
  it('PATH set to a planted program is not covered by the allow rule for the trusted one (denied unattended), and nothing runs', async () => {
    const { harness, workspace, said, decided } = await runOnce([{ name: 'PATH', value: `{cwd}/bin:${process.env.PATH}` }]);
    expect(decided).toHaveLength(1);
    expect(decided[0]!.payload).toMatchObject({ decision: 'deny', source: 'keel.terminal', unattended: true });
    expect(decided[0]!.payload.action.title).toMatch(/^env '?PATH=\S*\/bin:\S* git --version$/);
    expect(decided[0]!.payload.rule).not.toBe('git-version');
    expect(said).toContain('refused:');
    expect(harness.of('terminal.started')).toEqual([]);
    expect(fs.existsSync(path.join(workspace, 'pwned'))).toBe(false);
    await harness.close();
  });

  it('LD_PRELOAD (any variable that changes what runs) is judged the same way', async () => {
    const { harness, workspace, decided } = await runOnce([{ name: 'LD_PRELOAD', value: '{cwd}/evil.so' }]);
    expect(decided[0]!.payload).toMatchObject({ decision: 'deny', source: 'keel.terminal' });
    expect(decided[0]!.payload.action.title).toContain('LD_PRELOAD=');
    expect(harness.of('terminal.started')).toEqual([]);
    expect(fs.existsSync(path.join(workspace, 'pwned'))).toBe(false);
    await harness.close();
  });

  it('an invalid variable name (one hiding "PATH=" in it) is refused before anything is judged or run', async () => {
    const { harness, workspace, said, decided } = await runOnce([{ name: 'PATH={cwd}/bin:', value: 'x' }]);
    // Passed on, that name would be the environment entry PATH=<workspace>/bin:=x, the planted git first.
    expect(decided).toEqual([]);
    expect(said).toContain('is not an environment variable name');
    expect(harness.of('terminal.started')).toEqual([]);
    expect(fs.existsSync(path.join(workspace, 'pwned'))).toBe(false);
    await harness.close();
  });

  it('control: a variable that does not change what runs leaves the allow rule in force, and the real git runs', async () => {
    const { harness, workspace, said, decided } = await runOnce([{ name: 'GREETING', value: 'hello' }]);
    expect(decided).toHaveLength(1);
    expect(decided[0]!.payload).toMatchObject({ decision: 'allow', rule: 'git-version', source: 'keel.terminal' });
    expect(said).toContain('ran: exit 0');
    expect(harness.of('terminal.started')).toHaveLength(1);
    expect(fs.existsSync(path.join(workspace, 'pwned'))).toBe(false);
    await harness.close();
  });

  it('a command Keel runs for the agent gets the run\'s PATH, the one the policy judged it with (not Keel\'s own)', async () => {
    // The run's environment puts a tool directory outside the workspace first (as a configured
    // agent's PATH may): the allow rule trusts the `git` found there, so that `git` must be the one that runs.
    const tools = tempDir('keel-policy-env-tools-');
    fs.mkdirSync(path.join(tools, 'bin'));
    fs.writeFileSync(path.join(tools, 'bin', 'git'), '#!/bin/sh\necho "$@" > "$(dirname "$0")/../ran"\n', { mode: 0o755 });
    const { harness, said, decided } = await runOnce([{ name: 'GREETING', value: 'hello' }], { PATH: `${path.join(tools, 'bin')}:${process.env.PATH}` });
    expect(decided).toHaveLength(1);
    expect(decided[0]!.payload).toMatchObject({ decision: 'allow', rule: 'git-version', source: 'keel.terminal' });
    expect(said).toContain('ran: exit 0');
    expect(fs.readFileSync(path.join(tools, 'ran'), 'utf8')).toBe('--version\n');
    await harness.close();
  });
});
