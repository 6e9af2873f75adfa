// The policy in the run core (issue 11, I8): real runs of the built-in agent and a scripted
// Codex app-server, real policy files, the real ledger. Every evaluated action is a
// `policy.decided` event; allow answers without asking, deny refuses with the rule's why, ask
// goes to the approval card with it; an invalid file is refused and the last valid one kept.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fold } from '../src/replay/index.js';
import { createRun, ofType, runKeel, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

const FAKE_CODEX = fileURLToPath(new URL('./fixtures/fake-codex-app-server.mjs', import.meta.url));
const CHECK = ['sh', '-c', 'cat hello.txt && echo tests passed'];

/** A workspace with `.keel/policy.yaml` holding `text`. */
function workspaceWith(text: string): string {
  const workspace = tempDir('keel-policy-ws-');
  writePolicy(workspace, text);
  return workspace;
}

function writePolicy(workspace: string, text: string): string {
  const file = path.join(workspace, '.keel', 'policy.yaml');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

const ALLOW_CHECK = `schema_version: 1
defaults:
  write_inside: allow
rules:
  - id: check
    exec: ["cat hello.txt"]
    decision: allow
    why: The check only prints the greeting.
`;

const DENY_CHECK = `schema_version: 1
defaults:
  write_inside: allow
rules:
  - id: no-cat
    exec: ["cat *"]
    decision: deny
    why: Nothing in this project is read with cat.
`;

/** The transcript as the app and `keel replay` show it. */
const transcriptText = (harness: { events(): import('../src/contract/index.js').LedgerEvent[]; runId: string }) =>
  fold(harness.events(), harness.runId)
    .items.map((item) => ('text' in item ? String(item.text) : ''))
    .join('\n');

describe('a run under a policy', () => {
  it('edit-and-test under a policy allowing its check and workspace writes asks nothing, and records every decision', async () => {
    const workspace = workspaceWith(ALLOW_CHECK);
    const harness = await createRun({ script: 'edit-and-test', workspace });
    const { controller } = harness;
    const { turn } = await controller.prompt('Write hello.txt and check it');
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    await controller.waitForState((state) => state === 'idle');
    const events = harness.events();

    // Nobody was asked, and the run never waited for a person.
    expect(ofType(events, 'approval.requested')).toEqual([]);
    expect(ofType(events, 'run.state').map((event) => event.payload.state)).not.toContain('awaiting_approval');
    expect(fs.readFileSync(path.join(workspace, 'hello.txt'), 'utf8')).toBe("Hello from Keel's built-in agent.\n");
    const output = ofType(events, 'terminal.output')
      .map((event) => event.payload.text)
      .join('');
    expect(output).toContain('tests passed');

    // The policy in force, once, before anything it decided.
    const [loaded, ...reloaded] = ofType(events, 'policy.loaded');
    expect(reloaded).toEqual([]);
    expect(loaded!.payload).toMatchObject({
      reason: 'run_start',
      files: [{ layer: 'workspace', file: path.join(fs.realpathSync(workspace), '.keel', 'policy.yaml') }],
      onViolation: 'record',
    });
    expect(loaded!.payload.rules).toContainEqual({ id: 'check', layer: 'workspace', decision: 'allow', kind: 'exec' });
    expect(loaded!.payload.defaultLayers.write_inside).toBe('workspace');

    // Both requests allowed, each with its source, hash and (for the command) every part judged.
    const decided = ofType(events, 'policy.decided');
    expect(decided.map((event) => [event.payload.action.kind, event.payload.decision, event.payload.source])).toEqual([
      ['write', 'allow', 'builtin.permission'],
      ['exec', 'allow', 'builtin.permission'],
    ]);
    for (const event of decided) {
      expect(event.payload.policyHash).toBe(loaded!.payload.hash);
      expect(event.seq).toBeGreaterThan(loaded!.seq);
    }
    expect(decided[0]!.payload).toMatchObject({ rule: null, layer: 'workspace', why: 'no rule: default for write_inside' });
    expect(decided[1]!.payload.action.parts).toContainEqual({ kind: 'exec', decision: 'allow', rule: 'check', why: 'The check only prints the greeting.', summary: 'cat hello.txt' });
    // Decided before it happened (intent first).
    expect(ofType(events, 'fs.written')[0]!.seq).toBeGreaterThan(decided[0]!.seq);
    expect(ofType(events, 'terminal.started')[0]!.seq).toBeGreaterThan(decided[1]!.seq);
    await harness.close();
  });

  it('the same run under a policy denying the check is refused with the rule and its why, in the transcript and in `keel policy log`', async () => {
    const workspace = workspaceWith(DENY_CHECK);
    const harness = await createRun({ script: 'edit-and-test', workspace });
    const { controller } = harness;
    const { turn } = await controller.prompt('Write hello.txt and check it');
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    await controller.waitForState((state) => state === 'idle');
    const events = harness.events();

    expect(ofType(events, 'approval.requested')).toEqual([]);
    expect(ofType(events, 'terminal.started')).toEqual([]);
    const denied = ofType(events, 'policy.decided').filter((event) => event.payload.decision === 'deny');
    expect(denied).toHaveLength(1);
    expect(denied[0]!.payload).toMatchObject({ rule: 'no-cat', layer: 'workspace', why: 'Nothing in this project is read with cat.', action: { kind: 'exec' } });
    // The deny is in the transcript with its rule and why, and the agent was told no.
    const transcript = transcriptText(harness);
    expect(transcript).toContain('Policy denied "Run the check: cat hello.txt && echo tests passed" (rule no-cat): Nothing in this project is read with cat.');
    const said = ofType(events, 'message.chunk')
      .map((event) => event.payload.text)
      .join('');
    expect(said).toContain('was denied, so I am stopping this turn');
    await harness.close();

    const log = await runKeel(['policy', 'log', '--run', harness.runId, '--data', harness.dataDir]);
    expect(log.stderr).toBe('');
    expect(log.code).toBe(0);
    expect(log.stdout).toContain('DENY     exec    Run the check: cat hello.txt && echo tests passed');
    expect(log.stdout).toContain('rule no-cat (workspace): Nothing in this project is read with cat.');
    expect(log.stdout).toMatch(/1 allowed, 0 asked, 1 denied/);
    const json = await runKeel(['policy', 'log', '--run', harness.runId, '--data', harness.dataDir, '--json']);
    const parsed = JSON.parse(json.stdout) as { counts: Record<string, number>; entries: Array<{ type: string; payload: { rule?: string | null } }> };
    expect(parsed.counts).toEqual({ allow: 1, ask: 0, deny: 1, violations: 0 });
    expect(parsed.entries.map((entry) => entry.type)).toEqual(['policy.loaded', 'policy.decided', 'policy.decided']);
  });

  it('an ask goes to the approval card with the rule and its why; no rule says "no rule: default for exec"', async () => {
    const harness = await createRun({ script: 'edit-and-test' });
    const { controller } = harness;
    const { request: write } = await harness.promptToFirstApproval('Write hello.txt and check it');
    // Keel's built-in layer asks for writes until a policy allows them.
    expect(write.payload.policy).toMatchObject({ decision: 'ask', rule: null, layer: 'builtin', why: 'no rule: default for write_inside', kind: 'write' });
    await controller.decide(write.payload.approvalId, 'allow_once');
    const exec = await harness.waitForType('approval.requested', (event) => event.payload.action.kind === 'exec');
    expect(exec.payload.policy).toMatchObject({ decision: 'ask', rule: null, why: 'no rule: default for exec', kind: 'exec' });
    const item = fold(harness.events(), harness.runId).items.find((entry) => entry.kind === 'approval' && entry.approvalId === exec.payload.approvalId);
    expect(item).toMatchObject({ policy: { rule: null, why: 'no rule: default for exec' } });
    const decided = ofType(harness.events(), 'policy.decided').find((event) => event.payload.approvalId === exec.payload.approvalId);
    expect(decided!.seq).toBeLessThan(exec.seq);
    await controller.decide(exec.payload.approvalId, 'deny');
    await harness.close();
  });

  it('--approve all answers asks but never overrides a deny', async () => {
    const workspace = workspaceWith(DENY_CHECK.replace('defaults:\n  write_inside: allow\n', ''));
    const harness = await createRun({ script: 'edit-and-test', workspace, approvalMode: 'all' });
    const { controller } = harness;
    const { turn } = await controller.prompt('Write hello.txt and check it');
    expect(await controller.waitForTurn(turn)).toBe('end_turn');
    const events = harness.events();
    // The write was an ask (built-in default) that --approve all answered; the check a deny it did not.
    const decided = ofType(events, 'policy.decided');
    expect(decided.map((event) => [event.payload.action.kind, event.payload.decision, event.payload.rule])).toEqual([
      ['write', 'ask', null],
      ['exec', 'deny', 'no-cat'],
    ]);
    expect(ofType(events, 'approval.decided').map((event) => [event.payload.decision, event.payload.by])).toEqual([['allow_once', 'auto']]);
    expect(ofType(events, 'fs.written')).toHaveLength(1);
    expect(ofType(events, 'terminal.started')).toEqual([]);
    await harness.close();
  });

  it('unattended (--approve none): an ask becomes the policy\'s unattended_ask', async () => {
    const workspace = workspaceWith(`schema_version: 1
defaults:
  unattended_ask: deny
`);
    const harness = await createRun({ script: 'edit-and-test', workspace, approvalMode: 'none' });
    const { turn } = await harness.controller.prompt('Write hello.txt and check it');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    const [write, ...rest] = ofType(harness.events(), 'policy.decided');
    expect(rest).toEqual([]); // The agent stopped after the refused write.
    expect(write!.payload).toMatchObject({ decision: 'deny', unattended: true, why: 'no rule: default for write_inside (unattended: ask becomes deny)' });
    expect(fs.existsSync(path.join(workspace, 'hello.txt'))).toBe(false);
    await harness.close();
  });
});

describe('policy files that change or break between turns', () => {
  /** Two turns, each asking to run the check and running it. */
  function twoTurnScript(): string {
    const turn = {
      steps: [
        { permission: { kind: 'execute', title: 'Run the check', command: CHECK[0], args: CHECK.slice(1) }, onDeny: 'continue' },
        { message: 'turn done' },
      ],
    };
    const file = path.join(tempDir('keel-policy-script-'), 'two-turns.json');
    fs.writeFileSync(file, JSON.stringify({ name: 'two-turns', description: 'asks to run the check twice', turns: [turn, turn] }));
    return file;
  }

  it('an invalid policy file is refused with a clear error and the run keeps the last valid policy', async () => {
    const workspace = workspaceWith(DENY_CHECK);
    const harness = await createRun({ script: twoTurnScript(), workspace });
    const { controller } = harness;
    const first = await controller.prompt('one');
    expect(await controller.waitForTurn(first.turn)).toBe('end_turn');
    const [loaded] = harness.of('policy.loaded');

    // The file breaks between turns: refused (file, line, column, what), the deny still holds.
    const file = writePolicy(workspace, DENY_CHECK.replace('decision: deny', 'decision: maybe'));
    const second = await controller.prompt('two');
    expect(await controller.waitForTurn(second.turn)).toBe('end_turn');
    const [refused, ...more] = harness.of('policy.refused');
    expect(more).toEqual([]);
    expect(refused!.payload.kept).toBe(loaded!.payload.hash);
    expect(refused!.payload.files).toEqual([path.join(fs.realpathSync(workspace), '.keel', 'policy.yaml')]);
    expect(refused!.payload.errors.join('\n')).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:\\d+: .*(allow|ask|deny)`));
    expect(harness.of('policy.loaded')).toHaveLength(1);
    const decided = harness.of('policy.decided');
    expect(decided.map((event) => [event.payload.decision, event.payload.rule, event.payload.policyHash])).toEqual([
      ['deny', 'no-cat', loaded!.payload.hash],
      ['deny', 'no-cat', loaded!.payload.hash],
    ]);
    expect(decided[1]!.seq).toBeGreaterThan(refused!.seq);
    await harness.close();
  });

  it('a file that changed between turns is a new policy.loaded, and the next turn is decided by it', async () => {
    const workspace = workspaceWith(DENY_CHECK);
    const harness = await createRun({ script: twoTurnScript(), workspace, approvalMode: 'none' });
    const { controller } = harness;
    const first = await controller.prompt('one');
    expect(await controller.waitForTurn(first.turn)).toBe('end_turn');
    writePolicy(workspace, ALLOW_CHECK);
    const second = await controller.prompt('two');
    expect(await controller.waitForTurn(second.turn)).toBe('end_turn');
    const loaded = harness.of('policy.loaded');
    expect(loaded.map((event) => event.payload.reason)).toEqual(['run_start', 'changed']);
    expect(loaded[0]!.payload.hash).not.toBe(loaded[1]!.payload.hash);
    const decided = harness.of('policy.decided');
    expect(decided.map((event) => [event.payload.decision, event.payload.policyHash])).toEqual([
      ['deny', loaded[0]!.payload.hash],
      ['allow', loaded[1]!.payload.hash],
    ]);
    await harness.close();
  });

  it('an invalid file at the run\'s start leaves Keel\'s built-in layer in force, and says so', async () => {
    const workspace = workspaceWith('schema_version: 1\nrules: [oops\n');
    const harness = await createRun({ script: 'edit-and-test', workspace, approvalMode: 'none' });
    const { turn } = await harness.controller.prompt('Write hello.txt and check it');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    const [refused] = harness.of('policy.refused');
    const [loaded] = harness.of('policy.loaded');
    expect(refused!.seq).toBeLessThan(loaded!.seq);
    expect(refused!.payload.errors[0]).toMatch(/policy\.yaml:\d+:\d+: YAML/);
    expect(loaded!.payload.files).toEqual([]);
    expect(refused!.payload.kept).toBe(loaded!.payload.hash);
    // The built-in layer asks for writes; unattended, that is its unattended_ask: deny.
    expect(harness.of('policy.decided')[0]!.payload).toMatchObject({ decision: 'deny', policyHash: loaded!.payload.hash });
    await harness.close();
  });
});

describe('what the agent did without asking (observed)', () => {
  function codex(steps: object[]): { kind: 'codex'; command: string[] } {
    const dir = tempDir('keel-policy-codex-');
    const scenario = path.join(dir, 'scenario.json');
    fs.writeFileSync(scenario, JSON.stringify({ turns: [steps] }));
    return { kind: 'codex', command: [process.execPath, FAKE_CODEX, '--scenario', scenario, '--state', path.join(dir, 'state.json')] };
  }
  const POLICY = (onViolation: string) => `schema_version: 1
on_violation: ${onViolation}
rules:
  - id: status
    exec: ["git status *"]
    decision: allow
  - id: no-force-push
    push: { force: true }
    decision: deny
    why: History on shared branches is never rewritten.
`;

  it('is judged when it completes (or fails) and recorded observed; a deny is a visible violation (on_violation: record lets the run go on)', async () => {
    const harness = await createRun({
      workspace: workspaceWith(POLICY('record')),
      agent: codex([
        { command: 'git status --short', unasked: true, output: ['clean\n'] },
        { command: 'git push --force origin main', unasked: true, output: ['pushed\n'] },
        // A command that exits non-zero still ran: judged too.
        { command: 'git push --force origin gone', unasked: true, exitCode: 1 },
        { message: 'done' },
      ]),
    });
    const { turn } = await harness.controller.prompt('push it');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    const decided = harness.of('policy.decided');
    expect(decided.map((event) => [event.payload.decision, event.payload.rule, event.payload.observed, event.payload.violation ?? false, event.payload.source])).toEqual([
      ['allow', 'status', true, false, 'tool_call'],
      ['deny', 'no-force-push', true, true, 'tool_call'],
      ['deny', 'no-force-push', true, true, 'tool_call'],
    ]);
    expect(decided[1]!.payload.action.kind).toBe('push');
    expect(transcriptText(harness)).toContain('Policy violation: the agent did "git push --force origin main" without asking, and the policy denies it (rule no-force-push');
    expect(harness.of('approval.requested')).toEqual([]);
    await harness.close();
  });

  it('with on_violation: stop, a violation stops the run with the registered stop reason', async () => {
    const harness = await createRun({
      workspace: workspaceWith(POLICY('stop')),
      agent: codex([{ command: 'git push --force origin main', unasked: true }, { message: 'after the push' }]),
    });
    const { turn } = await harness.controller.prompt('push it');
    expect(await harness.controller.waitForTurn(turn)).toBe('policy_violation');
    expect(await harness.controller.waitForState((state) => state === 'stopped')).toBe('stopped');
    const stopped = harness.of('run.state').at(-1)!;
    expect(stopped.payload).toMatchObject({ state: 'stopped', stopReason: 'policy_violation' });
    const [violation] = harness.of('policy.decided');
    expect(violation!.seq).toBeLessThan(stopped.seq);
    expect(transcriptText(harness)).toContain('The policy says on_violation: stop, so Keel stopped the agent.');
    await harness.close();
  });

  it('a command Codex asked about is not judged again when it completes', async () => {
    const harness = await createRun({
      workspace: workspaceWith(POLICY('stop')),
      agent: codex([{ command: 'git status --short', output: ['clean\n'] }, { message: 'done' }]),
    });
    const { turn } = await harness.controller.prompt('status');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    const decided = harness.of('policy.decided');
    expect(decided.map((event) => [event.payload.decision, event.payload.rule, event.payload.source, event.payload.observed ?? false])).toEqual([
      ['allow', 'status', 'codex.approval', false],
    ]);
    await harness.close();
  });
});
