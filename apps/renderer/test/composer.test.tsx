// @vitest-environment jsdom
import type { RunSummary, RunView } from '@keel/core/contract';
import { RunViewFold } from '@keel/core/replay';
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Composer } from '../src/components/conversation/Composer.js';
import { composerState } from '../src/lib/composer-state.js';
import { mockClient, renderWithClient, runSummary } from './helpers.js';

afterEach(cleanup);

const summary = (overrides: Partial<RunSummary> = {}): RunSummary => runSummary('run-1', { lastSeq: 3, workspace: '/work/repo', ...overrides });

const view = (overrides: Partial<RunView> = {}): RunView => ({ ...new RunViewFold('run-1').snapshot(), eventCount: 3, lastSeq: 3, state: 'idle', ...overrides });

describe('composer state', () => {
  it.each([
    ['idle', 'connected', summary(), view(), null],
    ['a running turn', 'connected', summary(), view({ state: 'running', turnOpen: true }), 'A turn is running — cancel it or wait'],
    ['an open turn between states', 'connected', summary(), view({ state: 'idle', turnOpen: true }), 'A turn is running — cancel it or wait'],
    ['awaiting approval', 'connected', summary(), view({ state: 'awaiting_approval', turnOpen: true }), 'The agent is waiting for your approval — press 1 allow once, 2 allow for this run, 3 deny (with this box empty), or cancel the turn'],
    ['a stopped runtime', 'connected', summary(), view({ state: 'stopped', runtimeStopped: true }), 'The runtime is stopped — restart it'],
    ['reconnecting', 'reconnecting', summary(), view(), 'Disconnected — reconnecting'],
    ['connecting', 'connecting', summary(), view(), 'Disconnected — reconnecting'],
    ['lost', 'lost', summary(), view(), 'Disconnected — Keel cannot be reached; retrying'],
    ['an imported run', 'connected', summary({ readOnly: true, origin: 'imported' }), view(), 'This run is read-only (imported)'],
    ['a quarantined run', 'connected', summary({ readOnly: true, quarantined: true }), view(), 'This run is read-only (quarantined: its log is damaged)'],
  ] as const)('%s', (_name, connection, runSummary, runView, reason) => {
    expect(composerState(connection, runSummary, runView, false).sendBlocked).toBe(reason);
  });

  it('cancel only while a turn runs; restart whenever connected and writable', () => {
    expect(composerState('connected', summary(), view(), false)).toMatchObject({ canCancel: false, canRestart: true });
    expect(composerState('connected', summary(), view({ state: 'running', turnOpen: true }), false)).toMatchObject({ canCancel: true, canRestart: true });
    expect(composerState('connected', summary(), view({ state: 'awaiting_approval', turnOpen: true }), false)).toMatchObject({ canCancel: true });
    expect(composerState('reconnecting', summary(), view({ state: 'running', turnOpen: true }), false)).toMatchObject({ canCancel: false, canRestart: false });
    expect(composerState('connected', summary({ readOnly: true, origin: 'imported' }), view(), false)).toMatchObject({ canCancel: false, canRestart: false });
    expect(composerState('connected', summary(), view({ runtimeStopped: true }), false).restartSuggested).toBe(true);
  });
});

describe('the composer', () => {
  const setup = (state = composerState('connected', summary(), view(), false)) => {
    const mock = mockClient({ 'run.prompt': () => ({ turn: 1, ik: 'ik:1' }), 'run.cancel': () => ({}), 'runtime.restart': () => ({}) });
    let restarted = 0;
    renderWithClient(
      <Composer
        runId="run-1"
        state={state}
        onRestart={async () => {
          restarted++;
        }}
      />,
      mock.client,
    );
    return { ...mock, restarted: () => restarted };
  };

  it('sends with Ctrl+Enter and clears the box', async () => {
    const { invoke } = setup();
    const input = screen.getByTestId('composer-input') as HTMLTextAreaElement;
    expect(screen.getByTestId('composer-send').hasAttribute('disabled')).toBe(true);
    fireEvent.change(input, { target: { value: 'Write the tests' } });
    fireEvent.keyDown(input, { key: 'Enter', ctrlKey: true });
    await act(async () => {});
    expect(invoke).toHaveBeenCalledWith('run.prompt', { runId: 'run-1', text: 'Write the tests' });
    expect(input.value).toBe('');
  });

  it('Cmd+Enter sends too; a plain Enter is a new line', async () => {
    const { invoke } = setup();
    const input = screen.getByTestId('composer-input');
    fireEvent.change(input, { target: { value: 'x' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    await act(async () => {});
    expect(invoke).not.toHaveBeenCalled();
    fireEvent.keyDown(input, { key: 'Enter', metaKey: true });
    await act(async () => {});
    expect(invoke).toHaveBeenCalledWith('run.prompt', { runId: 'run-1', text: 'x' });
  });

  it('while a turn runs: send is disabled with the reason shown, cancel works', async () => {
    const { invoke } = setup(composerState('connected', summary(), view({ state: 'running', turnOpen: true }), false));
    fireEvent.change(screen.getByTestId('composer-input'), { target: { value: 'more' } });
    expect(screen.getByTestId('composer-send').hasAttribute('disabled')).toBe(true);
    expect(screen.getByTestId('composer-reason').textContent).toBe('A turn is running — cancel it or wait');
    fireEvent.click(screen.getByTestId('composer-cancel'));
    await act(async () => {});
    expect(invoke).toHaveBeenCalledWith('run.cancel', { runId: 'run-1' });
  });

  it.each([
    [composerState('reconnecting', summary(), view(), false), 'Disconnected — reconnecting'],
    [composerState('connected', summary({ readOnly: true, origin: 'imported' }), view(), false), 'This run is read-only (imported)'],
  ])('everything is disabled, with the reason, when %#', (state, reason) => {
    setup(state);
    expect(screen.getByTestId('composer-reason').textContent).toBe(reason);
    for (const id of ['composer-input', 'composer-send', 'composer-cancel', 'composer-restart']) expect(screen.getByTestId(id).hasAttribute('disabled'), id).toBe(true);
  });

  it('once a cancel is sent for the running turn, Cancel becomes Force stop, which sends force: true', async () => {
    const mock = mockClient({ 'run.cancel': () => ({}) });
    const state = composerState('connected', summary(), view({ state: 'running', turnOpen: true, currentTurn: 2 }), false);
    renderWithClient(<Composer runId="run-1" state={state} onRestart={async () => {}} turn={2} />, mock.client);
    expect(screen.queryByTestId('composer-force-stop')).toBeNull();
    fireEvent.click(screen.getByTestId('composer-cancel'));
    await act(async () => {});
    expect(mock.invoke).toHaveBeenCalledWith('run.cancel', { runId: 'run-1' });
    expect(screen.getByTestId('composer-reason').textContent).toContain('Force stop ends the turn now');
    fireEvent.click(screen.getByTestId('composer-force-stop'));
    await act(async () => {});
    expect(mock.invoke).toHaveBeenCalledWith('run.cancel', { runId: 'run-1', force: true });
  });

  it('keeps the unsent draft per run across a remount (a reload), and forgets it once sent', async () => {
    const mock = mockClient({ 'run.prompt': () => ({ turn: 1, ik: 'ik:1' }) });
    const state = composerState('connected', summary(), view(), false);
    const first = renderWithClient(<Composer runId="run-draft" state={state} onRestart={async () => {}} />, mock.client);
    fireEvent.change(screen.getByTestId('composer-input'), { target: { value: 'half a thought' } });
    first.unmount();
    renderWithClient(<Composer runId="run-other" state={state} onRestart={async () => {}} />, mock.client);
    expect((screen.getByTestId('composer-input') as HTMLTextAreaElement).value).toBe('');
    cleanup();
    renderWithClient(<Composer runId="run-draft" state={state} onRestart={async () => {}} />, mock.client);
    expect((screen.getByTestId('composer-input') as HTMLTextAreaElement).value).toBe('half a thought');
    fireEvent.click(screen.getByTestId('composer-send'));
    await act(async () => {});
    expect(localStorage.getItem('keel.draft.run-draft')).toBeNull();
  });

  it('a stopped runtime: the reason says restart, and Restart runtime is offered', async () => {
    const { restarted } = setup(composerState('connected', summary(), view({ state: 'stopped', runtimeStopped: true }), false));
    expect(screen.getByTestId('composer-reason').textContent).toBe('The runtime is stopped — restart it');
    const restart = screen.getByTestId('composer-restart');
    expect(restart.className).toContain('primary');
    fireEvent.click(restart);
    await act(async () => {});
    expect(restarted()).toBe(1);
  });

  it('a refused prompt keeps the text and shows the error', async () => {
    const mock = mockClient({
      'run.prompt': () => {
        throw new Error('The run is busy.');
      },
    });
    renderWithClient(<Composer runId="run-1" state={composerState('connected', summary(), view(), false)} onRestart={async () => {}} />, mock.client);
    const input = screen.getByTestId('composer-input') as HTMLTextAreaElement;
    fireEvent.change(input, { target: { value: 'keep me' } });
    fireEvent.click(screen.getByTestId('composer-send'));
    await act(async () => {});
    expect(screen.getByTestId('composer-error').textContent).toBe('The run is busy.');
    expect(input.value).toBe('keep me');
  });
});
