// The run core's decider, input by input, without spawning anything: a state folded from
// hand-made ledger events, runtime facts, one input -> the events to record and the effects
// to run after them.
import { describe, expect, it } from 'vitest';
import type { Action } from '../src/contract/index.js';
import { readRunState, type RunState } from '../src/replay/index.js';
import { actionKey, decide, idempotencyKey, type Decision, type RunInput, type RuntimeFacts } from '../src/runs/index.js';
import { events, step, type Step } from './fixtures/replay-kit.js';

const WRITE: Action = { kind: 'write', title: 'Write hello.txt', paths: ['/ws/hello.txt'] };
const READ: Action = { kind: 'read', title: 'Read a.txt', paths: ['/ws/a.txt'] };

const created = step('run.created', { workspace: '/ws', agent: { kind: 'builtin' }, approvalMode: 'interactive' });
const started = (generation: number) => step('runtime.started', { generation, pid: 100 + generation, command: ['agent'], hostPid: 1 });
const bound = (generation: number) => step('session.bound', { generation, sessionId: 's1', outcome: generation === 1 ? 'new' : 'replayed', method: 'session/new', remapped: false }, generation);
const prompted = (turn: number, text = 'hi') => step('prompt.sent', { turn, text, ik: idempotencyKey({ runId: 'run-1', turn, text }) }, 1);
const state = (name: Parameters<typeof step<'run.state'>>[1]['state'], stopReason?: string) => step('run.state', { state: name, ...(stopReason ? { stopReason } : {}) });
const requested = (approvalId: string, generation: number, action: Action = WRITE) =>
  step('approval.requested', { approvalId, generation, turn: 1, action, actionKey: actionKey(action), reason: 'why', source: 'agent', timeoutMs: 1000 }, generation);

/** An idle run with generation 1 ready. */
const IDLE: Step[] = [created, state('starting'), started(1), bound(1), state('idle')];
/** Turn 1 running on generation 1. */
const RUNNING: Step[] = [...IDLE, prompted(1), state('running')];

const fold = (steps: Step[]): RunState => readRunState('run-1', events(steps));
const facts = (overrides: Partial<RuntimeFacts> = {}): RuntimeFacts => ({
  live: { generation: 1, lifecycle: 'ready', killedFor: null },
  restartArmed: false,
  closed: false,
  readOnly: false,
  ledgerFailure: null,
  approvalTimeoutMs: 1000,
  ...overrides,
});
const types = (decision: Decision) => decision.events.map((event) => event.body.type);
const bodies = (decision: Decision) => decision.events.map((event) => ({ type: event.body.type, payload: event.body.payload, generation: event.body.generation }));
const run = (steps: Step[], input: RunInput, overrides: Partial<RuntimeFacts> = {}) => decide(fold(steps), facts(overrides), input);

describe('decide: start and the generation lifecycle', () => {
  it('start records the starting state, then spawns the next generation', () => {
    const decision = run([created], { kind: 'start', reason: 'start' }, { live: null });
    expect(bodies(decision)).toEqual([{ type: 'run.state', payload: { state: 'starting', detail: 'start' }, generation: undefined }]);
    expect(decision.effects).toEqual([{ kind: 'spawn', generation: 1, reason: 'start' }]);
  });

  it('start does nothing while a generation lives and is refused on a closed run', () => {
    expect(run(IDLE, { kind: 'start', reason: 'start' })).toEqual({ events: [], effects: [] });
    expect(run(IDLE, { kind: 'start', reason: 'start' }, { live: null, closed: true }).error?.code).toBe('unavailable');
  });

  it('a spawned agent is recorded with its pid and command, then initialised', () => {
    const decision = run([created, state('starting')], { kind: 'agent_spawned', generation: 1, pid: 42, command: ['a'], hostPid: 7, tag: 'run-1.1.x' }, { live: { generation: 1, lifecycle: 'spawning', killedFor: null } });
    expect(bodies(decision)).toEqual([{ type: 'runtime.started', payload: { generation: 1, pid: 42, command: ['a'], hostPid: 7, tag: 'run-1.1.x' }, generation: undefined }]);
    expect(decision.effects).toEqual([{ kind: 'initialize', generation: 1 }]);
  });

  it('an agent that cannot be spawned stops the runtime as agent_unavailable and ends the open turn', () => {
    const decision = run(RUNNING, { kind: 'spawn_failed', command: ['nope'], detail: 'ENOENT', attempts: 0 }, { live: null });
    expect(types(decision)).toEqual(['runtime.stopped', 'turn.ended', 'run.state']);
    expect(decision.events[1]!.body.payload).toEqual({ turn: 1, stopReason: 'agent_unavailable' });
    expect(decision.events[2]!.body.payload).toMatchObject({ state: 'stopped', stopReason: 'agent_unavailable' });
  });

  it('a failed start is noted and the generation killed, unless Keel already killed it (its exit decides)', () => {
    const starting = { live: { generation: 1, lifecycle: 'initializing' as const, killedFor: null } };
    const decision = run([created, started(1)], { kind: 'start_failed', generation: 1, message: 'boom' }, starting);
    expect(types(decision)).toEqual(['note']);
    expect(decision.effects).toEqual([{ kind: 'kill', generation: 1, reason: 'agent_unavailable' }]);
    expect(run([created, started(1)], { kind: 'start_failed', generation: 1, message: 'boom' }, { live: { generation: 1, lifecycle: 'stopping', killedFor: 'agent_hung' } })).toEqual({ events: [], effects: [] });
  });

  it('a session that cannot be made stops the runtime (session_unavailable) and the generation', () => {
    const binding = { sessionId: null, outcome: 'unavailable' as const, method: 'session/new', remapped: false, detail: 'no' };
    const decision = run([created, started(1)], { kind: 'session_unavailable', generation: 1, binding, attempts: 0 }, { live: { generation: 1, lifecycle: 'binding', killedFor: null } });
    expect(types(decision)).toEqual(['session.bound', 'runtime.stopped', 'run.state']);
    expect(decision.effects).toEqual([{ kind: 'stop', generation: 1 }]);
  });
});

describe('decide: session binding and the in-flight turn (I6)', () => {
  const binding = { sessionId: 's1', outcome: 'replayed' as const, method: 'session/load', remapped: false };
  const crashedMidTurn: Step[] = [
    ...RUNNING,
    step('runtime.exited', { generation: 1, code: null, signal: 'SIGKILL', expected: false }, 1),
    step('runtime.restarting', { nextGeneration: 2, attempt: 1, delayMs: 0, reason: 'agent_restarted' }),
    state('starting'),
    started(2),
  ];
  const binding2 = { live: { generation: 2, lifecycle: 'binding' as const, killedFor: null } };

  it('with no open turn, the bound generation becomes ready and the run idle', () => {
    const decision = run([created, started(1)], { kind: 'session_bound', generation: 1, binding, history: null }, { live: { generation: 1, lifecycle: 'binding', killedFor: null } });
    expect(types(decision)).toEqual(['session.bound', 'run.state']);
    expect(decision.events[1]!.body.payload).toEqual({ state: 'idle' });
    expect(decision.effects).toEqual([{ kind: 'mark_ready', generation: 1 }]);
  });

  it('re-sends the open turn only when the agent history proves it never arrived', () => {
    const decision = run(crashedMidTurn, { kind: 'session_bound', generation: 2, binding, history: { userMessages: [] } }, binding2);
    expect(types(decision)).toEqual(['session.bound', 'note', 'run.state']);
    expect(decision.effects).toEqual([
      { kind: 'mark_ready', generation: 2 },
      { kind: 'send_turn', generation: 2, turn: 1, text: 'hi', ik: idempotencyKey({ runId: 'run-1', turn: 1, text: 'hi' }) },
    ]);
  });

  it('never sends twice: a received prompt, or a history that proves nothing, ends the turn with the restart reason', () => {
    for (const history of [{ userMessages: [{ text: 'well: hi there' }] }, { userMessages: [], complete: false }, null]) {
      const decision = run(crashedMidTurn, { kind: 'session_bound', generation: 2, binding, history }, binding2);
      expect(types(decision)).toEqual(['session.bound', 'turn.ended', 'run.state']);
      expect(decision.events[1]!.body.payload).toEqual({ turn: 1, stopReason: 'agent_restarted' });
      expect(decision.effects.map((effect) => effect.kind)).toEqual(['mark_ready']);
    }
  });

  it('a binding of a generation that is no longer live is dropped', () => {
    expect(run(crashedMidTurn, { kind: 'session_bound', generation: 2, binding, history: null }, { live: { generation: 2, lifecycle: 'exited', killedFor: null } })).toEqual({ events: [], effects: [] });
  });
});

describe('decide: prompts and turns', () => {
  it('records the prompt with its idempotency key and the running state, then sends it', () => {
    const decision = run(IDLE, { kind: 'prompt', text: 'do it' });
    const ik = idempotencyKey({ runId: 'run-1', turn: 1, text: 'do it' });
    expect(bodies(decision)).toEqual([
      { type: 'prompt.sent', payload: { turn: 1, text: 'do it', ik }, generation: 1 },
      { type: 'run.state', payload: { state: 'running' }, generation: undefined },
    ]);
    expect(decision.effects).toEqual([{ kind: 'send_turn', generation: 1, turn: 1, text: 'do it', ik }]);
    expect(decision.reply).toEqual({ turn: 1, ik });
  });

  it('refuses a prompt while a turn runs, on a read-only, stopped, failed or restarting run', () => {
    expect(run(RUNNING, { kind: 'prompt', text: 'x' }).error).toEqual({ code: 'conflict', message: 'Turn 1 is still running; cancel it or wait.' });
    expect(run(IDLE, { kind: 'prompt', text: 'x' }, { readOnly: true }).error?.code).toBe('forbidden');
    expect(run([...IDLE, state('stopped', 'runtime_stopped')], { kind: 'prompt', text: 'x' }).error?.code).toBe('unavailable');
    expect(run(IDLE, { kind: 'prompt', text: 'x' }, { ledgerFailure: 'disk full' }).error?.message).toContain('disk full');
    expect(run(IDLE, { kind: 'prompt', text: 'x' }, { restartArmed: true }).error?.message).toContain('restarting');
  });

  it('asks for a start when no generation is ready, and after the start refuses instead of asking again', () => {
    expect(run([created], { kind: 'prompt', text: 'x' }, { live: null }).needsStart).toBe(true);
    const killed = { live: { generation: 1, lifecycle: 'stopping' as const, killedFor: 'protocol_error' } };
    expect(run(IDLE, { kind: 'prompt', text: 'x' }, killed).needsStart).toBe(true);
    expect(run(IDLE, { kind: 'prompt', text: 'x', afterStart: true }, killed).error?.code).toBe('unavailable');
  });

  it('a finished turn settles waiting approvals, ends the turn and goes idle', () => {
    const decision = run([...RUNNING, requested('a1', 1)], { kind: 'turn_finished', generation: 1, turn: 1, stopReason: 'end_turn', note: 'done', noteGeneration: true });
    expect(types(decision)).toEqual(['note', 'approval.cancelled', 'turn.ended', 'run.state']);
    expect(decision.events[0]!.body.generation).toBe(1);
    expect(decision.events[1]!.body.payload).toEqual({ approvalId: 'a1', reason: 'turn 1 ended (end_turn)' });
    expect(decision.effects).toEqual([{ kind: 'answer', approvalId: 'a1', answer: 'cancelled' }]);
  });

  it('a turn end from a stale generation or for another turn changes nothing', () => {
    expect(run(RUNNING, { kind: 'turn_finished', generation: 1, turn: 2, stopReason: 'end_turn' })).toEqual({ events: [], effects: [] });
    expect(run(RUNNING, { kind: 'turn_finished', generation: 1, turn: 1, stopReason: 'end_turn' }, { live: { generation: 2, lifecycle: 'ready', killedFor: null } })).toEqual({ events: [], effects: [] });
  });

  it('a turn end from a generation Keel is killing is left to its exit (the turn ends with the kill reason)', () => {
    const killing = { live: { generation: 1, lifecycle: 'stopping' as const, killedFor: 'protocol_error' } };
    expect(run(RUNNING, { kind: 'turn_finished', generation: 1, turn: 1, stopReason: 'end_turn' }, killing)).toEqual({ events: [], effects: [] });
  });

  it('cancel is noted and delivered; once delivered, waiting approvals are cancelled and the turn runs on', () => {
    expect(run(IDLE, { kind: 'cancel' }).error?.code).toBe('conflict');
    const decision = run(RUNNING, { kind: 'cancel' });
    expect(types(decision)).toEqual(['note']);
    expect(decision.effects).toEqual([{ kind: 'cancel_turn', generation: 1, turn: 1 }]);
    const delivered = run([...RUNNING, requested('a1', 1), state('awaiting_approval')], { kind: 'cancel_delivered' });
    expect(types(delivered)).toEqual(['approval.cancelled', 'run.state']);
    expect(delivered.events[1]!.body.payload).toEqual({ state: 'running' });
  });

  it('agent updates are recorded in the open turn with their generation, streamed text as stream events; a dead generation says nothing', () => {
    const message = run(RUNNING, { kind: 'agent_update', generation: 1, update: { kind: 'message', text: 'hello' } });
    expect(message.events).toEqual([{ body: { type: 'message.chunk', payload: { turn: 1, text: 'hello' }, generation: 1 }, durability: 'stream' }]);
    expect(run(RUNNING, { kind: 'agent_update', generation: 1, update: { kind: 'tool_started', toolCallId: 't', title: 'T' } }).events[0]!.durability).toBe('critical');
    const exited = [...RUNNING, step('runtime.exited', { generation: 1, code: 0, signal: null, expected: false }, 1)];
    expect(run(exited, { kind: 'agent_update', generation: 1, update: { kind: 'message', text: 'late' } })).toEqual({ events: [], effects: [] });
    expect(run(exited, { kind: 'recorded', generation: 1, body: { type: 'terminal.exited', payload: { terminalId: 't', exitCode: 0, signal: null } } })).toEqual({ events: [], effects: [] });
  });
});

describe('decide: approvals (I5)', () => {
  const ask = (generation: number, action: Action, insideWorkspace = true): RunInput => ({
    kind: 'permission_requested',
    request: { approvalId: `ask-${generation}`, generation, action, reason: 'why', source: 'agent', insideWorkspace },
  });

  it('an interactive write waits for a person: recorded with its timeout, the run awaits approval, a timer is armed', () => {
    const decision = run(RUNNING, ask(1, WRITE));
    expect(bodies(decision)).toEqual([
      { type: 'approval.requested', payload: { approvalId: 'ask-1', generation: 1, turn: 1, action: WRITE, actionKey: actionKey(WRITE), reason: 'why', source: 'agent', timeoutMs: 1000 }, generation: 1 },
      { type: 'run.state', payload: { state: 'awaiting_approval' }, generation: undefined },
    ]);
    expect(decision.effects).toEqual([{ kind: 'arm_approval_timer', approvalId: 'ask-1', timeoutMs: 1000 }]);
  });

  it('a read inside the workspace is allowed at once (auto), a read outside asks', () => {
    const inside = run(RUNNING, ask(1, READ));
    expect(types(inside)).toEqual(['approval.requested', 'approval.decided']);
    expect(inside.events[1]!.body.payload).toMatchObject({ decision: 'allow_once', by: 'auto' });
    expect(inside.effects).toEqual([{ kind: 'answer', approvalId: 'ask-1', answer: 'allow_once', grant: READ }]);
    expect(types(run(RUNNING, ask(1, READ, false)))).toEqual(['approval.requested', 'run.state']);
  });

  it('a non-interactive run answers by its mode without asking anyone', () => {
    const none = [step('run.created', { workspace: '/ws', agent: { kind: 'builtin' }, approvalMode: 'reads' }), ...RUNNING.slice(1)];
    const decision = run(none, ask(1, WRITE));
    expect(decision.events[1]!.body.payload).toMatchObject({ decision: 'deny', by: 'auto', note: 'non-interactive run (--approve reads)' });
    expect(decision.effects).toEqual([{ kind: 'answer', approvalId: 'ask-1', answer: 'deny' }]);
  });

  it('a person decides: recorded, the live generation that asked gets the answer and a grant, the run runs again', () => {
    const waiting = [...RUNNING, requested('a1', 1), state('awaiting_approval')];
    const decision = run(waiting, { kind: 'approval_decided', approvalId: 'a1', decision: 'allow_once' });
    expect(types(decision)).toEqual(['approval.decided', 'run.state']);
    expect(decision.events[0]!.body.payload).toEqual({ approvalId: 'a1', decision: 'allow_once', by: 'user' });
    expect(decision.effects).toEqual([{ kind: 'answer', approvalId: 'a1', answer: 'allow_once', grant: WRITE }]);
    const dead = run(waiting, { kind: 'approval_decided', approvalId: 'a1', decision: 'allow_once' }, { live: { generation: 2, lifecycle: 'ready', killedFor: null } });
    expect(dead.effects).toEqual([{ kind: 'answer', approvalId: 'a1', answer: 'cancelled' }]);
  });

  it('a decision is refused for an unknown or settled request; an orphaned one is decided for carry-over', () => {
    expect(run(RUNNING, { kind: 'approval_decided', approvalId: 'nope', decision: 'deny' }).error?.code).toBe('not_found');
    const decided = [...RUNNING, requested('a1', 1), step('approval.decided', { approvalId: 'a1', decision: 'deny', by: 'user' })];
    expect(run(decided, { kind: 'approval_decided', approvalId: 'a1', decision: 'deny' }).error?.code).toBe('conflict');
    const orphaned = [...RUNNING, requested('a1', 1), step('approval.reset', { generation: 1, approvalIds: ['a1'], reason: 'exit' })];
    const decision = run(orphaned, { kind: 'approval_decided', approvalId: 'a1', decision: 'allow_once' }, { live: null });
    expect(decision.events[0]!.body.payload).toMatchObject({ by: 'user', note: expect.stringContaining('applied when the same action is asked again') });
    expect(decision.effects).toEqual([]);
  });

  it('carry-over: a later generation asking the same action gets the earlier decision once (allow_run always)', () => {
    const decidedInGen1 = [...RUNNING, requested('a1', 1), step('approval.reset', { generation: 1, approvalIds: ['a1'], reason: 'exit' }), step('approval.decided', { approvalId: 'a1', decision: 'allow_once', by: 'user' }), started(2)];
    const live2 = { live: { generation: 2, lifecycle: 'ready' as const, killedFor: null } };
    const carried = run(decidedInGen1, ask(2, WRITE), live2);
    expect(carried.events[1]!.body.payload).toEqual({ approvalId: 'ask-2', decision: 'allow_once', by: 'carryover', ref: 'a1', note: 'the same action was decided earlier in this run' });
    const usedOnce = [...decidedInGen1, requested('ask-2', 2), step('approval.decided', { approvalId: 'ask-2', decision: 'allow_once', by: 'carryover', ref: 'a1' }), started(3)];
    expect(types(run(usedOnce, ask(3, WRITE), { live: { generation: 3, lifecycle: 'ready', killedFor: null } }))).toEqual(['approval.requested', 'run.state']);
    const allowRun = [...RUNNING, requested('a1', 1), step('approval.decided', { approvalId: 'a1', decision: 'allow_run', by: 'user' }), requested('a2', 1), step('approval.decided', { approvalId: 'a2', decision: 'allow_run', by: 'carryover', ref: 'a1' })];
    expect(run(allowRun, ask(1, WRITE)).events[1]!.body.payload).toMatchObject({ by: 'carryover', ref: 'a1', decision: 'allow_run' });
  });

  it('a request from a generation whose exit is recorded is refused', () => {
    const exited = [...RUNNING, step('runtime.exited', { generation: 1, code: 0, signal: null, expected: false }, 1)];
    expect(run(exited, ask(1, WRITE)).error?.code).toBe('unavailable');
  });

  it('a timeout or a withdrawal settles a waiting request as timed out / cancelled; a settled one is left alone', () => {
    const waiting = [...RUNNING, requested('a1', 1), state('awaiting_approval')];
    const timedOut = run(waiting, { kind: 'approval_timed_out', approvalId: 'a1' });
    expect(types(timedOut)).toEqual(['approval.timed_out', 'run.state']);
    expect(timedOut.effects).toEqual([{ kind: 'answer', approvalId: 'a1', answer: 'cancelled' }]);
    expect(run(waiting, { kind: 'approval_withdrawn', approvalId: 'a1' }).events[0]!.body.payload).toEqual({ approvalId: 'a1', reason: 'the agent withdrew the request' });
    const settled = [...waiting, step('approval.decided', { approvalId: 'a1', decision: 'deny', by: 'user' })];
    expect(run(settled, { kind: 'approval_timed_out', approvalId: 'a1' })).toEqual({ events: [], effects: [] });
  });
});

describe('decide: agent exits, hangs and protocol errors', () => {
  const exit = (overrides: Partial<Extract<RunInput, { kind: 'agent_exited' }>['exit']> = {}): RunInput => ({
    kind: 'agent_exited',
    exit: { generation: 1, code: null, signal: 'SIGKILL', expected: false, killedFor: null, resetReason: 'the agent process exited', restart: { attempt: 1, delayMs: 250 }, attemptsUsed: 1, swept: [], ...overrides },
  });
  const waiting = [...RUNNING, requested('a1', 1)];

  it('an unexpected exit is recorded, orphans the waiting approvals, and arms the restart the backoff gave', () => {
    const decision = run(waiting, exit(), { live: { generation: 1, lifecycle: 'exited', killedFor: null } });
    expect(types(decision)).toEqual(['runtime.exited', 'approval.reset', 'runtime.restarting']);
    expect(decision.events[1]!.body.payload).toEqual({ generation: 1, approvalIds: ['a1'], reason: 'the agent process exited' });
    expect(decision.events[2]!.body.payload).toEqual({ nextGeneration: 2, attempt: 1, delayMs: 250, reason: 'agent_restarted' });
    expect(decision.effects).toEqual([
      { kind: 'answer', approvalId: 'a1', answer: 'cancelled' },
      { kind: 'schedule_restart', attempt: 1, delayMs: 250, reason: 'agent_restarted' },
    ]);
  });

  it('restarts exhausted stop the runtime and end the turn (runtime_stopped); a fatal kill stops with its own reason', () => {
    const exhausted = run(RUNNING, exit({ restart: null, attemptsUsed: 5 }));
    expect(types(exhausted)).toEqual(['runtime.exited', 'runtime.stopped', 'turn.ended', 'run.state']);
    expect(exhausted.events[1]!.body.payload).toMatchObject({ stopReason: 'runtime_stopped', attempts: 5, detail: 'The agent exited 6 times; restarts are exhausted.' });
    const fatal = run(RUNNING, exit({ restart: null, killedFor: 'protocol_error' }));
    expect(fatal.events[2]!.body.payload).toEqual({ turn: 1, stopReason: 'protocol_error' });
  });

  it('what the sweep killed of a generation is recorded right after its exit', () => {
    const decision = run(RUNNING, exit({ swept: [{ pid: 77, command: ['sh', '-c', 'sleep 60'] }] }));
    expect(types(decision).slice(0, 2)).toEqual(['runtime.exited', 'runtime.swept']);
    expect(decision.events[1]!.body.payload).toEqual({ generation: 1, processes: [{ pid: 77, command: ['sh', '-c', 'sleep 60'] }] });
  });

  it('an expected exit is only recorded (with a reset when the stop asked for one)', () => {
    expect(types(run(waiting, exit({ expected: true, resetReason: null, restart: null })))).toEqual(['runtime.exited']);
    expect(types(run(waiting, exit({ expected: true, resetReason: 'the runtime was restarted by the user', restart: null })))).toEqual(['runtime.exited', 'approval.reset']);
  });

  it('a hang is recorded and the generation killed; a protocol error is recorded, fatal ones kill, stale ones are dropped', () => {
    const hang = run(RUNNING, { kind: 'hang', generation: 1, idleMs: 500, whileStarting: false });
    expect(bodies(hang)).toEqual([{ type: 'runtime.hang', payload: { generation: 1, idleMs: 500 }, generation: 1 }]);
    expect(hang.effects).toEqual([{ kind: 'kill', generation: 1, reason: 'agent_hung' }]);
    const fatal = run(RUNNING, { kind: 'protocol_error', generation: 1, errorKind: 'oversize', detail: 'big', fatal: true });
    expect(types(fatal)).toEqual(['runtime.protocol_error']);
    expect(fatal.effects).toEqual([{ kind: 'kill', generation: 1, reason: 'protocol_error' }]);
    expect(run(RUNNING, { kind: 'protocol_error', generation: 1, errorKind: 'garbage', detail: 'x', fatal: false }).effects).toEqual([]);
    expect(run(RUNNING, { kind: 'protocol_error', generation: 0, errorKind: 'garbage', detail: 'x', fatal: false })).toEqual({ events: [], effects: [] });
  });
});

describe('decide: reconciliation after a host crash (I4)', () => {
  it('a storage failure the last host left behind ends the turn storage_failed, saying what the disk said', () => {
    const decision = run([...RUNNING, requested('a1', 1)], { kind: 'host_recovered', previousState: 'running', hostPid: 9, swept: new Map(), cause: { reason: 'storage_failed', detail: 'ENOSPC: no space left on device' } }, { live: null });
    expect(types(decision)).toEqual(['run.recovered', 'approval.reset', 'turn.ended', 'run.state']);
    expect(decision.events[0]!.body.payload).toMatchObject({ reason: 'storage_failed' });
    expect(decision.events[2]!.body.payload).toEqual({ turn: 1, stopReason: 'storage_failed' });
    expect(decision.events[3]!.body.payload).toMatchObject({ state: 'interrupted', stopReason: 'storage_failed', detail: expect.stringContaining('ENOSPC') });
  });

  it('records the recovery, orphans waiting approvals per generation, interrupts the open turn and the run', () => {
    const steps = [...RUNNING, requested('a1', 1), step('runtime.exited', { generation: 1, code: null, signal: 'SIGKILL', expected: false }, 1), started(2), requested('a2', 2, READ)];
    const swept = new Map([[1, [{ pid: 4242, command: ['sleep', '60'] }]]]);
    const decision = run(steps, { kind: 'host_recovered', previousState: 'running', hostPid: 99, swept, cause: { reason: 'host_interrupted' } }, { live: null });
    expect(bodies(decision)).toEqual([
      { type: 'run.recovered', payload: { reason: 'host_interrupted', previousState: 'running', hostPid: 99 }, generation: undefined },
      { type: 'runtime.swept', payload: { generation: 1, processes: [{ pid: 4242, command: ['sleep', '60'] }] }, generation: undefined },
      { type: 'approval.reset', payload: { generation: 1, approvalIds: ['a1'], reason: 'Keel stopped while the request was pending' }, generation: undefined },
      { type: 'approval.reset', payload: { generation: 2, approvalIds: ['a2'], reason: 'Keel stopped while the request was pending' }, generation: undefined },
      { type: 'turn.ended', payload: { turn: 1, stopReason: 'host_interrupted' }, generation: undefined },
      { type: 'run.state', payload: { state: 'interrupted', stopReason: 'host_interrupted', detail: expect.any(String) }, generation: undefined },
    ]);
  });
});

describe('decide: issue 9 — engine lost and handoffs', () => {
  const fresh = { sessionId: 's2', outcome: 'fresh' as const, method: 'session/new', remapped: true, detail: 'lost' };
  const binding2 = { live: { generation: 2, lifecycle: 'binding' as const, killedFor: null } };
  const crashed: Step[] = [...RUNNING, step('runtime.exited', { generation: 1, code: null, signal: 'SIGKILL', expected: false }, 1), started(2)];

  it('an agent that says its engine is gone is noted and killed as engine_lost (its exit restarts it)', () => {
    const decision = run(RUNNING, { kind: 'engine_lost', generation: 1, detail: 'The Claude Agent process exited unexpectedly.' });
    expect(types(decision)).toEqual(['note']);
    expect(decision.effects).toEqual([{ kind: 'kill', generation: 1, reason: 'engine_lost' }]);
    expect(run(RUNNING, { kind: 'engine_lost', generation: 1, detail: 'x' }, { live: { generation: 1, lifecycle: 'stopping', killedFor: 'agent_hung' } })).toEqual({ events: [], effects: [] });
  });

  it('a fresh session with an open turn records the handoff and sends the turn once, after it', () => {
    const decision = run(crashed, { kind: 'session_bound', generation: 2, binding: fresh, history: null, handoff: { text: 'HANDOFF', truncated: false } }, binding2);
    expect(types(decision)).toEqual(['session.bound', 'session.handoff', 'note', 'run.state']);
    expect(decision.events[1]!.body).toEqual({ type: 'session.handoff', generation: 2, payload: { generation: 2, turn: 1, text: 'HANDOFF', truncated: false } });
    const send = decision.effects.find((effect) => effect.kind === 'send_turn');
    expect(send).toMatchObject({ turn: 1, text: 'HANDOFF\n\n---\n\nhi' });
  });

  it('a handoff recorded between turns goes with the next prompt, and only with it', () => {
    const handedOff = [...IDLE, step('session.handoff', { generation: 1, turn: 1, text: 'HANDOFF', truncated: false }, 1)];
    expect(run(handedOff, { kind: 'prompt', text: 'go' }).effects).toEqual([expect.objectContaining({ kind: 'send_turn', text: 'HANDOFF\n\n---\n\ngo' })]);
    const later = [...handedOff, prompted(1, 'go'), step('turn.ended', { turn: 1, stopReason: 'end_turn' }, 1), state('idle')];
    expect(run(later, { kind: 'prompt', text: 'next' }).effects).toEqual([expect.objectContaining({ kind: 'send_turn', text: 'next' })]);
  });
});
