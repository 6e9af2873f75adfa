// When the policy engine itself fails (a bug, never an input), the action is never allowed (I8):
// a person is asked when one answers asks (interactive), and it is denied when nobody does —
// `--approve none`, `--approve reads`, and `--approve all`, which answers asks without anybody
// looking. Real runs of the built-in agent (`edit-and-test`: ask to write hello.txt, write it,
// ask to run the check, run it), the real ledger and decider; only the engine's judgement is
// made to throw, through the run's own PolicyGate.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { ApprovalMode } from '../src/contract/index.js';
import { createRun, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

/** A workspace whose policy allows everything the script does: a working engine asks nothing. */
function permissiveWorkspace(): string {
  const workspace = tempDir('keel-policy-fallback-ws-');
  const file = path.join(workspace, '.keel', 'policy.yaml');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    `schema_version: 1
defaults:
  write_inside: allow
  exec: allow
  unattended_ask: allow
rules:
  - id: check
    exec: ["sh -c *", "cat *"]
    decision: allow
`,
  );
  return workspace;
}

/** A run whose policy engine throws on every judgement (the gate's `judge`), from the first request on. */
async function runWithBrokenEngine(approvalMode: ApprovalMode) {
  const workspace = permissiveWorkspace();
  const harness = await createRun({ script: 'edit-and-test', workspace, approvalMode });
  const judge = vi.spyOn(harness.controller.policy, 'judge').mockImplementation(() => {
    throw new Error('engine exploded');
  });
  return { harness, workspace, judge };
}

describe('the policy engine fails: never allowed', () => {
  it('interactive: the request goes to a person, with the failure as its why, and nothing happens before the answer', async () => {
    const { harness, workspace, judge } = await runWithBrokenEngine('interactive');
    const { turn, request } = await harness.promptToFirstApproval('Write hello.txt and check it');
    expect(judge).toHaveBeenCalled();
    expect(request.payload.action.kind).toBe('write');
    expect(request.payload.policy).toMatchObject({ decision: 'ask', rule: null, layer: null });
    expect(request.payload.policy!.why).toContain('Keel could not evaluate the policy (engine exploded), so it is never allowed');
    const [decided, ...more] = harness.of('policy.decided');
    expect(more).toEqual([]);
    expect(decided!.payload).toMatchObject({ decision: 'ask', approvalId: request.payload.approvalId });
    expect(decided!.payload.unattended).toBeUndefined();
    expect(decided!.seq).toBeLessThan(request.seq);
    // Nobody decided yet: nothing was written.
    expect(harness.of('approval.decided')).toEqual([]);
    expect(fs.existsSync(path.join(workspace, 'hello.txt'))).toBe(false);

    await harness.controller.decide(request.payload.approvalId, 'deny');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    expect(harness.of('fs.written')).toEqual([]);
    expect(harness.of('terminal.started')).toEqual([]);
    expect(fs.existsSync(path.join(workspace, 'hello.txt'))).toBe(false);
    await harness.close();
  });

  it('interactive: a person who allows it is obeyed (ask means a person decides)', async () => {
    const { harness, workspace } = await runWithBrokenEngine('interactive');
    const { request } = await harness.promptToFirstApproval('Write hello.txt and check it');
    await harness.controller.decide(request.payload.approvalId, 'allow_once');
    await harness.waitForType('fs.written');
    expect(fs.readFileSync(path.join(workspace, 'hello.txt'), 'utf8')).toBe("Hello from Keel's built-in agent.\n");
    // The check is asked about too (the engine still fails), never allowed on its own.
    const exec = await harness.waitForType('approval.requested', (event) => event.payload.action.kind === 'exec');
    expect(exec.payload.policy).toMatchObject({ decision: 'ask', rule: null });
    expect(harness.of('terminal.started')).toEqual([]);
    await harness.controller.decide(exec.payload.approvalId, 'deny');
    await harness.close();
  });

  for (const mode of ['none', 'reads', 'all'] as const) {
    it(`--approve ${mode}: nobody answers, so it is denied with the failure as its why (and the transcript says so)`, async () => {
      const { harness, workspace, judge } = await runWithBrokenEngine(mode);
      const { turn } = await harness.controller.prompt('Write hello.txt and check it');
      expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
      expect(judge).toHaveBeenCalled();
      const decided = harness.of('policy.decided');
      expect(decided).toHaveLength(1); // The agent stopped after the refused write.
      expect(decided[0]!.payload).toMatchObject({ decision: 'deny', rule: null, unattended: true, action: { kind: 'write' } });
      expect(decided[0]!.payload.why).toContain('Keel could not evaluate the policy (engine exploded)');
      // Not an approval that --approve all could answer, and nothing happened.
      expect(harness.of('approval.requested')).toEqual([]);
      expect(harness.of('approval.decided')).toEqual([]);
      expect(harness.of('fs.written')).toEqual([]);
      expect(harness.of('terminal.started')).toEqual([]);
      expect(fs.existsSync(path.join(workspace, 'hello.txt'))).toBe(false);
      const notes = harness.of('note').map((event) => event.payload.text);
      expect(notes.some((text) => text.startsWith('Policy denied "') && text.includes('Keel could not evaluate the policy (engine exploded)'))).toBe(true);
      await harness.close();
    });
  }

  it('a failure that is not an Error object still never allows', async () => {
    const { harness, workspace, judge } = await runWithBrokenEngine('all');
    judge.mockImplementation(() => {
      throw 'a bare string';
    });
    const { turn } = await harness.controller.prompt('Write hello.txt and check it');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    const [decided] = harness.of('policy.decided');
    expect(decided!.payload).toMatchObject({ decision: 'deny', why: expect.stringContaining('(a bare string)') });
    expect(fs.existsSync(path.join(workspace, 'hello.txt'))).toBe(false);
    await harness.close();
  });

  it('control: with the same policy and a working engine, --approve all runs the whole script without asking', async () => {
    const workspace = permissiveWorkspace();
    const harness = await createRun({ script: 'edit-and-test', workspace, approvalMode: 'all' });
    const { turn } = await harness.controller.prompt('Write hello.txt and check it');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    expect(harness.of('policy.decided').map((event) => event.payload.decision)).toEqual(['allow', 'allow']);
    expect(harness.of('fs.written')).toHaveLength(1);
    expect(harness.of('terminal.started')).toHaveLength(1);
    await harness.close();
  });
});
