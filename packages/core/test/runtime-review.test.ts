// Regressions for the findings of the invariant review: a misbehaving agent or a race must
// never crash the host, send a prompt twice, settle an approval twice or escape the workspace.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRun, fixturesDir, ofType, type RunHarness, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';

const rude = (mode: string) => ({ kind: 'acp' as const, command: [process.execPath, path.join(fixturesDir, 'runtime-rude-agent.mjs'), '--mode', mode] });
const messages = (harness: RunHarness) => ofType(harness.events(), 'message.chunk').map((event) => event.payload.text).join('');

useRuntimeSuite();

describe('a misbehaving agent never takes the host down', () => {
  it('a tool call the ledger cannot record (empty id) becomes a protocol error and the turn goes on', async () => {
    const harness = await createRun({ agent: rude('empty-tool-id') });
    const { turn } = await harness.controller.prompt('go');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    const errors = ofType(harness.events(), 'runtime.protocol_error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((event) => event.payload.kind === 'invalid_message')).toBe(true);
    expect(messages(harness)).toBe('after the nameless tool');
  });

  it('an enormous error answer is cut to fit a note and the turn ends agent_error', async () => {
    const harness = await createRun({ agent: rude('huge-error') });
    const { turn } = await harness.controller.prompt('go');
    expect(await harness.controller.waitForTurn(turn)).toBe('agent_error');
    const note = ofType(harness.events(), 'note').at(-1)!;
    expect(note.payload.text.length).toBeLessThanOrEqual(90_000);
  });
});

describe('the workspace boundary', () => {
  it('refuses a write through a dangling symlink that points outside', async () => {
    const workspace = tempDir('keel-rv-ws-');
    const outside = path.join(tempDir('keel-rv-out-'), 'pwned.txt');
    fs.symlinkSync(outside, path.join(workspace, 'notes.txt'));
    const harness = await createRun({ workspace, agent: rude(`write-path=${path.join(workspace, 'notes.txt')}`), approvalMode: 'all' });
    const { turn } = await harness.controller.prompt('go');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    expect(messages(harness)).toMatch(/^write refused: .*outside the workspace/s);
    expect(fs.existsSync(outside)).toBe(false);
  });

  it('refuses to read a FIFO instead of blocking the host', async () => {
    const workspace = tempDir('keel-rv-ws-');
    const fifo = path.join(workspace, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const harness = await createRun({ workspace, agent: rude(`read-path=${fifo}`) });
    const { turn } = await harness.controller.prompt('go');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    expect(messages(harness)).toMatch(/^read refused: .*not a regular file/s);
  });

  it('asks before a read outside the workspace (reads inside are allowed without asking)', async () => {
    const secret = path.join(tempDir('keel-rv-out-'), 'secret.txt');
    fs.writeFileSync(secret, 'top secret');
    const harness = await createRun({ agent: rude(`read-path=${secret}`) });
    const answered = harness.answerApprovals('deny');
    const { turn } = await harness.controller.prompt('go');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    expect(answered.answered).toHaveLength(1);
    expect(ofType(harness.events(), 'approval.requested')[0]!.payload.action).toMatchObject({ kind: 'read', paths: [fs.realpathSync(secret)] });
    expect(messages(harness)).toMatch(/^read refused/);
  });
});

describe('approvals settle exactly once', () => {
  it('two decisions at once: one is recorded, the other is refused as a conflict', async () => {
    const harness = await createRun({ script: 'edit-and-test' });
    await harness.controller.prompt('go');
    const asked = await harness.waitForType('approval.requested');
    const results = await Promise.allSettled([
      harness.controller.decide(asked.payload.approvalId, 'allow_once'),
      harness.controller.decide(asked.payload.approvalId, 'deny'),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' });
    const decided = ofType(harness.events(), 'approval.decided').filter((event) => event.payload.approvalId === asked.payload.approvalId);
    expect(decided.map((event) => event.payload.decision)).toEqual(['allow_once']);
  });
});

describe('a prompt during a restart', () => {
  it('waits for the new generation to finish starting and reaches the agent exactly once', async () => {
    const harness = await createRun({ script: 'hello' });
    const first = await harness.controller.prompt('first');
    expect(await harness.controller.waitForTurn(first.turn)).toBe('end_turn');
    await harness.controller.waitForState((state) => state === 'idle');
    harness.controller.killAgent();
    await harness.waitForType('runtime.started', (event) => event.payload.generation === 2);
    // The new generation is starting (session/load in flight): the prompt waits for it.
    const second = await harness.controller.prompt('second');
    expect(await harness.controller.waitForTurn(second.turn)).toBe('end_turn');
    const sessionFile = fs.readdirSync(harness.agentStateDir).find((name) => name.endsWith('.json'))!;
    const history = JSON.parse(fs.readFileSync(path.join(harness.agentStateDir, sessionFile), 'utf8')) as { history: Array<{ role: string; text: string }> };
    expect(history.history.filter((entry) => entry.role === 'user' && entry.text === 'second')).toHaveLength(1);
    expect(ofType(harness.events(), 'prompt.sent').map((event) => event.payload.text)).toEqual(['first', 'second']);
  });
});
