import { describe, expect, it } from 'vitest';
import { RunView, type LedgerEvent } from '../src/contract/index.js';
import { apply, RunViewFold, fold, initialView, planProgress, ReplayIndex } from '../src/replay/index.js';
import { mulberry32, syntheticRun } from '../src/replay/synthetic.js';
import { deepFreeze, events, itemsOf, step } from './fixtures/replay-kit.js';

const created = step('run.created', { workspace: '/repo', agent: { kind: 'builtin', script: 'demo' }, title: 'Fix the bug' });

describe('fold: transcript', () => {
  it('starts empty and matches the RunView schema', () => {
    const view = initialView('run-1');
    expect(RunView.parse(view)).toEqual(view);
    expect(view).toMatchObject({ runId: 'run-1', lastSeq: 0, eventCount: 0, state: 'created', items: [], currentTurn: 0 });
    expect(fold([])).toMatchObject({ runId: '', items: [] });
  });

  it('merges consecutive chunks of the same kind, turn and generation; anything else starts a new item', () => {
    const view = fold(
      events([
        created,
        step('prompt.sent', { turn: 1, text: 'hi', ik: 'ik:1' }),
        step('thought.chunk', { turn: 1, text: 'let me ' }),
        step('thought.chunk', { text: 'think' }), // no turn: the current turn, so it merges
        step('message.chunk', { turn: 1, text: 'Hello ' }),
        step('message.chunk', { turn: 1, text: 'world' }),
        step('thought.chunk', { turn: 1, text: 'hmm' }),
        step('message.chunk', { turn: 1, text: '!' }),
        step('message.chunk', { turn: 2, text: 'other turn' }),
        step('message.chunk', { turn: 2, text: ' gen 3' }, 3),
        step('note', { text: 'between' }),
        step('message.chunk', { turn: 2, text: 'after note' }, 3),
      ]),
    );
    expect(view.items.map((item) => item.kind)).toEqual(['prompt', 'thought', 'message', 'thought', 'message', 'message', 'message', 'note', 'message']);
    expect(view.items[0]).toEqual({ kind: 'prompt', seq: 2, ts: '2025-01-01T00:00:02.000Z', turn: 1, text: 'hi', ik: 'ik:1' });
    expect(view.items[1]).toEqual({
      kind: 'thought',
      firstSeq: 3,
      lastSeq: 4,
      ts: '2025-01-01T00:00:03.000Z',
      turn: 1,
      generation: null,
      text: 'let me think',
      chunks: 2,
    });
    expect(view.items[2]).toMatchObject({ kind: 'message', firstSeq: 5, lastSeq: 6, text: 'Hello world', chunks: 2, turn: 1 });
    expect(view.items[4]).toMatchObject({ text: '!', turn: 1 });
    expect(view.items[5]).toMatchObject({ text: 'other turn', turn: 2, generation: null });
    expect(view.items[6]).toMatchObject({ text: ' gen 3', turn: 2, generation: 3 });
    expect(view.items[8]).toMatchObject({ text: 'after note', firstSeq: 12, lastSeq: 12 });
  });

  it('gives chunks before the first prompt no turn', () => {
    const view = fold(events([step('message.chunk', { text: 'early' }), step('message.chunk', { text: ' bird' })]));
    expect(view.items).toEqual([expect.objectContaining({ kind: 'message', turn: null, text: 'early bird', chunks: 2 })]);
  });

  it('follows a tool call from start through updates to completion, in place', () => {
    const view = fold(
      events([
        created,
        step('prompt.sent', { turn: 1, text: 'run tests', ik: 'ik:1' }),
        step('tool.started', { toolCallId: 't1', title: 'npm test', kind: 'execute', input: { command: 'npm test' } }),
        step('tool.updated', { toolCallId: 't1', status: 'in_progress', output: 'line 1\n' }),
        step('message.chunk', { turn: 1, text: 'running...' }),
        step('tool.updated', { toolCallId: 't1', output: 'line 2\n', diff: { path: 'a.ts', oldText: null, newText: 'v1' } }),
        step('tool.updated', { toolCallId: 't1', diff: { path: 'b.ts', oldText: 'x', newText: 'y' } }),
        step('tool.updated', { toolCallId: 't1', diff: { path: 'a.ts', oldText: 'v1', newText: 'v2' } }),
        step('tool.updated', { toolCallId: 't1', status: 'completed' }),
        step('tool.started', { toolCallId: 't2', title: 'rm -rf', kind: 'execute' }),
        step('tool.updated', { toolCallId: 't2', status: 'failed', output: 'denied' }),
      ]),
    );
    const [first, second] = itemsOf(view, 'tool');
    expect(view.items.map((item) => item.kind)).toEqual(['prompt', 'tool', 'message', 'tool']);
    expect(first).toEqual({
      kind: 'tool',
      firstSeq: 3,
      lastSeq: 9,
      ts: '2025-01-01T00:00:03.000Z',
      turn: 1,
      toolCallId: 't1',
      title: 'npm test',
      toolKind: 'execute',
      input: { command: 'npm test' },
      status: 'completed',
      output: 'line 1\nline 2\n',
      diffs: [
        { path: 'a.ts', oldText: 'v1', newText: 'v2', seq: 8 },
        { path: 'b.ts', oldText: 'x', newText: 'y', seq: 7 },
      ],
    });
    expect(second).toMatchObject({ toolCallId: 't2', status: 'failed', output: 'denied', diffs: [] });
  });

  it('keeps output of a tool it never saw start, and a repeated start updates the item in place', () => {
    const log = events([
      step('tool.updated', { toolCallId: 'ghost', output: 'late\n', status: 'in_progress' }),
      step('tool.started', { toolCallId: 'ghost', title: 'found it', kind: 'read' }),
      step('tool.updated', { toolCallId: 'ghost', output: 'more\n' }),
    ]);
    expect(fold(log.slice(0, 1)).items).toEqual([expect.objectContaining({ title: '', toolKind: null, status: 'in_progress', output: 'late\n' })]);
    expect(fold(log.slice(0, 2)).items).toEqual([expect.objectContaining({ title: 'found it', toolKind: 'read', firstSeq: 1, lastSeq: 2 })]);
    const view = fold(log);
    expect(view.items).toHaveLength(1);
    expect(view.items[0]).toMatchObject({ toolCallId: 'ghost', title: 'found it', toolKind: 'read', status: 'in_progress', output: 'late\nmore\n', firstSeq: 1, lastSeq: 3 });
  });

  it('records turn ends, repairs with their details, and notes', () => {
    const view = fold(
      events([
        step('prompt.sent', { turn: 1, text: 'go', ik: 'ik:1' }),
        step('turn.ended', { turn: 1, stopReason: 'end_turn' }),
        step('ledger.repaired', { reason: 'torn tail', truncatedBytes: 17, brokenFile: 'run.ndjson.broken', keptThroughSeq: 2 }),
        step('note', { text: 'hello' }),
      ]),
    );
    expect(view.items.slice(1)).toEqual([
      { kind: 'turn_end', seq: 2, ts: '2025-01-01T00:00:02.000Z', turn: 1, stopReason: 'end_turn' },
      { kind: 'repair', seq: 3, ts: '2025-01-01T00:00:03.000Z', reason: 'torn tail', truncatedBytes: 17, brokenFile: 'run.ndjson.broken', keptThroughSeq: 2 },
      { kind: 'note', seq: 4, ts: '2025-01-01T00:00:04.000Z', text: 'hello' },
    ]);
    expect(view).toMatchObject({ currentTurn: 1, turnOpen: false });
  });
});

describe('fold: run header', () => {
  it('follows state transitions, stop reasons, turns and generations', () => {
    const log = events([
      created,
      step('run.state', { state: 'starting' }, 1),
      step('run.state', { state: 'idle' }, 1),
      step('prompt.sent', { turn: 1, text: 'go', ik: 'ik:1' }, 1),
      step('run.state', { state: 'running' }, 1),
      step('run.state', { state: 'awaiting_approval', detail: 'exec rm' }, 1),
      step('run.state', { state: 'interrupted', stopReason: 'agent_crashed', detail: 'exit 137' }, 1),
      step('run.state', { state: 'running' }, 2),
      step('note', { text: 'stale generation' }, 1),
    ]);
    const at = (n: number) => fold(log.slice(0, n));
    expect(at(1)).toMatchObject({ workspace: '/repo', agent: { kind: 'builtin', script: 'demo' }, title: 'Fix the bug', state: 'created', createdAt: '2025-01-01T00:00:01.000Z' });
    expect(at(3)).toMatchObject({ state: 'idle', generation: 1, currentTurn: 0, turnOpen: false });
    expect(at(5)).toMatchObject({ state: 'running', currentTurn: 1, turnOpen: true, stateSince: '2025-01-01T00:00:05.000Z' });
    expect(at(6)).toMatchObject({ state: 'awaiting_approval', stopReason: null, detail: 'exec rm' });
    expect(at(7)).toMatchObject({ state: 'interrupted', stopReason: 'agent_crashed', detail: 'exit 137' });
    expect(at(9)).toMatchObject({
      state: 'running',
      stopReason: null,
      detail: null,
      generation: 2, // the highest seen, not the latest
      lastSeq: 9,
      eventCount: 9,
      updatedAt: '2025-01-01T00:00:09.000Z',
      createdAt: '2025-01-01T00:00:01.000Z',
    });
  });

  it('computes weighted plan progress once: in_progress counts half', () => {
    expect(planProgress([])).toEqual({ total: 0, completed: 0, inProgress: 0, pending: 0, ratio: null, percent: null });
    const entries = [
      { content: 'a', status: 'completed' as const },
      { content: 'b', status: 'in_progress' as const, priority: 'high' as const },
      { content: 'c', status: 'pending' as const },
      { content: 'd', status: 'pending' as const },
    ];
    expect(planProgress(entries)).toEqual({ total: 4, completed: 1, inProgress: 1, pending: 2, ratio: 0.375, percent: 38 });
    const view = fold(events([step('plan.updated', { entries }), step('plan.updated', { entries: entries.map((e) => ({ ...e, status: 'completed' as const })) })]));
    expect(view.plan.map((entry) => entry.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(view.progress).toMatchObject({ ratio: 1, percent: 100 });
    expect(fold(events([step('plan.updated', { entries })])).progress.percent).toBe(38);
  });
});

describe('fold: robustness', () => {
  it('counts unknown types and invalid payloads as part of the run but otherwise ignores them', () => {
    const log = events([
      step('message.chunk', { text: 'a' }),
      { type: 'future.kind', payload: { whatever: [1, 2] } },
      { type: 'future.kind', payload: null },
      { type: 'another.future', payload: 'x' },
      { type: 'message.chunk', payload: { text: 42 } },
      { type: 'run.state', payload: { state: 'exploded' } },
      step('message.chunk', { text: 'b' }),
    ]);
    const view = fold(log);
    expect(view.items).toEqual([expect.objectContaining({ kind: 'message', text: 'ab', chunks: 2 })]);
    expect(view).toMatchObject({ eventCount: 7, lastSeq: 7, state: 'created' });
    expect(view.ignored).toEqual({ unknownType: 3, invalidPayload: 2, invalidEnvelope: 0, outOfOrder: 0, otherRun: 0, unknownTypes: ['future.kind', 'another.future'] });
  });

  it('never throws on damaged envelopes, duplicates or another run, and leaves them out of the sequence', () => {
    const [first, second, third] = events([step('note', { text: '1' }), step('note', { text: '2' }), step('note', { text: '3' })]);
    const garbage = [
      null,
      'text',
      { ...second!, seq: '2' },
      { ...second!, seq: -1 },
      { ...second!, ts: 5 },
      { ...second!, generation: -1 },
      { ...second!, type: undefined },
    ] as unknown as LedgerEvent[];
    const view = fold([first!, ...garbage, second!, second!, first!, { ...third!, run_id: 'other' }, third!]);
    expect(itemsOf(view, 'note').map((note) => note.text)).toEqual(['1', '2', '3']);
    expect(view).toMatchObject({ runId: 'run-1', eventCount: 3, lastSeq: 3 });
    expect(view.ignored).toMatchObject({ invalidEnvelope: garbage.length, outOfOrder: 2, otherRun: 1 });
  });

  it('a synthetic mixed run folds into a view the schema accepts', () => {
    const view = fold(syntheticRun(5000, { seed: 7 }));
    expect(() => RunView.parse(view)).not.toThrow();
    expect(view.eventCount).toBe(5000);
    expect(new Set(view.items.map((item) => item.kind))).toEqual(
      new Set(['prompt', 'message', 'thought', 'tool', 'turn_end', 'repair', 'note', 'approval', 'recovery', 'command', 'file_write']),
    );
  });
});

describe('fold: purity and immutability', () => {
  const log = Array.from(syntheticRun(3000, { seed: 3 }));

  it('apply never mutates its input, and step-by-step apply equals fold', () => {
    let view = deepFreeze(initialView());
    for (const [i, event] of log.entries()) {
      const before = i % 250 === 0 ? structuredClone(view) : undefined;
      const next = apply(view, event); // a write into a frozen view would throw here
      if (before) expect(view).toEqual(before);
      view = deepFreeze(next);
    }
    expect(view).toEqual(fold(log));
  });

  it('a RunViewFold never changes a snapshot it handed out', () => {
    const folder = new RunViewFold();
    log.slice(0, 1500).forEach((event) => folder.push(event));
    const early = folder.snapshot();
    const copy = structuredClone(early);
    log.slice(1500).forEach((event) => folder.push(event));
    expect(early).toEqual(copy);
    expect(folder.snapshot()).toEqual(fold(log));
  });

  it('is deterministic', () => {
    expect(fold(log)).toEqual(fold(Array.from(syntheticRun(3000, { seed: 3 }))));
  });
});

describe('ReplayIndex', () => {
  it('stateAt(seq) equals fold(events.slice(0, seq)) for random seqs (seeded, property style)', () => {
    for (const seed of [1, 2, 3, 42, 2025]) {
      const random = mulberry32(seed);
      const count = 2000 + Math.floor(random() * 8000);
      const log = Array.from(syntheticRun(count, { seed }));
      for (const every of [1, 7, 64, 4096]) {
        const index = ReplayIndex.build(log, { every });
        const seqs = [0, 1, every - 1, every, every + 1, count - 1, count, count + 5];
        for (let n = 0; n < 25; n++) seqs.push(Math.floor(random() * (count + 1)));
        for (const seq of seqs) {
          expect(index.stateAt(seq), `seed ${seed}, every ${every}, seq ${seq} of ${count}`).toEqual(fold(log.slice(0, seq)));
        }
      }
    }
  });

  it('extends incrementally: appending equals building at once, and earlier states stay put', () => {
    const log = Array.from(syntheticRun(5000, { seed: 11 }));
    const live = new ReplayIndex({ every: 256 });
    log.slice(0, 2000).forEach((event) => live.append(event));
    const middle = live.stateAt(1500);
    const middleCopy = structuredClone(middle);
    expect(live.current()).toEqual(fold(log.slice(0, 2000)));
    log.slice(2000).forEach((event) => live.append(event));
    expect(middle).toEqual(middleCopy);
    expect(live.current()).toEqual(fold(log));
    expect(live.stateAt(3333)).toEqual(fold(log.slice(0, 3333)));
    expect(live).toMatchObject({ length: 5000, lastSeq: 5000, markCount: 1 + Math.floor(5000 / 256) });
  });

  it('with duplicated or out-of-order records, stops before the first event past seq', () => {
    const log = Array.from(syntheticRun(600, { seed: 5 }));
    const shuffled = [...log.slice(0, 300), log[100]!, log[450]!, ...log.slice(300)];
    const index = ReplayIndex.build(shuffled, { every: 50 });
    for (const seq of [0, 99, 100, 299, 300, 449, 450, 451, 599, 600]) {
      const stop = shuffled.findIndex((event) => event.seq > seq);
      expect(index.stateAt(seq), `seq ${seq}`).toEqual(fold(stop === -1 ? shuffled : shuffled.slice(0, stop)));
    }
  });

  it('rejects a negative seq', () => {
    expect(() => new ReplayIndex().stateAt(-1)).toThrow(RangeError);
    expect(() => new ReplayIndex({ every: 0 })).toThrow(RangeError);
  });
});
