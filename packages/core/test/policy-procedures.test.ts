// The Policy view's procedures and "Always allow this" over the contract (issue 11): a real
// workstation, a real run of the built-in agent, real files. A proposed rule is a diff nothing
// writes; adding it validates, writes atomically, refuses a file that changed since, is
// recorded in the run, reloads the policy and allows the request that asked.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type PolicyLoadedPayload } from '../src/contract/index.js';
import { memoryTransport } from '../src/host/router.js';
import { openWorkstation, type Workstation } from '../src/host/workstation.js';
import { BUILTIN_POLICY, combineLayers, loadPolicy, loadShellParser, proposeRule, STARTER_POLICY, validatePolicyFile, validatePolicyText } from '../src/policy/index.js';
import { tempDir } from './helpers.js';

const opened: Workstation[] = [];
afterEach(async () => {
  for (const workstation of opened.splice(0)) await workstation.close();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const POLICY = `# The project's policy.
schema_version: 1
defaults:
  write_inside: allow   # the agent may change files here
rules:
  - id: no-force-push
    push: { force: true }
    decision: deny
`;

describe('policy procedures over the contract', () => {
  it('shows the policy, proposes a rule as a diff, adds it (validated, atomic, recorded) and the asking request is allowed', async () => {
    const dataDir = tempDir();
    const workstation = await openWorkstation({ dataDir, mode: 'headless', heartbeatMs: 60_000 });
    opened.push(workstation);
    const client = createClient(memoryTransport(workstation.router));
    const workspace = fs.realpathSync(tempDir('keel-ws-'));
    const file = path.join(workspace, '.keel', 'policy.yaml');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, POLICY);

    const run = await client.invoke('runs.create', { workspace, agent: { kind: 'builtin', script: 'edit-and-test' } });
    const controller = workstation.runs.get(run.id);
    await client.invoke('run.prompt', { runId: run.id, text: 'go' });
    await controller.waitForState((state) => state === 'awaiting_approval');
    const pending = [...controller.view.approvals.values()].find((approval) => approval.status === 'pending')!;
    expect(pending.action.kind).toBe('exec'); // the write was allowed by the file; `cat hello.txt` asks.

    const shown = await client.invoke('policy.show', { runId: run.id });
    expect(shown).toMatchObject({ workspace, valid: true, errors: [], onViolation: 'record' });
    expect(shown.hash).toBe(shown.runHash);
    expect(shown.files).toContainEqual({ layer: 'workspace', file, exists: true });
    expect(shown.rules).toContainEqual({ id: 'no-force-push', layer: 'workspace', decision: 'deny', kind: 'push', patterns: ['force: true'] });

    const proposal = await client.invoke('policy.proposeRule', { runId: run.id, approvalId: pending.approvalId });
    expect(proposal).toMatchObject({ file, before: sha256(POLICY), valid: true, errors: [], decision: 'allow' });
    expect(proposal.rules).toHaveLength(1);
    expect(proposal.rules[0]).toMatchObject({ exec: ['cat hello.txt'], decision: 'allow', match: ['cat hello.txt'] });
    expect(proposal.diff).toContain(`+  - id: ${String(proposal.rules[0]!.id)}`);
    // Only added lines: every line of the file, comments included, stays as it was.
    expect(proposal.diff.split('\n').filter((line) => line.startsWith('-') && !line.startsWith('---'))).toEqual([]);
    expect(proposal.diff.startsWith('--- a/.keel/policy.yaml\n+++ b/.keel/policy.yaml\n@@ ')).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe(POLICY); // nothing written yet

    // A file that changed since the proposal is never overwritten.
    await expect(client.invoke('policy.addRule', { runId: run.id, approvalId: pending.approvalId, before: sha256('something else') })).rejects.toMatchObject({ code: 'conflict' });
    expect(fs.readFileSync(file, 'utf8')).toBe(POLICY);

    const added = await client.invoke('policy.addRule', { runId: run.id, approvalId: pending.approvalId, before: proposal.before });
    const text = fs.readFileSync(file, 'utf8');
    expect(added).toMatchObject({ file, sha256: sha256(text) });
    expect(text.startsWith(POLICY.split('\n')[0]!)).toBe(true);
    expect(text).toContain('write_inside: allow   # the agent may change files here');
    expect((await validatePolicyFile(file)).ok).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['policy.yaml']); // no temp file left

    await controller.waitForState((state) => state === 'idle');
    const events = workstation.runs.events(run.id);
    const ruleAdded = events.find((event) => event.type === 'policy.rule_added')!;
    expect(ruleAdded.payload).toMatchObject({ file, approvalId: pending.approvalId, before: sha256(POLICY), after: sha256(text), rule: { id: proposal.rules[0]!.id } });
    const reloaded = events.filter((event) => event.type === 'policy.loaded').map((event) => event.payload as PolicyLoadedPayload);
    expect(reloaded.map((payload) => payload.reason)).toEqual(['run_start', 'rule_added']);
    expect(reloaded[1]!.hash).toBe(added.hash);
    expect(reloaded[1]!.rules.map((rule) => rule.id)).toContain(proposal.rules[0]!.id);
    const decided = events.find((event) => event.type === 'approval.decided')!;
    expect(decided.seq).toBeGreaterThan(ruleAdded.seq);
    expect(decided.payload).toMatchObject({ approvalId: pending.approvalId, decision: 'allow_once', by: 'user' });
    expect(events.some((event) => event.type === 'terminal.started')).toBe(true);

    const log = await client.invoke('policy.decisions', { runId: run.id });
    expect(log.counts).toEqual({ allow: 1, ask: 1, deny: 0, violations: 0 });
    expect(log.entries.map((entry) => entry.type)).toEqual(['policy.loaded', 'policy.decided', 'policy.decided', 'policy.rule_added', 'policy.loaded']);

    // Broken by hand afterwards: shown as invalid, in plain words with line and column.
    fs.writeFileSync(file, text.replace('decision: deny', 'decision: never'));
    const broken = await client.invoke('policy.show', { runId: run.id });
    expect(broken.valid).toBe(false);
    expect(broken.hash).toBeNull();
    expect(broken.errors[0]).toMatch(/policy\.yaml:\d+:\d+: /);
    await expect(client.invoke('policy.proposeRule', { runId: run.id, approvalId: pending.approvalId })).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('proposeRule refuses what no exact rule can allow', () => {
  const policy = combineLayers([{ name: 'builtin', file: null, policy: BUILTIN_POLICY }]);
  const workspace = () => fs.realpathSync(tempDir('keel-ws-'));

  it('a denied action, a generic request, an argument with spaces, a program given by path, an action already allowed', async () => {
    await loadShellParser();
    const ws = workspace();
    const denied = combineLayers([{ name: 'builtin', file: null, policy: BUILTIN_POLICY }, { name: 'workspace', file: null, policy: { schema_version: 1, rules: [{ id: 'no-rm', exec: ['rm *'], decision: 'deny', why: 'never' }] } }]);
    await expect(proposeRule(denied, { kind: 'exec', title: 'rm', command: 'rm -rf build' }, { workspace: ws })).rejects.toThrow(/denies this \(rule no-rm: never\)/);
    await expect(proposeRule(policy, { kind: 'generic', title: 'something' }, { workspace: ws })).rejects.toThrow(/cannot tell what this request touches/);
    await expect(proposeRule(policy, { kind: 'exec', title: 'grep', command: 'grep', args: ['a b', 'x'] }, { workspace: ws })).rejects.toThrow(/spaces or glob characters/);
    await expect(proposeRule(policy, { kind: 'exec', title: 'tool', command: './tool' }, { workspace: ws })).rejects.toThrow(/bare name/);
    await expect(proposeRule(policy, { kind: 'exec', title: 'echo', command: 'echo hi' }, { workspace: ws })).rejects.toThrow(/already allows this/);
  });

  it("into the starter file: inserted after the last rule, before deps, every other line kept", async () => {
    const ws = workspace();
    fs.mkdirSync(path.join(ws, '.keel'));
    fs.writeFileSync(path.join(ws, '.keel', 'policy.yaml'), STARTER_POLICY);
    const loaded = await loadPolicy({ workspace: ws });
    if (!loaded.ok) throw new Error('the starter policy does not load');
    const proposal = await proposeRule(loaded.policy, { kind: 'exec', title: 'Run make', command: 'make', args: ['check'] }, { workspace: ws });
    expect(proposal).toMatchObject({ valid: true, decision: 'allow' });
    const added = proposal.diff.split('\n').filter((line) => line.startsWith('+') && !line.startsWith('+++')).map((line) => line.slice(1));
    expect(proposal.diff.split('\n').filter((line) => line.startsWith('-') && !line.startsWith('---'))).toEqual([]);
    expect(added).toEqual([`  - id: ${String(proposal.rules[0]!.id)}`, '    exec:', '      - make check', '    decision: allow', '    why: "Allowed from an approval card: Run make"', '    match:', '      - make check']);
    expect(proposal.text.indexOf('make check')).toBeLessThan(proposal.text.indexOf('\ndeps:'));
    expect((await validatePolicyText(proposal.text)).ok).toBe(true);
  });

  it('a write inside the workspace becomes a relative path rule, checked by its own example', async () => {
    await loadShellParser();
    const ws = workspace();
    const proposal = await proposeRule(policy, { kind: 'write', title: 'Write src/a.ts', paths: [path.join(ws, 'src', 'a.ts')] }, { workspace: ws });
    expect(proposal.rules).toEqual([expect.objectContaining({ write: ['src/a.ts'], decision: 'allow', match: ['src/a.ts'] })]);
    expect(proposal).toMatchObject({ before: null, valid: true, decision: 'allow' });
    expect(proposal.diff).toContain('--- /dev/null');
    expect(proposal.text.startsWith('schema_version: 1\n')).toBe(true);
  });
});
