// The conversation pane's items beyond the transcript proper: approvals (I5), recovery cards
// (I4, I6, texts built once in the fold: I9), commands Keel ran and files it wrote — from
// hand-made ledgers, from the synthetic generator, and from a real ledger Keel's runtime
// wrote while the built-in agent crashed mid-turn.
import { describe, expect, it } from 'vitest';
import { EventBody, RunView, STOP_REASONS, type ItemOfKind, type PayloadOf } from '../src/contract/index.js';
import { apply, RunViewFold, fold, initialView, ReplayIndex } from '../src/replay/index.js';
import { syntheticRun } from '../src/replay/synthetic.js';
import { deepFreeze, events, itemsOf, step, type Step } from './fixtures/replay-kit.js';
import { createRun, useRuntimeSuite } from './fixtures/runtime-kit.js';

const approval = (id: string, rest: Partial<PayloadOf<'approval.requested'>> = {}) =>
  step('approval.requested', {
    approvalId: id,
    generation: 1,
    action: { kind: 'exec', title: `run ${id}`, command: 'npm', args: ['test'] },
    actionKey: `key-${id}`,
    reason: 'not allowed by default',
    source: 'agent',
    ...rest,
  });

const prompt = (turn: number) => step('prompt.sent', { turn, text: `prompt ${turn}`, ik: `ik:${turn}` });

/**
 * One of everything the new items cover, in a plausible order: an approval lifecycle with a
 * crash in the middle (reset, orphaned, late decision, carry-over), recovery events, a
 * command with streamed output, a file write and a skipped prompt.
 */
const story: Step[] = [
  step('run.created', { workspace: '/repo', agent: { kind: 'builtin', script: 'demo' } }),
  step('runtime.started', { generation: 1, pid: 10, command: ['agent'], hostPid: 1 }),
  step('session.bound', { generation: 1, sessionId: 's1', outcome: 'new', method: 'session/new', remapped: false }, 1),
  prompt(1),
  approval('a1', { turn: 1, timeoutMs: 60_000 }),
  step('approval.decided', { approvalId: 'a1', decision: 'allow_once', by: 'user' }),
  step('terminal.started', { terminalId: 'term-1', command: 'npm', args: ['test'], cwd: '/repo', approvalId: 'a1' }, 1),
  step('terminal.output', { terminalId: 'term-1', text: 'running\n' }, 1),
  step('message.chunk', { turn: 1, text: 'waiting for tests' }, 1),
  step('terminal.output', { terminalId: 'term-1', text: 'tests passed\n' }, 1),
  step('terminal.exited', { terminalId: 'term-1', exitCode: 0, signal: null }, 1),
  approval('a2'), // no turn in the payload: the current turn
  approval('a3'),
  step('approval.timed_out', { approvalId: 'a3' }),
  approval('a4'),
  step('runtime.exited', { generation: 1, code: 17, signal: null, expected: false, stderrTail: 'boom' }, 1),
  step('approval.reset', { generation: 1, approvalIds: ['a2', 'a3', 'a4'], reason: 'the agent process exited' }),
  step('runtime.restarting', { nextGeneration: 2, attempt: 1, delayMs: 20, reason: 'agent_restarted' }),
  step('runtime.started', { generation: 2, pid: 11, command: ['agent'], hostPid: 1 }),
  step('session.bound', { generation: 2, sessionId: 's1', outcome: 'replayed', method: 'session/load', remapped: false }, 2),
  step('prompt.skipped', { turn: 1, ik: 'ik:1', reason: "the agent's history shows it already has it" }),
  step('turn.ended', { turn: 1, stopReason: 'agent_restarted' }),
  step('approval.decided', { approvalId: 'a2', decision: 'allow_run', by: 'user', note: 'the process that asked is gone; applied when the same action is asked again' }),
  prompt(2),
  approval('a5', { generation: 2, actionKey: 'key-a2' }),
  step('approval.decided', { approvalId: 'a5', decision: 'allow_run', by: 'carryover', ref: 'a2', note: 'the same action was decided earlier in this run' }),
  step('fs.written', { path: '/repo/hello.txt', bytes: 34, sha256: 'f'.repeat(64), created: true, approvalId: 'a5' }, 2),
  approval('a6', { generation: 2 }),
  step('approval.cancelled', { approvalId: 'a6', reason: 'the turn was cancelled' }),
  step('turn.ended', { turn: 2, stopReason: 'cancelled' }),
];

describe('approvals (I5)', () => {
  const log = events(story);
  const at = (n: number) => fold(log.slice(0, n));
  const card = (view: RunView, id: string) => itemsOf(view, 'approval').find((item) => item.approvalId === id)!;

  it('a request is a pending card at its position; a decision settles it in place', () => {
    const pending = at(5);
    expect(pending.pendingApprovals).toEqual(['a1']);
    expect(pending.items.at(-1)).toEqual({
      kind: 'approval',
      seq: 5,
      lastSeq: 5,
      ts: '2025-01-01T00:00:05.000Z',
      turn: 1,
      approvalId: 'a1',
      generation: 1,
      action: { kind: 'exec', title: 'run a1', command: 'npm', args: ['test'] },
      actionKey: 'key-a1',
      reason: 'not allowed by default',
      source: 'agent',
      status: 'pending',
      decision: null,
      by: null,
      ref: null,
      note: null,
      timeoutMs: 60_000,
    });
    const decided = at(6);
    expect(decided.pendingApprovals).toEqual([]);
    expect(decided.items).toHaveLength(pending.items.length);
    expect(card(decided, 'a1')).toMatchObject({ seq: 5, lastSeq: 6, status: 'decided', decision: 'allow_once', by: 'user', ref: null, note: null });
    // The earlier view is untouched.
    expect(card(pending, 'a1').status).toBe('pending');
  });

  it('pendingApprovals lists pending requests oldest first; timed out is its own status, not a denial', () => {
    expect(at(13).pendingApprovals).toEqual(['a2', 'a3']);
    expect(card(at(13), 'a2').turn).toBe(1);
    expect(at(14).pendingApprovals).toEqual(['a2']);
    expect(card(at(14), 'a3')).toMatchObject({ status: 'timed_out', decision: null, lastSeq: 14, timeoutMs: null });
    expect(at(15).pendingApprovals).toEqual(['a2', 'a4']);
  });

  it('a reset orphans the listed pending requests (a settled one keeps its status) and shows a card', () => {
    const view = at(17);
    expect(view.pendingApprovals).toEqual([]);
    expect(itemsOf(view, 'approval').map((item) => [item.approvalId, item.status])).toEqual([
      ['a1', 'decided'],
      ['a2', 'orphaned'],
      ['a3', 'timed_out'],
      ['a4', 'orphaned'],
    ]);
    expect(card(view, 'a2').lastSeq).toBe(17);
    expect(card(view, 'a3').lastSeq).toBe(14);
    expect(view.items.at(-1)).toEqual({
      kind: 'recovery',
      seq: 17,
      ts: '2025-01-01T00:00:17.000Z',
      recovery: 'approvals_reset',
      generation: 1,
      text: '3 pending approvals were reset: the agent process exited. Decide them again; Keel applies your decision when the agent asks again.',
      outcome: null,
      detail: 'the agent process exited',
    });
  });

  it('an orphaned request decided later is decided (the note says where it goes); the next generation gets it by carry-over with a ref', () => {
    const late = at(23);
    expect(card(late, 'a2')).toMatchObject({
      status: 'decided',
      decision: 'allow_run',
      by: 'user',
      note: 'the process that asked is gone; applied when the same action is asked again',
      seq: 12,
      lastSeq: 23,
    });
    expect(late.pendingApprovals).toEqual([]);
    const view = fold(log);
    expect(card(view, 'a5')).toMatchObject({ generation: 2, turn: 2, status: 'decided', decision: 'allow_run', by: 'carryover', ref: 'a2', lastSeq: 26 });
    expect(card(view, 'a6')).toMatchObject({ status: 'cancelled', decision: null, note: 'the turn was cancelled' });
    expect(card(view, 'a4').status).toBe('orphaned');
    expect(view.pendingApprovals).toEqual([]);
  });

  it('the first settlement stands against a late timeout or cancel; a decision is always recorded; unknown ids are skipped', () => {
    const view = fold(
      events([
        approval('x'),
        step('approval.decided', { approvalId: 'x', decision: 'deny', by: 'user' }),
        step('approval.timed_out', { approvalId: 'x' }),
        step('approval.cancelled', { approvalId: 'x', reason: 'late' }),
        approval('y'),
        step('approval.reset', { generation: 1, approvalIds: ['y', 'nobody'], reason: 'the agent hung' }),
        step('approval.cancelled', { approvalId: 'y', reason: 'the run was closed' }),
        step('approval.decided', { approvalId: 'ghost', decision: 'deny', by: 'auto' }),
        step('approval.timed_out', { approvalId: 'ghost' }),
        approval('x', { reason: 'asked again under the same id' }),
      ]),
    );
    const cards = itemsOf(view, 'approval');
    expect(cards.map((item) => [item.approvalId, item.status, item.decision])).toEqual([
      ['x', 'decided', 'deny'],
      ['y', 'cancelled', null],
    ]);
    expect(cards[0]).toMatchObject({ reason: 'asked again under the same id', lastSeq: 10, seq: 1 });
    expect(view.pendingApprovals).toEqual([]);
    expect(view.ignored).toMatchObject({ unknownType: 0, invalidPayload: 0 });
    // The card reports the event as recorded (its id list), like every other surface would.
    expect(itemsOf(view, 'recovery')[0]!.text).toBe(
      '2 pending approvals were reset: the agent hung. Decide them again; Keel applies your decision when the agent asks again.',
    );
    const single = fold(events([approval('z'), step('approval.reset', { generation: 1, approvalIds: ['z'], reason: 'the agent process exited.' })]));
    expect(itemsOf(single, 'recovery')[0]!.text).toBe(
      '1 pending approval was reset: the agent process exited. Decide it again; Keel applies your decision when the agent asks again.',
    );
  });
});

describe('recovery cards (I4, I6, I9)', () => {
  const cards = (steps: Step[]) => itemsOf(fold(events(steps)), 'recovery').map(({ recovery, generation, text, outcome, detail }) => ({ recovery, generation, text, outcome, detail }));

  it('the story: exit, restart, new generation, session, in ledger order; expected exits, generation 1 and new sessions make no card', () => {
    const view = fold(events(story));
    expect(itemsOf(view, 'recovery').map((item) => [item.seq, item.recovery])).toEqual([
      [16, 'agent_exited'],
      [17, 'approvals_reset'],
      [18, 'restarting'],
      [19, 'agent_started'],
      [20, 'session'],
    ]);
    expect(cards(story)).toEqual([
      { recovery: 'agent_exited', generation: 1, text: 'Agent process #1 exited with code 17.', outcome: null, detail: 'boom' },
      expect.objectContaining({ recovery: 'approvals_reset' }),
      { recovery: 'restarting', generation: 2, text: 'Restarting the agent in 20 ms (attempt 1).', outcome: null, detail: 'agent_restarted' },
      { recovery: 'agent_started', generation: 2, text: 'Agent process #2 started.', outcome: null, detail: null },
      { recovery: 'session', generation: 2, text: 'Session restored (replayed by the agent).', outcome: 'replayed', detail: null },
    ]);
    expect(cards([step('runtime.exited', { generation: 3, code: 0, signal: null, expected: true })])).toEqual([]);
  });

  it('says how the agent died and how long the restart waits', () => {
    expect(
      cards([
        step('runtime.exited', { generation: 2, code: null, signal: 'SIGKILL', expected: false }),
        step('runtime.exited', { generation: 3, code: null, signal: null, expected: false }),
        step('runtime.restarting', { nextGeneration: 4, attempt: 3, delayMs: 1500, reason: 'agent_hung' }),
        step('runtime.hang', { generation: 4, idleMs: 120_000 }),
        step('runtime.hang', { generation: 4, idleMs: 45_000 }),
      ]).map((card) => [card.recovery, card.generation, card.text]),
    ).toEqual([
      ['agent_exited', 2, 'Agent process #2 was killed by SIGKILL.'],
      ['agent_exited', 3, 'Agent process #3 exited.'],
      ['restarting', 4, 'Restarting the agent in 1.5 s (attempt 3).'],
      ['hang', 4, 'The agent (process #4) did not respond for 2 min; Keel stopped it.'],
      ['hang', 4, 'The agent (process #4) did not respond for 45 s; Keel stopped it.'],
    ]);
  });

  it('every session outcome but new says what happened, remaps included (never silently fresh)', () => {
    const bound = (outcome: PayloadOf<'session.bound'>['outcome'], remapped: boolean, detail?: string) =>
      step('session.bound', { generation: 2, sessionId: outcome === 'unavailable' ? null : 's', outcome, method: 'm', remapped, ...(detail ? { detail } : {}) });
    expect(
      cards([
        bound('new', false),
        bound('replayed', false),
        bound('restored', false),
        bound('fresh', true, 'the agent no longer knew session s; remapped once to a new session'),
        bound('fresh', false, 'the agent cannot restore sessions'),
        bound('unavailable', false, 'the agent could not create a session: boom'),
        bound('unavailable', true),
      ]).map((card) => [card.outcome, card.text, card.detail]),
    ).toEqual([
      ['replayed', 'Session restored (replayed by the agent).', null],
      ['restored', 'Session restored.', null],
      ['fresh', 'The agent had lost the session; Keel started a fresh one (remapped once).', 'the agent no longer knew session s; remapped once to a new session'],
      ['fresh', 'A fresh session: the agent cannot restore sessions.', 'the agent cannot restore sessions'],
      ['unavailable', 'No session could be bound.', 'the agent could not create a session: boom'],
      ['unavailable', 'No session could be bound, even after remapping once.', null],
    ]);
  });

  it('host recovery, a stopped runtime (the registry\'s diagnosis) and protocol errors', () => {
    expect(
      cards([
        step('runtime.started', { generation: 1, pid: 1, command: ['a'], hostPid: 1 }),
        step('run.recovered', { reason: 'host_interrupted', previousState: 'awaiting_approval', hostPid: 4 }),
        step('runtime.protocol_error', { generation: 1, kind: 'garbage', detail: 'not JSON: "hello"', sample: 'hello' }, 1),
        step('runtime.protocol_error', { generation: 1, kind: 'oversize', detail: 'a 9 MB line' }, 1),
        step('runtime.stopped', { stopReason: 'runtime_stopped', attempts: 5, detail: 'The agent exited 6 times; restarts are exhausted.' }),
        step('runtime.stopped', { stopReason: 'no_such_reason_yet', attempts: 0, detail: 'from a newer build' }, 7),
      ]),
    ).toEqual([
      {
        recovery: 'host_recovered',
        generation: 1,
        text: 'Keel had stopped while this run was awaiting approval; the run was marked interrupted and resumes with the next prompt.',
        outcome: null,
        detail: 'host_interrupted',
      },
      { recovery: 'protocol_error', generation: 1, text: 'The agent (process #1) sent a line that is not JSON.', outcome: 'garbage', detail: 'not JSON: "hello"' },
      { recovery: 'protocol_error', generation: 1, text: 'The agent (process #1) sent a message over the size limit.', outcome: 'oversize', detail: 'a 9 MB line' },
      {
        recovery: 'runtime_stopped',
        generation: 1,
        text: STOP_REASONS.runtime_stopped.diagnosis,
        outcome: 'runtime_stopped',
        detail: 'The agent exited 6 times; restarts are exhausted.',
      },
      { recovery: 'runtime_stopped', generation: 7, text: STOP_REASONS.internal_error.diagnosis, outcome: 'no_such_reason_yet', detail: 'from a newer build' },
    ]);
  });

  it('restarts counts generations from 2 on; runtimeStopped holds from runtime.stopped to the next start', () => {
    const log = events([
      step('runtime.started', { generation: 1, pid: 1, command: ['a'], hostPid: 1 }),
      step('runtime.exited', { generation: 1, code: 17, signal: null, expected: false }),
      step('runtime.started', { generation: 2, pid: 2, command: ['a'], hostPid: 1 }),
      step('runtime.exited', { generation: 2, code: 17, signal: null, expected: false }),
      step('runtime.stopped', { stopReason: 'runtime_stopped', attempts: 1, detail: 'exhausted' }),
      step('run.state', { state: 'stopped', stopReason: 'runtime_stopped' }),
      step('runtime.started', { generation: 3, pid: 3, command: ['a'], hostPid: 1 }),
    ]);
    const at = (n: number) => {
      const { restarts, runtimeStopped, generation } = fold(log.slice(0, n));
      return { restarts, runtimeStopped, generation };
    };
    expect(at(0)).toEqual({ restarts: 0, runtimeStopped: false, generation: null });
    expect(at(1)).toEqual({ restarts: 0, runtimeStopped: false, generation: 1 }); // runtime.started begins a generation
    expect(at(3)).toMatchObject({ restarts: 1, runtimeStopped: false });
    expect(at(5)).toMatchObject({ restarts: 1, runtimeStopped: true });
    expect(at(6)).toMatchObject({ restarts: 1, runtimeStopped: true });
    expect(at(7)).toMatchObject({ restarts: 2, runtimeStopped: false });
  });
});

describe('commands, file writes, skipped prompts', () => {
  it('a command keeps its place; output is appended in ledger order across other items; exit settles it', () => {
    const view = fold(events(story));
    const [command] = itemsOf(view, 'command');
    expect(command).toEqual({
      kind: 'command',
      seq: 7,
      lastSeq: 11,
      ts: '2025-01-01T00:00:07.000Z',
      turn: 1,
      terminalId: 'term-1',
      toolCallId: null,
      command: 'npm',
      args: ['test'],
      cwd: '/repo',
      output: 'running\ntests passed\n',
      status: 'exited',
      exitCode: 0,
      signal: null,
    });
    expect(view.items.map((item) => item.kind).slice(0, 5)).toEqual(['prompt', 'approval', 'command', 'message', 'approval']);
    expect(itemsOf(fold(events(story).slice(0, 8)), 'command')[0]).toMatchObject({ status: 'running', output: 'running\n', exitCode: null });
  });

  it('output or an exit for a terminal it never saw start still makes a card (nothing dropped); a repeated start updates in place', () => {
    const view = fold(
      events([
        step('terminal.output', { terminalId: 't', text: 'late ' }),
        step('terminal.started', { terminalId: 't', command: 'make', args: [], cwd: '/w' }),
        step('terminal.output', { terminalId: 't', text: 'more' }),
        step('terminal.exited', { terminalId: 'u', exitCode: null, signal: 'SIGKILL' }),
      ]),
    );
    expect(itemsOf(view, 'command')).toEqual([
      expect.objectContaining({ terminalId: 't', seq: 1, lastSeq: 3, command: 'make', cwd: '/w', output: 'late more', status: 'running', turn: null }),
      expect.objectContaining({ terminalId: 'u', command: '', output: '', status: 'exited', exitCode: null, signal: 'SIGKILL' }),
    ]);
  });

  it('ids of tools, approvals and terminals live in separate namespaces', () => {
    const view = fold(
      events([
        step('tool.started', { toolCallId: 'same', title: 'tool' }),
        approval('same'),
        step('terminal.started', { terminalId: 'same', command: 'ls', args: [], cwd: '/' }),
        step('tool.updated', { toolCallId: 'same', output: 'tool out' }),
        step('terminal.output', { terminalId: 'same', text: 'term out' }),
        step('approval.decided', { approvalId: 'same', decision: 'deny', by: 'user' }),
      ]),
    );
    expect(view.items.map((item) => item.kind)).toEqual(['tool', 'approval', 'command']);
    expect(view.items[0]).toMatchObject({ output: 'tool out' });
    expect(view.items[1]).toMatchObject({ status: 'decided' });
    expect(view.items[2]).toMatchObject({ output: 'term out' });
  });

  it('a file write is an item of its turn; a skipped prompt is a note', () => {
    const view = fold(events(story));
    expect(itemsOf(view, 'file_write')).toEqual([
      { kind: 'file_write', seq: 27, ts: '2025-01-01T00:00:27.000Z', turn: 2, path: '/repo/hello.txt', bytes: 34, created: true },
    ]);
    expect(itemsOf(view, 'note')).toEqual([
      { kind: 'note', seq: 21, ts: '2025-01-01T00:00:21.000Z', text: "Prompt for turn 1 not re-sent: the agent's history shows it already has it." },
    ]);
  });

  it('a dead generation\'s open tool calls end interrupted with the generation and reason; a finished call stays finished', () => {
    const view = fold(
      events([
        prompt(1),
        step('tool.started', { toolCallId: 't1', title: 'Run tests' }, 1),
        step('tool.started', { toolCallId: 't2', title: 'Read' }, 1),
        step('tool.updated', { toolCallId: 't2', status: 'completed' }, 1),
        step('tool.interrupted', { generation: 1, toolCallIds: ['t1', 't2', 'unknown'], reason: 'agent_hung' }),
      ]),
    );
    const tools = itemsOf(view, 'tool');
    expect(tools.map((tool) => [tool.toolCallId, tool.status, tool.interruption])).toEqual([
      ['t1', 'interrupted', { generation: 1, reason: 'agent_hung' }],
      ['t2', 'completed', undefined],
    ]);
    expect(RunView.parse(view)).toEqual(view);
  });

  it('a handoff to a fresh session and the processes a sweep killed are recovery cards with their detail', () => {
    const view = fold(
      events([
        step('session.handoff', { generation: 2, turn: 3, text: 'the run so far', truncated: true }, 2),
        step('runtime.swept', { generation: 1, processes: [{ pid: 42, command: ['sleep', '60'] }] }),
      ]),
    );
    const cards = itemsOf(view, 'recovery');
    expect(cards.map((card) => [card.recovery, card.generation, card.detail])).toEqual([
      ['handoff', 2, 'the run so far'],
      ['swept', 1, '42 sleep 60'],
    ]);
    expect(cards[0]!.text).toContain('turn 3');
    expect(cards[0]!.text).toContain('oldest parts cut');
    expect(cards[1]!.text).toBe('Keel stopped 1 process that agent process #1 had started and that had left its process group.');
  });

  it('no event type of this build is counted as unknown, and the story matches the schema', () => {
    const view = fold(events(story));
    expect(view.ignored).toEqual({ unknownType: 0, invalidPayload: 0, invalidEnvelope: 0, outOfOrder: 0, otherRun: 0, unknownTypes: [] });
    expect(RunView.parse(view)).toEqual(view);
    const storyTypes = new Set(story.map((s) => s.type));
    const covered = ['run.state', 'thought.chunk', 'plan.updated', 'tool.started', 'tool.updated', 'tool.interrupted', 'session.handoff', 'runtime.swept', 'ledger.repaired', 'note', 'runtime.stopped', 'runtime.hang', 'runtime.protocol_error', 'run.recovered'];
    // Policy events are no transcript items: the Policy view and `keel policy log` show them (policy-runs.test.ts).
    covered.push('policy.loaded', 'policy.refused', 'policy.decided', 'policy.rule_added');
    // Checkpoint events fold into checkpoint cards (checkpoint-items.test.ts).
    covered.push('checkpoint.created', 'checkpoint.skipped', 'checkpoint.restore_requested', 'checkpoint.restore_completed', 'checkpoint.restore_failed', 'workspace.drift', 'deps.changed', 'workspace.worktree');
    // Run metadata events change the view's head, no transcript item (run-titles.test.ts, agent-check.test.ts).
    covered.push('run.renamed', 'run.agent_changed');
    // Usage reports change the view's usage, no transcript item (usage.test.ts).
    covered.push('usage.reported');
    const all = EventBody.options.map((option) => option.shape.type.value);
    expect(all.filter((type) => !storyTypes.has(type) && !covered.includes(type))).toEqual([]);
  });
});

describe('purity and marks with the new items', () => {
  const log = events(story);

  it('apply never mutates its input (approval, command and slot lookups through fromView) and equals fold', () => {
    let view = deepFreeze(initialView());
    for (const event of log) {
      const before = structuredClone(view);
      const next = apply(view, event);
      expect(view).toEqual(before);
      view = deepFreeze(next);
    }
    expect(view).toEqual(fold(log));
  });

  it('stateAt equals the prefix fold at every seq, for every mark spacing (cards settled after their mark)', () => {
    for (const every of [1, 2, 3, 5, 8]) {
      const index = ReplayIndex.build(log, { every });
      for (let seq = 0; seq <= log.length; seq++) expect(index.stateAt(seq), `every ${every}, seq ${seq}`).toEqual(fold(log.slice(0, seq)));
      // Going back after going forward still gives the old states (marks unchanged).
      for (let seq = log.length; seq >= 0; seq -= 3) expect(index.stateAt(seq)).toEqual(fold(log.slice(0, seq)));
    }
  });

  it('a restored mark continues independently of the folder it came from', () => {
    const folder = new RunViewFold();
    log.slice(0, 12).forEach((event) => folder.push(event));
    const mark = folder.mark();
    log.slice(12).forEach((event) => folder.push(event));
    const a = RunViewFold.restore(mark);
    const b = RunViewFold.restore(mark);
    log.slice(12).forEach((event) => a.push(event));
    expect(a.snapshot()).toEqual(fold(log));
    expect(b.snapshot()).toEqual(fold(log.slice(0, 12)));
    expect(folder.snapshot()).toEqual(fold(log));
  });

  it('the synthetic generator produces every item kind, recovery kind and approval status', () => {
    // Pending requests come and go (the next crash orphans them): check them along the way.
    const folder = new RunViewFold();
    let sawPending = false;
    for (const event of syntheticRun(60_000, { seed: 9 })) {
      folder.push(event);
      if (event.seq % 500 !== 0) continue;
      const { items, pendingApprovals } = folder.snapshot();
      const pending = items.filter((item): item is ItemOfKind<'approval'> => item.kind === 'approval' && item.status === 'pending');
      expect(pendingApprovals).toEqual(pending.map((item) => item.approvalId));
      sawPending ||= pending.length > 0;
    }
    expect(sawPending).toBe(true);
    const view = folder.snapshot();
    expect(() => RunView.parse(view)).not.toThrow();
    expect(new Set(view.items.map((item) => item.kind))).toEqual(
      new Set(['prompt', 'message', 'thought', 'tool', 'turn_end', 'repair', 'note', 'approval', 'recovery', 'command', 'file_write']),
    );
    expect(new Set(itemsOf(view, 'recovery').map((item) => item.recovery))).toEqual(
      new Set(['agent_exited', 'restarting', 'agent_started', 'session', 'approvals_reset', 'host_recovered', 'runtime_stopped', 'hang', 'protocol_error']),
    );
    const approvals = itemsOf(view, 'approval');
    expect(new Set(approvals.map((item) => item.status))).toEqual(new Set(['decided', 'timed_out', 'cancelled', 'orphaned']));
    expect(approvals.some((item) => item.by === 'carryover' && item.ref !== null)).toBe(true);
    expect(view.restarts).toBe(itemsOf(view, 'recovery').filter((item) => item.recovery === 'agent_started').length);
    expect(view.ignored.unknownTypes).toEqual(['future.event']);
  });
});

describe('a real ledger from Keel\'s runtime (built-in agent, fault-crash, interactive approvals)', () => {
  useRuntimeSuite();

  it('folds into approval cards, recovery cards in ledger order, a file write, a command with its output and turn ends', async () => {
    const harness = await createRun({ script: 'fault-crash' });
    const { controller } = harness;
    const answerer = harness.answerApprovals('allow_once');
    await controller.start();
    const first = await controller.prompt('Run your script.');
    expect(await controller.waitForTurn(first.turn)).toBe('agent_restarted');
    await controller.waitForState((state) => state === 'idle');
    const second = await controller.prompt('Continue where you stopped.');
    expect(await controller.waitForTurn(second.turn)).toBe('end_turn');
    answerer.stop();

    const log = harness.events();
    const view = fold(log);
    expect(() => RunView.parse(view)).not.toThrow();
    expect(view).toMatchObject({ restarts: 1, runtimeStopped: false, pendingApprovals: [], generation: 2, state: 'idle', turnOpen: false });
    expect(view.ignored).toMatchObject({ unknownType: 0, invalidPayload: 0 });

    const approvals = itemsOf(view, 'approval');
    expect(approvals.length).toBeGreaterThanOrEqual(2);
    expect(approvals.every((item) => item.status === 'decided')).toBe(true);
    const byUser = approvals.filter((item) => item.by === 'user');
    expect(byUser.length).toBeGreaterThanOrEqual(2);
    expect(byUser.every((item) => item.decision === 'allow_once')).toBe(true);
    expect(byUser.map((item) => item.generation)).toEqual([1, 2]);
    // Whatever was decided by carry-over points at a user's decision of the same action.
    for (const carried of approvals.filter((item) => item.by === 'carryover')) {
      const source = approvals.find((item) => item.approvalId === carried.ref);
      expect(source).toMatchObject({ by: 'user', actionKey: carried.actionKey });
    }

    const recovery = itemsOf(view, 'recovery');
    expect(recovery.map((item) => item.recovery)).toEqual(['agent_exited', 'restarting', 'agent_started', 'session']);
    expect(recovery.map((item) => item.seq)).toEqual([...recovery.map((item) => item.seq)].sort((a, b) => a - b));
    expect(recovery.map((item) => item.text)).toEqual([
      'Agent process #1 exited with code 17.',
      expect.stringMatching(/^Restarting the agent in \d+ ms \(attempt 1\)\.$/),
      'Agent process #2 started.',
      'Session restored (replayed by the agent).',
    ]);
    expect(recovery.map((item) => item.generation)).toEqual([1, 2, 2, 2]);

    expect(itemsOf(view, 'file_write')).toEqual([expect.objectContaining({ path: expect.stringMatching(/hello\.txt$/), bytes: 34, created: true, turn: 2 })]);
    const [command] = itemsOf(view, 'command');
    expect(command).toMatchObject({ command: 'sh', status: 'exited', exitCode: 0, signal: null, turn: 2 });
    expect(command!.output).toContain('tests passed');
    expect(itemsOf(view, 'turn_end').map((item) => [item.turn, item.stopReason])).toEqual([
      [1, 'agent_restarted'],
      [2, 'end_turn'],
    ]);
    // The cards sit between the first turn's approval and its end, in ledger order.
    const position = (kind: string, nth = 0) => view.items.map((item, i) => [item.kind, i] as const).filter(([k]) => k === kind)[nth]![1];
    expect(position('approval')).toBeLessThan(position('recovery'));
    expect(position('recovery', 3)).toBeLessThan(position('turn_end'));

    // Replaying the real ledger at any seq gives the prefix fold.
    const index = ReplayIndex.build(log, { every: 4 });
    for (let seq = 0; seq <= log.length; seq++) expect(index.stateAt(seq)).toEqual(fold(log.slice(0, seq)));
  }, 60_000);
});
