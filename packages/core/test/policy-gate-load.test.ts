// The run's policy gate loads the policy files (issue 11, I1): a policy is in force only once its
// `policy.loaded` is recorded — a failed append leaves the last recorded policy in force — and a
// reload asked for while a load is running (a rule just added) reads the files again after it.
// Real policy files and the real loader; the recording callback stands for the run's ledger.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppendInput } from '../src/contract/index.js';
import { PolicyGate } from '../src/runs/policy-gate.js';
import { tempDir } from './helpers.js';

const policyText = (decision: string) => `schema_version: 1\nrules:\n  - id: check\n    exec: ["cat *"]\n    decision: ${decision}\n`;

function workspaceWith(text: string): { workspace: string; file: string } {
  const workspace = fs.realpathSync(tempDir('keel-gate-ws-'));
  const file = path.join(workspace, '.keel', 'policy.yaml');
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, text);
  return { workspace, file };
}

const gateFor = (workspace: string, record: (events: AppendInput[]) => Promise<unknown>) =>
  new PolicyGate({ dataDir: tempDir('keel-gate-data-'), workspace, agentKind: 'builtin', approvalMode: () => 'interactive', record });

const loadedOf = (events: AppendInput[]) => events.find((event) => event.type === 'policy.loaded') as Extract<AppendInput, { type: 'policy.loaded' }> | undefined;

describe('the policy gate loads a policy', () => {
  it('not in force before it is recorded: a failed first append leaves no policy, and judging refuses (asks), never allows', async () => {
    const { workspace } = workspaceWith(policyText('allow'));
    const gate = gateFor(workspace, async () => {
      throw new Error('disk full');
    });
    await expect(gate.refresh()).rejects.toThrow('disk full');
    expect(gate.policy).toBeNull();
    const judged = gate.judgeSafely({ kind: 'exec', title: 'cat x', command: 'cat', args: ['x'] }, 'keel.terminal');
    expect(judged.decided.decision).toBe('ask');
  });

  it('a changed file whose policy.loaded cannot be recorded leaves the last recorded policy in force', async () => {
    const { workspace, file } = workspaceWith(policyText('deny'));
    const recorded: AppendInput[][] = [];
    let failing = false;
    const gate = gateFor(workspace, async (events) => {
      if (failing) throw new Error('disk full');
      recorded.push(events);
    });
    await gate.refresh();
    const first = loadedOf(recorded[0]!)!.payload.hash;
    expect(gate.policy!.hash).toBe(first);
    fs.writeFileSync(file, policyText('allow'));
    failing = true;
    await expect(gate.refresh()).rejects.toThrow('disk full');
    expect(gate.policy!.hash).toBe(first);
    expect(gate.judge({ kind: 'exec', title: 'cat x', command: 'cat', args: ['x'] }, 'keel.terminal').decided).toMatchObject({ decision: 'deny', rule: 'check', policyHash: first });
    // Once the ledger takes it, the new file is loaded and recorded.
    failing = false;
    await gate.refresh();
    expect(loadedOf(recorded[1]!)!.payload.hash).toBe(gate.policy!.hash);
    expect(gate.policy!.hash).not.toBe(first);
  });

  it('a reload asked for while a load is running reads the files again after it (the rule just added is in force)', async () => {
    const { workspace, file } = workspaceWith(policyText('deny'));
    const recorded: AppendInput[][] = [];
    let readDone!: () => void;
    const firstRead = new Promise<void>((resolve) => (readDone = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const gate = gateFor(workspace, async (events) => {
      recorded.push(events);
      if (recorded.length === 1) {
        readDone(); // The first load has read the files; its append is slow.
        await held;
      }
    });
    const first = gate.refresh();
    await firstRead;
    fs.writeFileSync(file, policyText('allow')); // "Always allow this" writes the file...
    const second = gate.refresh('rule_added'); // ...and asks for a reload while the first load still runs.
    release();
    await first;
    await second;
    expect(recorded.map((events) => loadedOf(events)?.payload.reason)).toEqual(['run_start', 'rule_added']);
    expect(gate.judge({ kind: 'exec', title: 'cat x', command: 'cat', args: ['x'] }, 'keel.terminal').decided).toMatchObject({ decision: 'allow', rule: 'check' });
  });
});
