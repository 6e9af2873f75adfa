// @vitest-environment jsdom
// One source per status (I9): the header does not claim the engine is OK while the page cannot
// hear it; a starting run cannot be sent to; a plan left unfinished by an ended turn is not shown
// as work in progress; a restart after a stop clears "runtime stopped" in the fold itself.
import type { AppInfo, RunView } from '@keel/core/contract';
import { RunViewFold } from '@keel/core/replay';
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { RunHeader } from '../src/components/conversation/RunHeader.js';
import { Header } from '../src/components/Header.js';
import { composerState } from '../src/lib/composer-state.js';
import { useAppInfo } from '../src/stores/app-info.js';
import { useConnection } from '../src/stores/connection.js';
import { EventLog, mockClient, renderWithClient } from './helpers.js';

afterEach(() => {
  cleanup();
  useConnection.setState({ status: 'connecting', engine: null });
  useAppInfo.setState({ info: null, error: null });
});

const info = { version: '0.1.0', mode: 'headless', platform: 'linux', arch: 'x64', dataDir: '/data', engine: { status: 'ok', dataDir: { problems: [] } } } as unknown as AppInfo;

describe('header engine status', () => {
  it('says OK once (no "Engine Engine OK") while connected, and unknown while disconnected', () => {
    useAppInfo.getState().set(info);
    act(() => useConnection.getState().setStatus('connected'));
    render(<Header />);
    const status = screen.getByTestId('engine-status');
    expect(status.textContent).toBe('OK');
    act(() => useConnection.getState().setStatus('reconnecting'));
    expect(status.textContent).toBe('unknown (disconnected)');
    expect(status.dataset.status).toBe('unknown');
  });
});

const fold = (bodies: Array<[string, object]>): RunView => {
  const log = new EventLog();
  for (const [type, payload] of bodies) log.raw(type, payload);
  const folder = new RunViewFold('run-1');
  for (const entry of log.events) folder.push(entry);
  return folder.snapshot();
};

describe('run status from the fold', () => {
  const stoppedThenStarting = fold([
    ['run.created', { workspace: '/w', agent: { kind: 'builtin', script: 'hello' } }],
    ['runtime.stopped', { stopReason: 'agent_unavailable', attempts: 3, detail: 'no such file' }],
    ['run.state', { state: 'stopped', stopReason: 'agent_unavailable' }],
    ['run.state', { state: 'starting', detail: 'restart' }],
  ]);

  it('a run starting again after a stop is not "runtime stopped", and Send waits for it', () => {
    expect(stoppedThenStarting.runtimeStopped).toBe(false);
    const state = composerState('connected', null, stoppedThenStarting, false);
    expect(state.sendBlocked).toBe('The agent is starting — a moment');
    expect(state.restartSuggested).toBe(false);
  });

  it('a plan left unfinished by an ended turn shows as unfinished, with nothing "in progress"', () => {
    const view = fold([
      ['run.created', { workspace: '/w', agent: { kind: 'builtin', script: 'hello' } }],
      ['prompt.sent', { turn: 1, text: 'go', ik: 'ik:1' }],
      ['plan.updated', { entries: [{ content: 'a', status: 'in_progress' }, { content: 'b', status: 'pending' }] }],
      ['turn.ended', { turn: 1, stopReason: 'cancelled' }],
      ['run.state', { state: 'idle', stopReason: 'cancelled' }],
    ]);
    renderWithClient(<RunHeader view={view} summary={null} />, mockClient().client);
    expect(screen.getByTestId('plan-stale').textContent).toMatch(/plan left unfinished when turn 1 ended: 0 done, 2 not done/);
    expect(screen.queryByText(/in progress/)).toBeNull();
    expect(screen.getByTestId('run-progress').dataset.stale).toBe('true');
  });
});
