// Policy files: every malformed case is refused with its line and column; valid files load in
// layers; the JSON Schema of the format is a checked-in snapshot.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyAction, PolicyFile, policyFileJsonSchema } from '../src/contract/index.js';
import {
  BUILTIN_POLICY,
  formatPolicyError,
  loadPolicy,
  loadShellParser,
  parsePolicyText,
  STARTER_POLICY,
  validatePolicyText,
  writeStarterPolicy,
  type PolicyError,
} from '../src/policy/index.js';
import { CORPUS_POLICY, ISSUE_POLICY } from './fixtures/policy-kit.js';
import { tempDir } from './helpers.js';

beforeAll(loadShellParser);
const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});
const dir = (prefix: string) => {
  const created = fs.realpathSync(tempDir(prefix));
  made.push(created);
  return created;
};

async function errorsOf(text: string): Promise<PolicyError[]> {
  const result = await validatePolicyText(text, 'policy.yaml');
  if (result.ok) throw new Error('expected the policy to be refused');
  return result.errors;
}
const brief = (errors: PolicyError[]) => errors.map((error) => ({ line: error.line, column: error.column, code: error.code, path: error.path.join('.') }));

describe('malformed policy files: refused, each error with line and column', () => {
  it('an unknown key (a typo never silently weakens a policy)', async () => {
    const errors = await errorsOf('schema_version: 1\nrules:\n  - id: a\n    exec: ["npm test"]\n    decision: allow\n    decison: deny\n');
    expect(brief(errors)).toEqual([{ line: 6, column: 5, code: 'schema', path: 'rules.0.decison' }]);
    expect(errors[0]!.message).toBe('unknown key "decison"');
  });

  it('an unknown top-level key and an unknown default', async () => {
    const errors = await errorsOf('schema_version: 1\ndefaults:\n  exec: ask\n  write: allow\nrule: []\n');
    expect(brief(errors)).toEqual([
      { line: 4, column: 3, code: 'schema', path: 'defaults.write' },
      { line: 5, column: 1, code: 'schema', path: 'rule' },
    ]);
  });

  it('a wrong type', async () => {
    const errors = await errorsOf('schema_version: 1\nrules:\n  - id: a\n    exec: "npm test"\n    decision: allow\n');
    expect(brief(errors)).toEqual([{ line: 4, column: 11, code: 'schema', path: 'rules.0.exec' }]);
    expect(errors[0]!.message).toMatch(/expected array, received string/);
  });

  it('a bad decision, in a rule and in the defaults', async () => {
    const errors = await errorsOf('schema_version: 1\ndefaults:\n  exec: yes\nrules:\n  - id: a\n    exec: ["npm test"]\n    decision: maybe\n');
    expect(brief(errors)).toEqual([
      { line: 3, column: 9, code: 'schema', path: 'defaults.exec' },
      { line: 7, column: 15, code: 'schema', path: 'rules.0.decision' },
    ]);
    expect(errors[1]!.message).toMatch(/"allow"\|"ask"\|"deny"/);
  });

  it('a missing decision', async () => {
    const errors = await errorsOf('schema_version: 1\nrules:\n  - id: a\n    exec: ["npm test"]\n');
    expect(brief(errors)).toEqual([{ line: 3, column: 5, code: 'schema', path: 'rules.0.decision' }]);
    expect(errors[0]!.message).toBe('missing required key "decision"');
  });

  it('a duplicate rule id', async () => {
    const errors = await errorsOf('schema_version: 1\nrules:\n  - id: tests\n    exec: ["npm test"]\n    decision: allow\n  - id: tests\n    exec: ["ls"]\n    decision: allow\n');
    expect(brief(errors)).toEqual([{ line: 6, column: 9, code: 'schema', path: 'rules.1.id' }]);
    expect(errors[0]!.message).toBe('duplicate rule id "tests" (also rules[0])');
  });

  it('an example that contradicts its rule (match and not_match)', async () => {
    const errors = await errorsOf(
      'schema_version: 1\nrules:\n  - id: tests\n    exec: ["npm test"]\n    decision: allow\n    match: ["npm test", "npm test --watch"]\n    not_match: ["npm test"]\n',
    );
    expect(brief(errors)).toEqual([
      { line: 6, column: 25, code: 'example', path: 'rules.0.match.1' },
      { line: 7, column: 17, code: 'example', path: 'rules.0.not_match.0' },
    ]);
    expect(errors.map((error) => error.message)).toEqual([
      'rule "tests" does not match its own example "npm test --watch"',
      'rule "tests" matches "npm test", listed under not_match',
    ]);
  });

  it('examples of path, network, push and deps rules are checked by their meaning', async () => {
    const ok = await validatePolicyText(
      [
        'schema_version: 1',
        'rules:',
        '  - { id: src, write: ["src/**"], decision: allow, match: ["src/a.ts", "src/x/y.ts"], not_match: ["lib/a.ts", "/etc/src/x"] }',
        '  - { id: keys, read: ["~/.ssh/**"], decision: deny, match: ["~/.ssh/id_rsa"], not_match: [".ssh/id_rsa"] }',
        '  - { id: reg, network: ["*.npmjs.org"], decision: allow, match: ["registry.npmjs.org", "curl https://registry.npmjs.org/x"], not_match: ["npmjs.org.evil.example"] }',
        '  - { id: force, push: { force: true }, decision: deny, match: ["git push -f", "git -C x push origin +main"], not_match: ["git push origin main"] }',
        '  - { id: zod, deps: ["zod"], decision: allow, match: ["npm i zod@3"], not_match: ["npm i zod-evil"] }',
      ].join('\n'),
    );
    expect(ok.ok ? [] : ok.errors.map(formatPolicyError)).toEqual([]);
    const errors = await errorsOf('schema_version: 1\nrules:\n  - { id: src, write: ["src/**"], decision: allow, match: ["lib/a.ts"] }\n');
    expect(brief(errors)).toEqual([{ line: 3, column: 60, code: 'example', path: 'rules.0.match.0' }]);
  });

  it('a YAML syntax error', async () => {
    const errors = await errorsOf('schema_version: 1\nrules:\n  - id: a\n    exec: ["npm test"\n    decision: allow\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'yaml', line: 5, column: 5 });
    expect(errors[0]!.message).toMatch(/^YAML: /);
  });

  it('a duplicate key and a tab indent are YAML errors too', async () => {
    expect(brief(await errorsOf('schema_version: 1\nschema_version: 1\n'))).toEqual([{ line: 2, column: 1, code: 'yaml', path: '' }]);
    expect((await errorsOf('schema_version: 1\nrules:\n\t- id: a\n'))[0]).toMatchObject({ code: 'yaml', line: 3 });
  });

  it('an unsupported schema_version, an empty file, a rule with no or two matchers, a program given by path', async () => {
    expect((await errorsOf('schema_version: 2\n'))[0]).toMatchObject({ line: 1, column: 17, message: 'this Keel reads policy schema_version 1; the file says 2' });
    expect((await errorsOf(''))[0]).toMatchObject({ line: 1, column: 1, code: 'schema' });
    expect((await errorsOf('rules: []\n'))[0]).toMatchObject({ message: 'missing required key "schema_version"' });
    expect((await errorsOf('schema_version: 1\nrules:\n  - id: a\n    decision: allow\n'))[0]).toMatchObject({ line: 3, column: 5, message: expect.stringMatching(/exactly one of exec/) });
    expect((await errorsOf('schema_version: 1\nrules:\n  - id: a\n    exec: ["x"]\n    write: ["y"]\n    decision: allow\n'))[0]).toMatchObject({ line: 5, column: 12, path: ['rules', 0, 'write'] });
    expect((await errorsOf('schema_version: 1\nrules:\n  - id: a\n    exec: ["/usr/bin/git status"]\n    decision: allow\n'))[0]).toMatchObject({ line: 4, column: 12, message: expect.stringMatching(/bare name/) });
    expect((await errorsOf('schema_version: 1\nrules:\n  - id: a\n    write: ["!src/**"]\n    decision: allow\n'))[0]).toMatchObject({ line: 4, column: 13, message: expect.stringMatching(/negated/) });
    expect((await errorsOf('schema_version: 1\nrules:\n  - id: "bad id"\n    exec: ["x"]\n    decision: allow\n'))[0]).toMatchObject({ line: 3, column: 9 });
    expect((await errorsOf('schema_version: 1\ndeps:\n  mode: loose\n'))[0]).toMatchObject({ line: 3, column: 9, path: ['deps', 'mode'] });
    expect((await errorsOf('schema_version: 1\ndefaults:\n  unattended_ask: ask\n'))[0]).toMatchObject({ line: 3, column: 19 });
  });

  it('formats an error as file:line:column: message (at path)', async () => {
    const [error] = await errorsOf('schema_version: 1\nrules:\n  - id: a\n    exec: ["npm test"]\n    decision: maybe\n');
    expect(formatPolicyError(error!)).toBe('policy.yaml:5:15: Invalid option: expected one of "allow"|"ask"|"deny" (at rules[0].decision)');
  });
});

describe('valid policy files', () => {
  it("the issue's example, the corpus policy, the built-in layer and the starter file all validate", async () => {
    for (const text of [ISSUE_POLICY, CORPUS_POLICY, STARTER_POLICY]) {
      const result = await validatePolicyText(text);
      expect(result.ok ? [] : result.errors.map(formatPolicyError)).toEqual([]);
    }
    expect(PolicyFile.safeParse(BUILTIN_POLICY).success).toBe(true);
  });

  it('PolicyAction validates every kind of normalised action', () => {
    const actions: unknown[] = [
      { kind: 'exec', program: 'npm', args: ['test'], cwd: '/w' },
      { kind: 'exec', program: null, args: [], unknown: 'not statically known', unparseable: true },
      { kind: 'write', target: 'out.txt', paths: ['/w/out.txt'], inside: true },
      { kind: 'read', paths: ['/etc/passwd'], inside: false },
      { kind: 'network', host: 'registry.npmjs.org', port: 443, program: 'curl', args: ['https://registry.npmjs.org'] },
      { kind: 'deps', manager: 'npm', packages: ['zod'] },
      { kind: 'push', remote: 'origin', branch: 'main', refspecs: ['+main'], force: true },
    ];
    for (const action of actions) expect(PolicyAction.safeParse(action).success).toBe(true);
    expect(PolicyAction.safeParse({ kind: 'exec', args: [] }).success).toBe(false);
    expect(PolicyAction.safeParse({ kind: 'delete', paths: [] }).success).toBe(false);
  });

  it('the JSON Schema of the policy file matches the checked-in snapshot', async () => {
    const schema = policyFileJsonSchema();
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['schema_version'] });
    await expect(`${JSON.stringify(schema, null, 2)}\n`).toMatchFileSnapshot('./__snapshots__/policy-file.schema.json');
  });
});

describe('loading the layers', () => {
  it('built-in, then <data>/policy.yaml, then <workspace>/.keel/policy.yaml; missing files are no layer', async () => {
    const data = dir('keel-policy-data-');
    const workspace = dir('keel-policy-ws-');
    const none = await loadPolicy({ dataDir: data, workspace });
    expect(none.ok && none.policy.layers.map((layer) => layer.name)).toEqual(['builtin']);
    expect(none.ok && none.files).toEqual([]);

    fs.writeFileSync(path.join(data, 'policy.yaml'), 'schema_version: 1\ndefaults:\n  network: allow\n  exec: deny\nrules:\n  - { id: user-ls, exec: ["ls *"], decision: allow }\n');
    fs.mkdirSync(path.join(workspace, '.keel'));
    fs.writeFileSync(path.join(workspace, '.keel', 'policy.yaml'), 'schema_version: 1\ndefaults:\n  exec: ask\nrules:\n  - { id: ws-ls, exec: ["ls *"], decision: deny }\non_violation: stop\n');
    const both = await loadPolicy({ dataDir: data, workspace });
    if (!both.ok) throw new Error(both.errors.map(formatPolicyError).join('\n'));
    expect(both.policy.layers.map((layer) => layer.name)).toEqual(['builtin', 'user', 'workspace']);
    expect(both.files).toEqual([path.join(data, 'policy.yaml'), path.join(workspace, '.keel', 'policy.yaml')]);
    // Defaults: the last layer that sets a key wins.
    expect(both.policy.defaults).toMatchObject({ exec: 'ask', network: 'allow', write_outside: 'deny' });
    expect(both.policy.defaultLayers).toMatchObject({ exec: 'workspace', network: 'user', write_outside: 'builtin' });
    expect(both.policy.onViolation).toBe('stop');
    // Rules: all of them, in layer order.
    expect(both.policy.rules.map((rule) => `${rule.layer}:${rule.id}`)).toEqual(['builtin:keel.shell-builtins', 'builtin:keel.wrappers', 'builtin:keel.policy-files', 'user:user-ls', 'workspace:ws-ls']);
    expect(both.policy.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(both.policy.hash).not.toBe(none.ok && none.policy.hash);
  });

  it('the hash is of the canonical JSON of the layers: formatting and key order do not change it, content does', async () => {
    const a = dir('keel-policy-hash-a-');
    const b = dir('keel-policy-hash-b-');
    for (const ws of [a, b]) fs.mkdirSync(path.join(ws, '.keel'));
    fs.writeFileSync(path.join(a, '.keel', 'policy.yaml'), 'schema_version: 1\nrules:\n  - id: x\n    exec: ["ls *"]\n    decision: allow\n');
    fs.writeFileSync(path.join(b, '.keel', 'policy.yaml'), '# same policy\nrules: [{decision: allow, exec: ["ls *"], id: x}]\nschema_version: 1\n');
    const [first, second] = await Promise.all([loadPolicy({ workspace: a }), loadPolicy({ workspace: b })]);
    expect(first.ok && second.ok && first.policy.hash === second.policy.hash).toBe(true);
    fs.writeFileSync(path.join(b, '.keel', 'policy.yaml'), 'schema_version: 1\nrules: [{decision: deny, exec: ["ls *"], id: x}]\n');
    const third = await loadPolicy({ workspace: b });
    expect(first.ok && third.ok && first.policy.hash !== third.policy.hash).toBe(true);
  });

  it('an invalid file fails the whole load with its errors (the caller keeps the last valid policy)', async () => {
    const data = dir('keel-policy-bad-');
    fs.writeFileSync(path.join(data, 'policy.yaml'), 'schema_version: 1\nrules:\n  - id: a\n    exec: ["x"]\n    decision: perhaps\n');
    const result = await loadPolicy({ dataDir: data });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map(formatPolicyError)).toEqual([`${path.join(data, 'policy.yaml')}:5:15: Invalid option: expected one of "allow"|"ask"|"deny" (at rules[0].decision)`]);
  });

  it('an explicit file replaces the workspace layer, and must exist', async () => {
    const ws = dir('keel-policy-explicit-');
    const file = path.join(ws, 'other.yaml');
    fs.writeFileSync(file, ISSUE_POLICY);
    const loaded = await loadPolicy({ workspace: ws, file });
    expect(loaded.ok && loaded.policy.rules.map((rule) => rule.id)).toEqual(['keel.shell-builtins', 'keel.wrappers', 'keel.policy-files', 'tests', 'no-force-push', 'sources', 'registry']);
    const missing = await loadPolicy({ workspace: ws, file: path.join(ws, 'nope.yaml') });
    expect(!missing.ok && missing.errors[0]!.code).toBe('io');
  });

  it('writeStarterPolicy writes a valid commented file and never overwrites one', async () => {
    const ws = dir('keel-policy-init-');
    const file = writeStarterPolicy(ws);
    expect(file).toBe(path.join(ws, '.keel', 'policy.yaml'));
    expect(fs.readFileSync(file, 'utf8')).toBe(STARTER_POLICY);
    expect(parsePolicyText(STARTER_POLICY).ok).toBe(true);
    expect(() => writeStarterPolicy(ws)).toThrow(/already exists/);
    expect(fs.readdirSync(path.join(ws, '.keel'))).toEqual(['policy.yaml']);
  });
});
