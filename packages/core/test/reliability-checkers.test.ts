// The harness's checkers can fail: each is run against a real run (real ledger, the built-in
// agent) where the fault is planted on purpose, and must count it — a lost event lost, an
// invented one unexpected, a prompt the agent got twice duplicated, a carry-over applied twice
// not honoured, a second remap not a clean remap. And on the clean run they count nothing.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../src/contract/schemas/ledger.js';
import { ledgerPaths, openLedger } from '../src/ledger/index.js';
import {
  checkApprovalContinuity,
  checkDurability,
  checkRemap,
  countDuplicatedPrompts,
  duplicatedPromptIntents,
  runReliabilityFacts,
  staleGenerationEvents,
  type Acknowledgement,
} from '../src/reliability/index.js';
import { readRunEvents } from '../src/runs/index.js';
import { createRun, useRuntimeSuite } from './fixtures/runtime-kit.js';
import { tempDir } from './helpers.js';

useRuntimeSuite();

const ackOf = (event: LedgerEvent): Acknowledgement => ({ runId: event.run_id, seq: event.seq, hash: event.hash });

describe('durability checker (Jepsen counters)', () => {
  it('counts an acknowledged event the store really lost (log cut, SQLite gone) as lost, and nothing when intact', async () => {
    const dataDir = path.join(tempDir('keel-rel-lost-'), 'data');
    const ledger = await openLedger({ dataDir });
    const runId = ledger.newRunId();
    const acks: Acknowledgement[] = [ackOf(await ledger.append(runId, { type: 'run.created', payload: { workspace: '/tmp/w', agent: { kind: 'builtin' } } }))];
    for (let i = 0; i < 5; i++) acks.push(ackOf(await ledger.append(runId, { type: 'message.chunk', payload: { text: `c${i}` } })));
    await ledger.close();

    const intact = await openLedger({ dataDir });
    expect(checkDurability(acks, new Map([[runId, readRunEvents(intact, runId)]]), () => true)).toMatchObject({ acknowledged: 6, lost: 0, unexpected: 0 });
    await intact.close();

    // Plant the loss for real: the last acknowledged record leaves the log, and SQLite with it.
    const log = ledgerPaths(dataDir).logOf(runId);
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    fs.writeFileSync(log, `${lines.slice(0, -1).join('\n')}\n`);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${ledgerPaths(dataDir).database}${suffix}`, { force: true });
    const reopened = await openLedger({ dataDir });
    try {
      const check = checkDurability(acks, new Map([[runId, readRunEvents(reopened, runId)]]), () => true);
      expect(check).toMatchObject({ acknowledged: 6, lost: 1, unexpected: 0 });
      expect(check.problems).toEqual([`${runId}#6: acknowledged, then missing`]);
    } finally {
      await reopened.close();
    }
  });

  it('counts a stored event nobody attempted, a changed hash and a seq gap', () => {
    const event = (seq: number, hash: string, type = 'message.chunk'): LedgerEvent => ({
      schema_version: 1,
      run_id: 'r1',
      seq,
      ts: new Date(0).toISOString(),
      type,
      payload: {},
      prev: '0'.repeat(64),
      hash: hash.repeat(64),
    });
    const stored = new Map([['r1', [event(1, 'a'), event(2, 'b'), event(3, 'c', 'prompt.sent'), event(5, 'e')]]]);
    const acks = [
      { runId: 'r1', seq: 1, hash: 'a'.repeat(64) },
      { runId: 'r1', seq: 2, hash: 'f'.repeat(64) },
    ];
    const check = checkDurability(acks, stored, (e) => e.type !== 'prompt.sent');
    expect(check).toMatchObject({ acknowledged: 2, lost: 1, unexpected: 2 });
  });
});

describe('prompt, staleness, approval and remap checkers on real runs', () => {
  it('a prompt planted twice in the agent\'s own history counts as one duplicated prompt; the clean run counts none', async () => {
    const harness = await createRun({ script: 'hello' });
    const bound = await harness.startBound();
    const { turn } = await harness.controller.prompt('Say hello once');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    const file = path.join(harness.agentStateDir, `${bound.payload.sessionId}.json`);
    const received = () => (JSON.parse(fs.readFileSync(file, 'utf8')) as { history: Array<{ role: string; text: string }> }).history.filter((e) => e.role === 'user').map((e) => e.text);
    const sent = harness.of('prompt.sent').map((event) => event.payload.text);
    expect(countDuplicatedPrompts(sent, received()).duplicated).toBe(0);
    expect(duplicatedPromptIntents(harness.events())).toBe(0);

    const session = JSON.parse(fs.readFileSync(file, 'utf8')) as { history: Array<{ role: string; text: string; messageId: string }> };
    session.history.push({ role: 'user', text: 'Say hello once', messageId: 'planted' });
    fs.writeFileSync(file, JSON.stringify(session));
    const planted = countDuplicatedPrompts(sent, received());
    expect(planted.duplicated).toBe(1);
    expect(planted.problems[0]).toContain('received "Say hello once" 2 times (sent 1)');
    // The ledger side: a second prompt intent with the same key is a duplicate too.
    const events = harness.events();
    const intent = events.find((event) => event.type === 'prompt.sent')!;
    expect(duplicatedPromptIntents([...events, { ...intent, seq: events.length + 1 }])).toBe(1);
  });

  it('after a kill mid-approval: no stale event, one orphan honoured once, recovery facts measured; a planted second carry-over and a planted stale event are counted', async () => {
    const harness = await createRun({ script: 'edit-and-test' });
    const { controller } = harness;
    await controller.start();
    const { turn, request } = await harness.promptToFirstApproval('Write hello.txt and check it');
    controller.killAgent();
    await harness.waitForType('session.bound', (event) => event.payload.generation === 2);
    expect(await controller.waitForTurn(turn)).toBe('agent_restarted');
    await controller.waitForState((state) => state === 'idle');
    await controller.decide(request.payload.approvalId, 'allow_once');
    const answering = harness.answerApprovals('allow_once');
    const next = await controller.prompt('Continue');
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
    answering.stop();

    const events = harness.events();
    expect(staleGenerationEvents(events)).toEqual([]);
    expect(checkApprovalContinuity(events)).toEqual({ orphaned: 1, honoured: 1, problems: [] });
    const facts = runReliabilityFacts(harness.runId, events);
    expect(facts).toMatchObject({ restarts: 1, approvalsReset: 1, approvalsCarried: 1, duplicatedPrompts: 0, staleGenerationEvents: 0 });
    expect(facts.recoveries[0]).toMatchObject({ generation: 2, reason: 'agent_restarted', outcome: 'replayed' });
    expect(facts.recoveries[0]!.recoveryMs).toBeGreaterThanOrEqual(0);
    expect(facts.recovery).toMatchObject({ count: 1 });

    // Planted: the carry-over applied a second time, and generation 1 speaking after its exit.
    const carried = events.find((event) => event.type === 'approval.decided' && (event.payload as { by: string }).by === 'carryover')!;
    const twice = checkApprovalContinuity([...events, { ...carried, seq: events.length + 1 }]);
    expect(twice).toMatchObject({ orphaned: 1, honoured: 0 });
    expect(twice.problems[0]).toContain('carried over 2 times');
    const early = events.find((event) => event.type === 'thought.chunk' && event.generation === 1)!;
    expect(early).toBeDefined();
    expect(staleGenerationEvents([...events, { ...early, seq: events.length + 1 }])).toHaveLength(1);
  });

  it('a forgotten session is one visible remap; a planted second remap is not clean', async () => {
    const harness = await createRun({ script: 'hello' });
    await harness.startBound();
    fs.rmSync(harness.agentStateDir, { recursive: true, force: true });
    const mark = harness.events().at(-1)!.seq;
    harness.controller.killAgent();
    await harness.waitForType('session.bound', (event) => event.payload.generation === 2);
    await harness.controller.waitForState((state) => state === 'idle');
    const events = harness.events();
    expect(checkRemap(events, mark)).toEqual({ remapped: true, problems: [] });
    const bound = events.filter((event) => event.type === 'session.bound').at(-1)!;
    expect(checkRemap([...events, { ...bound, seq: events.length + 1 }], mark)).toEqual({ remapped: false, problems: ['2 remaps recorded (expected exactly one)'] });
    // Before the fault there was no remap to check.
    expect(checkRemap(events.filter((event) => event.seq <= mark), mark).remapped).toBe(false);
  });
});
