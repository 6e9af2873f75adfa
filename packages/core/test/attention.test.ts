// When Keel asks for attention (issue 15 point 22): one pure rule over the runs' folded states,
// shared by the browser page and Electron's main process. Tested on fold states: each run's
// state comes from folding its run.state events, the way the run list gets it (I9).
import { describe, expect, it } from 'vitest';
import type { PayloadOf } from '../src/contract/index.js';
import { attentionNotices, fold, rememberStates, waitingCount, type AttentionRun } from '../src/replay/index.js';
import { events, step, type Step } from './fixtures/replay-kit.js';

const created = (title?: string) => step('run.created', { workspace: '/repo', agent: { kind: 'builtin', script: 'demo' }, ...(title ? { title } : {}) });
const state = (payload: PayloadOf<'run.state'>) => step('run.state', payload);

/** The run as the run list holds it: the fold of its events. */
function runAfter(runId: string, steps: Step[]): AttentionRun {
  const view = fold(events(steps, runId));
  return { id: view.runId, state: view.state, title: view.title, stopReason: view.stopReason };
}

const away = { focused: false, viewingRunId: null };

describe('attention notices', () => {
  const base = [created('Fix the login bug'), state({ state: 'idle' })];
  const working = [...base, state({ state: 'running' })];
  const before = rememberStates(new Map(), [runAfter('run-a', working)]);

  it('a run that starts waiting for an approval notifies, named by its title', () => {
    const run = runAfter('run-a', [...working, state({ state: 'awaiting_approval' })]);
    expect(attentionNotices(before, [run], away)).toEqual([
      { runId: 'run-a', kind: 'approval', title: 'Keel: an agent is waiting for you', body: 'Fix the login bug asks for an approval.' },
    ]);
  });

  it('a working run that finishes its turn notifies "finished"; one that stops for a failure says why', () => {
    const finished = runAfter('run-a', [...working, state({ state: 'idle', stopReason: 'end_turn' })]);
    expect(attentionNotices(before, [finished], away)).toMatchObject([{ kind: 'finished', body: 'Fix the login bug finished its turn.' }]);
    const crashed = runAfter('run-a', [...working, state({ state: 'idle', stopReason: 'agent_hung' })]);
    expect(attentionNotices(before, [crashed], away)).toMatchObject([{ kind: 'stopped', body: expect.stringMatching(/^Fix the login bug stopped: .+/) }]);
  });

  it('never while the window is in front, whichever run it shows (the one looked at included)', () => {
    const run = runAfter('run-a', [...working, state({ state: 'awaiting_approval' })]);
    expect(attentionNotices(before, [run], { focused: true, viewingRunId: 'run-a' })).toEqual([]);
    expect(attentionNotices(before, [run], { focused: true, viewingRunId: 'run-b' })).toEqual([]);
  });

  it('a run first seen (a snapshot after a reload) and a run whose state did not change are not news', () => {
    const waiting = runAfter('run-b', [created(), state({ state: 'awaiting_approval' })]);
    expect(attentionNotices(new Map(), [waiting], away)).toEqual([]);
    const same = runAfter('run-a', working);
    expect(attentionNotices(before, [same], away)).toEqual([]);
  });

  it('an agent that starts and is ready is no news; one that cannot start is', () => {
    const starting = rememberStates(new Map(), [runAfter('run-s', [created(), state({ state: 'starting' })])]);
    expect(attentionNotices(starting, [runAfter('run-s', [created(), state({ state: 'idle' })])], away)).toEqual([]);
    const failed = runAfter('run-s', [created(), state({ state: 'stopped', stopReason: 'agent_unavailable' })]);
    expect(attentionNotices(starting, [failed], away)).toMatchObject([{ kind: 'stopped' }]);
  });

  it('an idle run that goes idle again or a run being created is no "finished"; an untitled run is named by its id', () => {
    const idle = rememberStates(new Map(), [runAfter('run-c', [created(), state({ state: 'created' })])]);
    expect(attentionNotices(idle, [runAfter('run-c', [created(), state({ state: 'idle' })])], away)).toEqual([]);
    const asking = runAfter('run-c', [created(), state({ state: 'awaiting_approval' })]);
    expect(attentionNotices(idle, [asking], away)).toMatchObject([{ body: 'run-c asks for an approval.' }]);
  });

  it('waitingCount counts the runs awaiting an approval', () => {
    const runs = [runAfter('a', [created(), state({ state: 'awaiting_approval' })]), runAfter('b', working), runAfter('c', [created(), state({ state: 'awaiting_approval' })])];
    expect(waitingCount(runs)).toBe(2);
  });
});
