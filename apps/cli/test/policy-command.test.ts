// `keel policy validate | explain | init` end to end: the real CLI process on real files.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUE_POLICY } from '../../../packages/core/test/fixtures/policy-kit.js';
import { removeTempDirs, requireBuilt, runKeel, tempDir } from '../../../packages/core/test/fixtures/runtime-kit.js';

let data: string;
let workspace: string;
let policyFile: string;

beforeAll(() => {
  requireBuilt();
  data = fs.realpathSync(tempDir('keel-cli-policy-data-'));
  workspace = fs.realpathSync(tempDir('keel-cli-policy-ws-'));
  policyFile = path.join(workspace, 'issue-policy.yaml');
  fs.writeFileSync(policyFile, ISSUE_POLICY);
});
afterAll(removeTempDirs);

const keel = (args: string[]) => runKeel(['policy', ...args], { cwd: workspace });

describe('keel policy explain', () => {
  it("the issue's acceptance: FOO=1 bash -c 'npm test && git push --force' is denied by no-force-push (--json)", async () => {
    const result = await keel(['explain', '--data', data, '--workspace', workspace, '--policy', policyFile, '--json', '--command', "FOO=1 bash -c 'npm test && git push --force'"]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { decision: string; rule: string; why: string; policy_hash: string; actions: Array<Record<string, unknown>> };
    expect(out).toMatchObject({ decision: 'deny', rule: 'no-force-push', why: 'History on shared branches is never rewritten.' });
    expect(out.policy_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(out.actions.map((action) => [action.kind, action.decision, action.rule])).toEqual([
      ['exec', 'allow', 'keel.wrappers'],
      ['exec', 'allow', 'tests'],
      ['push', 'deny', 'no-force-push'],
    ]);
    expect(Object.keys(out.actions[2]!).slice(0, 5)).toEqual(['kind', 'decision', 'rule', 'layer', 'why']);
    expect(out.actions[2]).toMatchObject({ force: true, program: 'git', args: ['push', '--force'] });
  });

  it('prints a readable explanation without --json, the same decision', async () => {
    const result = await keel(['explain', '--data', data, '--policy', policyFile, '--command', "FOO=1 bash -c 'npm test && git push --force'"]);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe('DENY — rule no-force-push (workspace): History on shared branches is never rewritten.');
    expect(result.stdout).toMatch(/^policy [0-9a-f]{64} \(built-in \+ .*issue-policy\.yaml\)$/m);
  });

  // Six CLI processes in a row: minutes on a loaded two-core machine, not the default 30 s.
  it('--write, --read, --network and --cwd', { timeout: 120_000 }, async () => {
    const json = async (args: string[]) => JSON.parse((await keel(['explain', '--data', data, '--workspace', workspace, '--policy', policyFile, '--json', ...args])).stdout) as Record<string, unknown>;
    expect(await json(['--write', 'src/a.ts'])).toMatchObject({ decision: 'allow', rule: 'sources' });
    expect(await json(['--write', '/etc/passwd'])).toMatchObject({ decision: 'deny', rule: null, why: 'no rule: default for write_outside' });
    expect(await json(['--read', '/etc/hosts'])).toMatchObject({ decision: 'ask', why: 'no rule: default for read_outside' });
    expect(await json(['--network', 'registry.npmjs.org'])).toMatchObject({ decision: 'allow', rule: 'registry' });
    fs.mkdirSync(path.join(workspace, 'sub'), { recursive: true });
    const fromSub = await json(['--cwd', path.join(workspace, 'sub'), '--command', 'echo x > ../../escape.txt']);
    expect(fromSub).toMatchObject({ decision: 'deny' });
    expect((fromSub.actions as Array<{ paths?: string[] }>)[1]!.paths).toEqual([path.join(path.dirname(workspace), 'escape.txt')]);
    expect(await json(['--unattended', '--command', 'make'])).toMatchObject({ decision: 'deny', why: 'no rule: default for exec (unattended: ask becomes deny)' });
  });

  it('needs exactly one input, and refuses to evaluate under an invalid policy', async () => {
    const none = await keel(['explain', '--data', data, '--policy', policyFile]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/exactly one of --command, --write, --read or --network/);
    const bad = path.join(workspace, 'bad.yaml');
    fs.writeFileSync(bad, 'schema_version: 1\nrules:\n  - id: x\n    exec: ["ls"]\n    decision: sometimes\n');
    const refused = await keel(['explain', '--data', data, '--policy', bad, '--command', 'ls']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${bad}:5:15: Invalid option`);
    expect(refused.stdout).toBe('');
  });
});

describe('keel policy validate', () => {
  it('a valid file: exit 0', async () => {
    const result = await keel(['validate', policyFile]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`ok     ${policyFile}`);
  });

  it('errors with line and column, examples checked, exit 1 (--json too)', async () => {
    const bad = path.join(workspace, 'examples.yaml');
    fs.writeFileSync(bad, 'schema_version: 1\nrules:\n  - id: tests\n    exec: ["npm test"]\n    decision: allow\n    match: ["npm test --watch"]\n    colour: red\n');
    const text = await keel(['validate', bad]);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(`${bad}:7:5: unknown key "colour" (at rules[0].colour)`);
    const withExamples = path.join(workspace, 'examples2.yaml');
    fs.writeFileSync(withExamples, 'schema_version: 1\nrules:\n  - id: tests\n    exec: ["npm test"]\n    decision: allow\n    match: ["npm test --watch"]\n');
    const json = await keel(['validate', withExamples, '--json']);
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout) as { ok: boolean; files: Array<{ errors: Array<Record<string, unknown>> }> };
    expect(out.ok).toBe(false);
    expect(out.files[0]!.errors).toEqual([
      expect.objectContaining({ line: 6, column: 13, code: 'example', message: 'rule "tests" does not match its own example "npm test --watch"' }),
    ]);
  });

  it('without a file: checks the user and workspace layers that exist', async () => {
    const ws = fs.realpathSync(tempDir('keel-cli-policy-validate-'));
    const result = await runKeel(['policy', 'validate', '--data', data, '--workspace', ws, '--json']);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { ok: boolean; files: Array<{ skipped?: boolean }>; policy_hash: string };
    expect(out.ok).toBe(true);
    expect(out.files.every((file) => file.skipped)).toBe(true);
    expect(out.policy_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('keel policy init', () => {
  it('writes a commented starter that validates, and refuses to overwrite it', async () => {
    const ws = fs.realpathSync(tempDir('keel-cli-policy-init-'));
    const first = await runKeel(['policy', 'init', '--workspace', ws]);
    expect(first.code).toBe(0);
    const file = path.join(ws, '.keel', 'policy.yaml');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^# Keel policy/);
    const valid = await runKeel(['policy', 'validate', '--data', data, '--workspace', ws]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain(`ok     ${file}`);
    const again = await runKeel(['policy', 'init', '--workspace', ws]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });
});
