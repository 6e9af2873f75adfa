// The run state fold: what the decider, reconciliation and attention read of a run, and the
// one approval rule the transcript fold shares with it (I9).
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Action, LedgerEvent } from '../src/contract/index.js';
import { openLedger } from '../src/ledger/index.js';
import { approvalStatusAfter, fold, readRunState, RUN_STATE_TYPES } from '../src/replay/index.js';
import { AttentionTracker } from '../src/runs/index.js';
import { readAll, syntheticBodies } from './fixtures/ledger-kit.js';
import { events, step, type Step } from './fixtures/replay-kit.js';
import { tempDir } from './helpers.js';

const WRITE: Action = { kind: 'write', title: 'Write a', paths: ['/ws/a'] };
const created = step('run.created', { workspace: '/ws', agent: { kind: 'builtin' }, approvalMode: 'interactive', title: 'T' });
const requested = (approvalId: string, generation = 1) =>
  step('approval.requested', { approvalId, generation, action: WRITE, actionKey: 'k', reason: 'r', source: 'agent' }, generation);

describe('run state fold', () => {
  it('reads the run, its generations, its open turn, its session and its ended turns from events alone', () => {
    const state = readRunState('run-1', events([
      created,
      step('runtime.started', { generation: 1, pid: 10, command: ['a', 'b'], hostPid: 5 }),
      step('session.bound', { generation: 1, sessionId: 's1', outcome: 'new', method: 'session/new', remapped: false }, 1),
      step('prompt.sent', { turn: 1, text: 'one', ik: 'ik:1' }, 1),
      step('turn.ended', { turn: 1, stopReason: 'end_turn' }, 1),
      step('prompt.sent', { turn: 2, text: 'two', ik: 'ik:2' }, 1),
      step('terminal.started', { terminalId: 't1', command: 'sh', args: ['-c', 'x'], cwd: '/ws', pid: 77 }, 1),
      step('runtime.exited', { generation: 1, code: null, signal: 'SIGKILL', expected: false }, 1),
      step('runtime.restarting', { nextGeneration: 2, attempt: 1, delayMs: 10, reason: 'agent_hung' }),
    ]));
    expect(state).toMatchObject({ workspace: '/ws', title: 'T', approvalMode: 'interactive', sessionId: 's1', generation: 1, hostPid: 5, currentTurn: 2, lastGenerationExited: true, restartPending: true, lastRestartReason: 'agent_hung' });
    expect(state.openTurn).toEqual({ turn: 2, text: 'two', ik: 'ik:2' });
    expect(state.turnStops.get(1)).toBe('end_turn');
    expect(state.agents.get(1)).toEqual({ pid: 10, command: ['a', 'b'], tag: null });
    expect([...state.openTerminals]).toEqual([['t1', { pid: 77, command: ['sh', '-c', 'x'] }]]);
  });

  it('skips repeated seqs and events it cannot decode, never throwing', () => {
    const list = events([created, step('prompt.sent', { turn: 1, text: 'x', ik: 'ik:x' }, 1)]);
    const broken = { ...list[1]!, seq: 3, type: 'prompt.sent', payload: { turn: 'no' } } as LedgerEvent;
    const state = readRunState('run-1', [...list, list[1]!, broken]);
    expect(state.currentTurn).toBe(1);
    expect(state.lastSeq).toBe(3);
  });

  it('approval rule: a decision always lands, a timeout or cancel never overturns a settled request, a reset orphans only a waiting one', () => {
    expect(approvalStatusAfter('orphaned', 'approval.decided')).toBe('decided');
    expect(approvalStatusAfter('decided', 'approval.cancelled')).toBe('decided');
    expect(approvalStatusAfter('timed_out', 'approval.cancelled')).toBe('timed_out');
    expect(approvalStatusAfter('orphaned', 'approval.cancelled')).toBe('cancelled');
    expect(approvalStatusAfter('pending', 'approval.timed_out')).toBe('timed_out');
    expect(approvalStatusAfter('pending', 'approval.reset')).toBe('orphaned');
    expect(approvalStatusAfter('decided', 'approval.reset')).toBe('decided');
  });

  it('one count of waiting approvals (I9): run state, transcript fold and attention agree on 300 random histories', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let history = 0; history < 300; history++) {
      const steps: Step[] = [created];
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const roll = random();
        const id = ids[Math.floor(random() * ids.length)];
        if (roll < 0.35 || id === undefined) {
          ids.push(`a${i}`);
          steps.push(requested(`a${i}`, 1 + Math.floor(random() * 2)));
        } else if (roll < 0.5) steps.push(step('approval.decided', { approvalId: id, decision: 'allow_once', by: 'user' }));
        else if (roll < 0.65) steps.push(step('approval.timed_out', { approvalId: id }));
        else if (roll < 0.8) steps.push(step('approval.cancelled', { approvalId: id, reason: 'r' }));
        else steps.push(step('approval.reset', { generation: 1, approvalIds: ids.filter(() => random() < 0.5), reason: 'r' }));
      }
      const list = events(steps);
      const state = readRunState('run-1', list);
      const view = fold(list, 'run-1');
      const attention = new AttentionTracker();
      let badge = 0;
      for (const event of list) badge = attention.observe(event)?.pending ?? badge;
      expect(view.pendingApprovals).toEqual(state.pendingApprovals);
      expect(badge).toBe(state.pendingApprovals.length);
      const statuses = new Map(view.items.flatMap((item) => (item.kind === 'approval' ? [[item.approvalId, item.status] as const] : [])));
      for (const [id, record] of state.approvals) expect(statuses.get(id)).toBe(record.status);
    }
  });
});

describe('run state of a stored run', () => {
  it('folded from only the types it reads (what RunController.open reads, a page at a time) is the fold of every event', { timeout: 60_000 }, async () => {
    const dataDir = tempDir('keel-run-state-');
    const ledger = await openLedger({ dataDir, streamWindowMs: 1 });
    try {
      const runId = ledger.newRunId();
      const bodies = syntheticBodies(6_000, 5);
      for (let at = 0; at < bodies.length; at += 500) await Promise.all(bodies.slice(at, at + 500).map((body) => ledger.append(runId, body, { durability: 'stream' })));
      const all = readAll(ledger, runId);
      const { lastSeq: _all, ...fromAll } = readRunState(runId, all);
      const { lastSeq: _some, ...fromTypes } = readRunState(runId, ledger.eventsOfTypes(runId, RUN_STATE_TYPES, { pageSize: 700 }));
      expect(fromTypes).toEqual(fromAll);
      // The synthetic run has approvals, tools, turns and generations: the comparison is not of two empty states.
      expect(fromAll.approvals.size).toBeGreaterThan(0);
      expect(fromAll.currentTurn).toBeGreaterThan(1);
      expect(all.length).toBeGreaterThan([...ledger.eventsOfTypes(runId, RUN_STATE_TYPES)].length);
    } finally {
      await ledger.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
