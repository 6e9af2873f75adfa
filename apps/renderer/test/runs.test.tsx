// @vitest-environment jsdom
import { KeelRpcError, type AgentCatalog, type RunSummary } from '@keel/core/contract';
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { NewRunDialog } from '../src/components/runs/NewRunDialog.js';
import { RunList } from '../src/components/runs/RunList.js';
import { splitCommandLine } from '../src/lib/agent.js';
import { useAppInfo } from '../src/stores/app-info.js';
import { startRunsSync, useRuns } from '../src/stores/runs.js';
import { useUi } from '../src/stores/ui.js';
import { mockClient, renderWithClient, runSummary, type OpenStream } from './helpers.js';

const catalog: AgentCatalog = {
  builtinScripts: [
    { name: 'edit-and-test', description: 'Plans, writes, runs a check.' },
    { name: 'hello', description: 'Says hello.' },
  ],
  detected: [{ kind: 'codex', name: 'OpenAI Codex (app-server)', command: ['codex', 'app-server'], path: '/usr/bin/codex' }],
};

const run = (id: string, overrides: Partial<RunSummary> = {}): RunSummary => runSummary(id, { agent: { kind: 'builtin', script: 'edit-and-test' }, ...overrides });

beforeEach(() => {
  useRuns.setState({ runs: [], loaded: false, error: null, selectedRunId: null });
  useUi.setState({ newRunOpen: true, expanded: {}, reveal: null });
  useAppInfo.setState({ info: null, error: null });
});
afterEach(cleanup);

const settle = () => act(async () => {});

describe('the new-run dialog', () => {
  it('creates a run with the default built-in script and selects it', async () => {
    const { client, invoke } = mockClient({ 'agents.list': () => catalog, 'runs.create': () => run('r-new', { state: 'created' }) });
    renderWithClient(<NewRunDialog />, client);
    await settle();
    expect((screen.getByTestId('new-run-script') as HTMLSelectElement).value).toBe('edit-and-test');
    expect(screen.queryByTestId('new-run-browse')).toBeNull(); // headless: type the path
    fireEvent.change(screen.getByTestId('new-run-workspace'), { target: { value: ' /home/me/repo ' } });
    fireEvent.change(screen.getByTestId('new-run-title'), { target: { value: 'Fix the tests' } });
    fireEvent.click(screen.getByTestId('new-run-create'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('runs.create', { workspace: '/home/me/repo', agent: { kind: 'builtin', script: 'edit-and-test' }, title: 'Fix the tests' });
    expect(useRuns.getState().selectedRunId).toBe('r-new');
    // Listed at once, before runs.changed brings it.
    expect(useRuns.getState().runs).toMatchObject([{ id: 'r-new', state: 'created' }]);
    expect(useUi.getState().newRunOpen).toBe(false);
  });

  it('shows the typed error: message and each issue, the code in its tooltip', async () => {
    const { client } = mockClient({
      'agents.list': () => catalog,
      'runs.create': () => {
        throw new KeelRpcError('invalid_input', 'Invalid input for "runs.create".', [{ path: 'workspace', message: 'Too small: expected string to have >=1 characters' }]);
      },
    });
    renderWithClient(<NewRunDialog />, client);
    await settle();
    fireEvent.click(screen.getByTestId('new-run-create'));
    await settle();
    const error = screen.getByTestId('new-run-error');
    expect(error.dataset.code).toBe('invalid_input');
    expect(error.title).toBe('Error code: invalid_input');
    expect(error.textContent).toContain('Invalid input for "runs.create".');
    expect(error.textContent).toContain('workspace: Too small');
    expect(useUi.getState().newRunOpen).toBe(true);
  });

  it('checks the typed folder in plain words: a missing one blocks Create; a plain folder is offered git init; ~ goes as resolved', async () => {
    const checks: Record<string, object> = {
      '': { input: '', resolved: '', status: 'empty', problem: 'Type the folder the agent should work in (e.g. ~/projects/app).', canInit: false },
      '~/nope': { input: '~/nope', resolved: '/home/me/nope', status: 'missing', problem: 'There is no folder at /home/me/nope. Check the path, or create the folder first.', canInit: false },
      '~/plain': { input: '~/plain', resolved: '/home/me/plain', status: 'not_git', problem: '/home/me/plain is not a git repository. Make it one now (git init)…', canInit: true },
    };
    const { client, invoke } = mockClient({
      'agents.list': () => catalog,
      'workspace.check': ({ path }: { path: string }) => checks[path],
      'workspace.init': () => ({ input: '/home/me/plain', resolved: '/home/me/plain', status: 'git', problem: null, canInit: false }),
      'runs.create': () => run('r-tilde'),
    });
    // The check waits for a pause in typing: the fake clock passes it at once, then the answer lands.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => void vi.useRealTimers());
    const debounce = () => act(() => vi.advanceTimersByTimeAsync(300));
    localStorage.removeItem('keel.lastWorkspace');
    renderWithClient(<NewRunDialog />, client);
    await debounce();
    expect(screen.getByTestId('workspace-status').textContent).toContain('Type the folder');
    expect(screen.getByTestId('new-run-create').hasAttribute('disabled')).toBe(true);
    fireEvent.change(screen.getByTestId('new-run-workspace'), { target: { value: '~/nope' } });
    await debounce();
    expect(screen.getByTestId('workspace-status').textContent).toBe('There is no folder at /home/me/nope. Check the path, or create the folder first.');
    expect(screen.getByTestId('new-run-create').hasAttribute('disabled')).toBe(true);
    fireEvent.change(screen.getByTestId('new-run-workspace'), { target: { value: '~/plain' } });
    await debounce();
    expect(screen.getByTestId('workspace-status').dataset.status).toBe('not_git');
    expect(screen.getByTestId('new-run-create').hasAttribute('disabled')).toBe(false);
    fireEvent.click(screen.getByTestId('workspace-git-init'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('workspace.init', { path: '/home/me/plain' });
    expect(screen.getByTestId('workspace-status').textContent).toContain('Git repository');
    fireEvent.click(screen.getByTestId('new-run-create'));
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('runs.create', { workspace: '/home/me/plain', agent: { kind: 'builtin', script: 'edit-and-test' } });
  });

  it('offers agents found on PATH and a custom ACP command line', async () => {
    const { client, invoke } = mockClient({ 'agents.list': () => catalog, 'runs.create': () => run('r2') });
    renderWithClient(<NewRunDialog />, client);
    await settle();
    fireEvent.change(screen.getByTestId('new-run-workspace'), { target: { value: '/repo' } });
    fireEvent.click(screen.getByTestId('new-run-source-detected'));
    fireEvent.click(screen.getByTestId('new-run-create'));
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('runs.create', { workspace: '/repo', agent: { kind: 'codex', command: ['codex', 'app-server'] } });

    useUi.setState({ newRunOpen: true });
    cleanup();
    renderWithClient(<NewRunDialog />, client);
    await settle();
    fireEvent.change(screen.getByTestId('new-run-workspace'), { target: { value: '/repo' } });
    fireEvent.click(screen.getByTestId('new-run-source-custom'));
    fireEvent.change(screen.getByTestId('new-run-command'), { target: { value: `gemini --acp --model "gemini 2.5"` } });
    fireEvent.click(screen.getByTestId('new-run-create'));
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('runs.create', { workspace: '/repo', agent: { kind: 'acp', command: ['gemini', '--acp', '--model', 'gemini 2.5'] } });
  });

  it('in Electron, Browse… fills the path from the native picker', async () => {
    const { client, invoke } = mockClient({ 'agents.list': () => catalog, 'app.chooseFolder': () => ({ path: '/Users/me/code/app' }) });
    renderWithClient(<NewRunDialog />, client, 'electron');
    await settle();
    fireEvent.click(screen.getByTestId('new-run-browse'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('app.chooseFolder', expect.objectContaining({}));
    expect((screen.getByTestId('new-run-workspace') as HTMLInputElement).value).toBe('/Users/me/code/app');
  });
});

describe('the run list', () => {
  it('lists runs newest activity first with state, workspace, agent and stop reason; a click selects', async () => {
    const { client } = mockClient();
    useRuns.getState().setRuns([
      run('older', { updated: '2025-01-01T00:00:00.000Z' }),
      run('newer', { updated: '2025-01-02T00:00:00.000Z', state: 'failed', stopReason: 'agent_unavailable', title: 'Broken agent' }),
    ]);
    renderWithClient(<RunList />, client);
    const rows = screen.getAllByTestId('run-item');
    expect(rows.map((row) => row.dataset.runId)).toEqual(['newer', 'older']);
    expect(rows[0]!.textContent).toContain('Broken agent');
    expect(rows[0]!.textContent).toContain('agent_unavailable');
    expect(rows[0]!.textContent).toContain('newer'); // the workspace's last segment
    expect(rows[0]!.textContent).toContain('built-in: edit-and-test');
    fireEvent.click(rows[1]!);
    expect(useRuns.getState().selectedRunId).toBe('older');
  });
});

describe('the run list sync (runs.changed)', () => {
  const open = (streams: OpenStream[]) => {
    const live = streams.filter((stream) => stream.stream === 'runs.changed' && !stream.closed);
    expect(live).toHaveLength(1);
    return live[0]!;
  };

  it('subscribes instead of polling: the snapshot replaces the list, a change merges by id, stop closes the stream', () => {
    vi.useFakeTimers();
    try {
      const { client, invoke, streams } = mockClient();
      const sync = startRunsSync(client);
      const stream = open(streams);
      expect(stream.currentParams()).toEqual({});
      stream.handlers.onEvent({ kind: 'snapshot', runs: [run('a', { updated: '2025-01-01T00:00:01.000Z' }), run('b', { updated: '2025-01-01T00:00:02.000Z' })] });
      expect(useRuns.getState()).toMatchObject({ loaded: true, error: null });
      expect(useRuns.getState().runs.map((r) => r.id)).toEqual(['b', 'a']);
      // A new run and a state change: merged, and the list re-sorted by activity.
      stream.handlers.onEvent({
        kind: 'changed',
        runs: [run('c', { updated: '2025-01-01T00:00:03.000Z' }), run('a', { updated: '2025-01-01T00:00:04.000Z', state: 'failed', stopReason: 'agent_unavailable', lastSeq: 5 })],
      });
      expect(useRuns.getState().runs.map((r) => [r.id, r.state])).toEqual([['a', 'failed'], ['c', 'idle'], ['b', 'idle']]);
      // A summary older than the one held (a late echo) changes nothing.
      stream.handlers.onEvent({ kind: 'changed', runs: [run('a', { lastSeq: 2, state: 'running' })] });
      expect(useRuns.getState().runs.find((r) => r.id === 'a')).toMatchObject({ state: 'failed', lastSeq: 5 });
      vi.advanceTimersByTime(60_000);
      expect(invoke).not.toHaveBeenCalled(); // no polling of runs.list
      expect(streams).toHaveLength(1);
      sync.stop();
      expect(stream.closed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('what is on screen follows the stream: a new run appears and a state change shows, without a request', async () => {
    const { client, invoke, streams } = mockClient();
    const sync = startRunsSync(client);
    renderWithClient(<RunList />, client);
    expect(screen.getByText('Loading runs…')).toBeTruthy();
    const stream = open(streams);
    await act(async () => stream.handlers.onEvent({ kind: 'snapshot', runs: [run('a')] }));
    expect(screen.getAllByTestId('run-item').map((row) => [row.dataset.runId, row.dataset.state])).toEqual([['a', 'idle']]);
    await act(async () =>
      stream.handlers.onEvent({ kind: 'changed', runs: [run('b', { state: 'running', updated: '2025-01-02T00:00:00.000Z', lastSeq: 3 })] }),
    );
    await act(async () => stream.handlers.onEvent({ kind: 'changed', runs: [run('b', { state: 'awaiting_approval', updated: '2025-01-02T00:00:01.000Z', lastSeq: 4 })] }));
    expect(screen.getAllByTestId('run-item').map((row) => [row.dataset.runId, row.dataset.state])).toEqual([
      ['b', 'awaiting_approval'],
      ['a', 'idle'],
    ]);
    expect(invoke).not.toHaveBeenCalled();
    sync.stop();
  });

  it('after a reconnect the snapshot the host sends again replaces the list: what changed while away is shown', () => {
    const { client, streams } = mockClient();
    const sync = startRunsSync(client);
    const stream = open(streams);
    stream.handlers.onEvent({ kind: 'snapshot', runs: [run('a'), run('b')] });
    // The transport re-opens the subscription with the same params; the host starts it with the whole list.
    stream.handlers.onEvent({ kind: 'snapshot', runs: [run('b', { state: 'stopped', lastSeq: 9 }), run('new')] });
    expect(useRuns.getState().runs.map((r) => [r.id, r.state]).sort()).toEqual([['b', 'stopped'], ['new', 'idle']]);
    sync.stop();
  });

  it('when the host ends the stream on a failure, the list says so and follows again after retryMs', () => {
    vi.useFakeTimers();
    try {
      const { client, streams } = mockClient();
      const sync = startRunsSync(client, { retryMs: 500 });
      const first = open(streams);
      first.handlers.onEvent({ kind: 'snapshot', runs: [run('a')] });
      first.handlers.onEnd?.(new KeelRpcError('invalid_output', 'The host produced an invalid event for "runs.changed".'));
      first.closed = true; // the transport forgets an ended subscription
      expect(useRuns.getState().error).toContain('invalid event');
      expect(useRuns.getState().runs.map((r) => r.id)).toEqual(['a']);
      vi.advanceTimersByTime(499);
      expect(streams).toHaveLength(1);
      vi.advanceTimersByTime(1);
      const second = open(streams);
      second.handlers.onEvent({ kind: 'snapshot', runs: [run('a'), run('b')] });
      expect(useRuns.getState()).toMatchObject({ error: null });
      expect(useRuns.getState().runs).toHaveLength(2);
      sync.stop();
      expect(second.closed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('splitting a custom command line', () => {
  it.each([
    ['npx @agentclientprotocol/claude-agent-acp', ['npx', '@agentclientprotocol/claude-agent-acp']],
    [`agent --name 'two words' --x "a \\"b\\""`, ['agent', '--name', 'two words', '--x', 'a "b"']],
    ['  spaced   out  ', ['spaced', 'out']],
    [`empty ''`, ['empty', '']],
  ])('%s', (line, words) => expect(splitCommandLine(line)).toEqual(words));

  it('refuses an unclosed quote', () => expect(() => splitCommandLine(`a 'b`)).toThrow(/Unclosed single quote/));
});
