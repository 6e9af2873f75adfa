// `--approve all` answers the policy's asks without anybody looking, so it approves only what the
// policy could judge as it is (ADR 0009 §3): an ask about a command whose program is not
// statically known is denied, as when nobody can answer, while a statically known ask and a
// generic protocol question are still answered. Real runs of the built-in agent, the real
// terminal, the real ledger.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRun, ofType, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

/** A workspace whose policy allows writes inside it (exec keeps the built-in default: ask). */
function workspace(): string {
  const dir = tempDir('keel-approve-all-ws-');
  fs.mkdirSync(path.join(dir, '.keel'));
  fs.writeFileSync(path.join(dir, '.keel', 'policy.yaml'), 'schema_version: 1\ndefaults:\n  write_inside: allow\n');
  return dir;
}

function script(steps: unknown[]): string {
  const file = path.join(tempDir('keel-approve-all-script-'), 'approve-all.json');
  fs.writeFileSync(file, JSON.stringify({ name: 'approve-all', description: 'commands --approve all may and may not answer', turns: [{ steps }] }));
  return file;
}

describe('--approve all', () => {
  it('denies a command whose program is not statically known, runs a known one, and still answers a generic question', async () => {
    const ws = workspace();
    const harness = await createRun({
      workspace: ws,
      approvalMode: 'all',
      script: script([
        // `$X` in program position: what runs is decided only when the shell runs it.
        { run: { command: 'sh', args: ['-c', 'X=touch; $X dynamic.txt'] } },
        { run: { command: 'sh', args: ['-c', 'touch known.txt'] } },
        { permission: { kind: 'other', title: 'Do something optional' }, onDeny: 'continue' },
        { message: 'done' },
      ]),
    });
    const { turn } = await harness.controller.prompt('go');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    const decided = ofType(harness.events(), 'policy.decided').map((event) => event.payload);
    expect(decided.map((payload) => [payload.action.kind, payload.decision])).toEqual([
      ['exec', 'deny'],
      ['exec', 'ask'],
      ['generic', 'ask'],
    ]);
    expect(decided[0]!.why).toBe('not statically known, never allowed: the program is not statically known: $X (--approve all approves only what is statically known)');
    expect(decided[0]!.unattended).toBeUndefined();
    // Only the two statically judged asks were answered by the mode.
    expect(ofType(harness.events(), 'approval.decided').map((event) => [event.payload.decision, event.payload.by])).toEqual([
      ['allow_once', 'auto'],
      ['allow_once', 'auto'],
    ]);
    expect(fs.existsSync(path.join(ws, 'dynamic.txt'))).toBe(false);
    expect(fs.existsSync(path.join(ws, 'known.txt'))).toBe(true);
    expect(ofType(harness.events(), 'terminal.started').map((event) => event.payload.args)).toEqual([['-c', 'touch known.txt']]);
    await harness.close();
  });

  it('control: an interactive run still asks a person about the same not statically known command', async () => {
    const harness = await createRun({ workspace: workspace(), approvalMode: 'interactive', script: script([{ run: { command: 'sh', args: ['-c', 'X=touch; $X dynamic.txt'] } }]) });
    const { request } = await harness.promptToFirstApproval('go');
    expect(request.payload.policy).toMatchObject({ decision: 'ask', rule: null });
    expect(request.payload.policy!.why).toContain('not statically known, never allowed');
    await harness.close();
  });
});

describe('the gate under --approve all (real policy files)', () => {
  async function gate(mode: 'all' | 'interactive') {
    const { PolicyGate } = await import('../src/runs/policy-gate.js');
    const policy = new PolicyGate({ dataDir: tempDir('keel-approve-all-data-'), workspace: workspace(), agentKind: 'acp', approvalMode: () => mode, record: async () => {} });
    await policy.ready();
    return policy;
  }

  it('an exec request with no command (nothing to judge) is denied under all, asked interactively; a generic one is asked in both', async () => {
    const all = await gate('all');
    expect(all.judge({ kind: 'exec', title: 'Run something' }, 'acp.permission').decided).toMatchObject({ decision: 'deny', rule: null });
    expect(all.judge({ kind: 'generic', title: 'Switch mode' }, 'acp.permission').decided.decision).toBe('ask');
    const interactive = await gate('interactive');
    expect(interactive.judge({ kind: 'exec', title: 'Run something' }, 'acp.permission').decided.decision).toBe('ask');
  });

  it('a statically known command is asked (for the mode to answer); one with a substitution in program position is denied', async () => {
    const all = await gate('all');
    expect(all.judge({ kind: 'exec', title: 'build', command: 'make build' }, 'codex.approval').decided.decision).toBe('ask');
    const dynamic = all.judge({ kind: 'exec', title: 'dynamic', command: '$(cat tool-name) --version' }, 'codex.approval').decided;
    expect(dynamic.decision).toBe('deny');
    expect(dynamic.why).toContain('(--approve all approves only what is statically known)');
    // What the agent already did is judged as it is, whatever the mode.
    expect(all.judge({ kind: 'exec', title: 'dynamic', command: '$(cat tool-name) --version' }, 'tool_call', { observed: true }).decided.decision).toBe('ask');
  });
});
