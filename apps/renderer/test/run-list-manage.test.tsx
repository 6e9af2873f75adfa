// @vitest-environment jsdom
// Run list management in the renderer (issue 15 point 20): search over title, id, workspace and
// agent; filters by state, agent and workspace; grouping by workspace; archived runs hidden
// until "Show archived (N)"; choices remembered; archive and delete call the host (files kept
// unless the box is ticked) and show its refusal in its words.
import { KeelRpcError, type RunSummary } from '@keel/core/contract';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CommandPalette } from '../src/components/CommandPalette.js';
import { RunList } from '../src/components/runs/RunList.js';
import { NO_FILTER } from '../src/components/runs/list/run-filter.js';
import { storedFilter, useRunListFilter, useRuns } from '../src/stores/runs.js';
import { mockClient, renderWithClient, runSummary, stubLayout } from './helpers.js';

const run = (id: string, overrides: Partial<RunSummary> = {}): RunSummary =>
  runSummary(id, { workspace: '/home/me/shop', agent: { kind: 'builtin', script: 'edit-and-test' }, archived: false, ...overrides });

const RUNS = [
  run('r-login', { title: 'Fix the login bug', state: 'running', updated: '2025-01-05T00:00:00.000Z' }),
  run('r-docs', { title: 'Write the docs', workspace: '/home/me/site', agent: { kind: 'acp', command: ['gemini', '--acp'] }, updated: '2025-01-04T00:00:00.000Z' }),
  run('r-tests', { title: 'Add tests', state: 'failed', updated: '2025-01-03T00:00:00.000Z' }),
  run('r-old', { title: 'Old spike', archived: true, workspace: '/home/me/site', updated: '2025-01-02T00:00:00.000Z' }),
];

beforeAll(stubLayout);

const shownIds = () => screen.queryAllByTestId('run-item').map((row) => row.getAttribute('data-run-id'));
const settle = () => act(async () => {});

beforeEach(() => {
  localStorage.clear();
  useRunListFilter.setState({ filter: NO_FILTER });
  useRuns.setState({ runs: [], loaded: false, error: null, selectedRunId: null });
  useRuns.getState().setRuns(RUNS);
});
afterEach(cleanup);

describe('run list: search, filters, grouping', () => {
  it('search matches every word against title, id, workspace path and agent; Escape clears it', () => {
    renderWithClient(<RunList />, mockClient().client);
    expect(shownIds()).toEqual(['r-login', 'r-docs', 'r-tests']); // the archived run hidden
    const search = screen.getByTestId('run-search');
    fireEvent.change(search, { target: { value: 'LOGIN fix' } });
    expect(shownIds()).toEqual(['r-login']);
    fireEvent.change(search, { target: { value: 'r-tests' } });
    expect(shownIds()).toEqual(['r-tests']);
    fireEvent.change(search, { target: { value: '/home/me/site' } });
    expect(shownIds()).toEqual(['r-docs']);
    fireEvent.change(search, { target: { value: 'gemini' } });
    expect(shownIds()).toEqual(['r-docs']);
    fireEvent.change(search, { target: { value: 'nothing like it' } });
    expect(shownIds()).toEqual([]);
    expect(screen.getByTestId('run-list-none').textContent).toContain('No run matches.');
    fireEvent.keyDown(search, { key: 'Escape' });
    expect(shownIds()).toEqual(['r-login', 'r-docs', 'r-tests']);
  });

  it('filters by the fold’s state names, by agent and by workspace, together; Clear filters resets them', () => {
    renderWithClient(<RunList />, mockClient().client);
    const stateOptions = [...(screen.getByTestId('run-filter-state') as HTMLSelectElement).options].map((option) => option.textContent);
    expect(stateOptions).toEqual(['State: any', 'New', 'Starting', 'Idle', 'Running', 'Needs approval', 'Interrupted', 'Stopped', 'Completed', 'Failed']);
    fireEvent.change(screen.getByTestId('run-filter-state'), { target: { value: 'failed' } });
    expect(shownIds()).toEqual(['r-tests']);
    fireEvent.change(screen.getByTestId('run-filter-state'), { target: { value: '' } });
    fireEvent.change(screen.getByTestId('run-filter-agent'), { target: { value: 'built-in: edit-and-test' } });
    expect(shownIds()).toEqual(['r-login', 'r-tests']);
    fireEvent.change(screen.getByTestId('run-filter-workspace'), { target: { value: '/home/me/site' } });
    expect(shownIds()).toEqual([]);
    fireEvent.change(screen.getByTestId('run-filter-agent'), { target: { value: '' } });
    expect(shownIds()).toEqual(['r-docs']);
    fireEvent.click(screen.getByTestId('run-filter-clear'));
    expect(shownIds()).toEqual(['r-login', 'r-docs', 'r-tests']);
  });

  it('groups by workspace (newest group first, counts), shows archived runs on request, and remembers the choices', () => {
    renderWithClient(<RunList />, mockClient().client);
    expect(screen.getByTestId('run-archived-toggle').parentElement?.textContent).toBe('Show archived (1)');
    fireEvent.click(screen.getByTestId('run-group-toggle'));
    const groups = screen.getAllByTestId('run-group');
    expect(groups.map((group) => group.querySelector('h3')?.textContent)).toEqual(['shop (2)', 'site (1)']);
    expect(within(groups[0]!).getAllByTestId('run-item').map((row) => row.getAttribute('data-run-id'))).toEqual(['r-login', 'r-tests']);
    fireEvent.click(screen.getByTestId('run-archived-toggle'));
    expect(screen.getAllByTestId('run-group').map((group) => group.querySelector('h3')?.textContent)).toEqual(['shop (2)', 'site (2)']);
    expect(screen.getByTestId('run-archived-flag').closest('[data-run-id]')?.getAttribute('data-run-id')).toBe('r-old');
    fireEvent.change(screen.getByTestId('run-search'), { target: { value: 'spike' } });
    // Remembered (localStorage), and read back as it was saved.
    expect(storedFilter()).toEqual({ query: 'spike', state: null, agent: null, workspace: null, showArchived: true, groupByWorkspace: true });
    expect(storedFilter('{"state": 3, "showArchived": "yes"}')).toEqual(NO_FILTER);
    expect(storedFilter('not json')).toEqual(NO_FILTER);
  });

  it('when every run is archived, the list says so and offers to show them', () => {
    useRuns.getState().setRuns([run('r-a', { archived: true })]);
    renderWithClient(<RunList />, mockClient().client);
    expect(screen.getByTestId('run-list-none').textContent).toContain('Every run is archived.');
    fireEvent.click(screen.getByText('Show archived'));
    expect(shownIds()).toEqual(['r-a']);
  });
});

describe('run list: archive and delete', () => {
  it('archive and unarchive call the host; a refusal is shown in the host’s words; the row is not selected by its menu', async () => {
    const { client, invoke } = mockClient({
      'run.archive': ({ runId }: { runId: string }) => {
        if (runId === 'r-login') throw new KeelRpcError('conflict', 'This run is working on a turn. Cancel it (or let the turn end), then archive it.');
        return {};
      },
    });
    useRunListFilter.getState().setFilter({ showArchived: true });
    renderWithClient(<RunList />, client);
    const row = (id: string) => screen.getAllByTestId('run-item').find((item) => item.getAttribute('data-run-id') === id)!;
    fireEvent.click(within(row('r-docs')).getByTestId('run-actions'));
    fireEvent.click(within(row('r-docs')).getByTestId('run-archive'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('run.archive', { runId: 'r-docs', archived: true });
    fireEvent.click(within(row('r-old')).getByTestId('run-actions'));
    fireEvent.click(within(row('r-old')).getByTestId('run-unarchive'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('run.archive', { runId: 'r-old', archived: false });
    fireEvent.click(within(row('r-login')).getByTestId('run-actions'));
    fireEvent.click(within(row('r-login')).getByTestId('run-archive'));
    await settle();
    expect(within(row('r-login')).getByTestId('run-action-problem').textContent).toContain('This run is working on a turn. Cancel it');
    expect(useRuns.getState().selectedRunId).toBeNull();
  });

  it('delete keeps the files unless the box is ticked; the dialog says what goes', async () => {
    const { client, invoke } = mockClient({
      'run.delete': ({ runId, deleteFiles }: { runId: string; deleteFiles: boolean }) => ({ runId, filesDeleted: deleteFiles, checkpointsRemoved: 0, worktreeRemoved: false, notes: [] }),
    });
    renderWithClient(<RunList />, client);
    const row = (id: string) => screen.getAllByTestId('run-item').find((item) => item.getAttribute('data-run-id') === id)!;
    fireEvent.click(within(row('r-docs')).getByTestId('run-actions'));
    fireEvent.click(within(row('r-docs')).getByTestId('run-delete'));
    expect(screen.getByTestId('delete-run-dialog').textContent).toContain('Its ledger and checkpoints stay on disk, untouched, unless you tick the box below.');
    expect(screen.getByTestId('delete-run-confirm').textContent).toBe('Delete from the list');
    fireEvent.click(screen.getByTestId('delete-run-confirm'));
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('run.delete', { runId: 'r-docs', deleteFiles: false });
    expect(screen.queryByTestId('delete-run-dialog')).toBeNull();

    fireEvent.click(within(row('r-tests')).getByTestId('run-actions'));
    fireEvent.click(within(row('r-tests')).getByTestId('run-delete'));
    fireEvent.click(screen.getByTestId('delete-run-files'));
    expect(screen.getByTestId('delete-run-confirm').textContent).toBe('Delete run and its files');
    fireEvent.click(screen.getByTestId('delete-run-confirm'));
    await settle();
    expect(invoke).toHaveBeenLastCalledWith('run.delete', { runId: 'r-tests', deleteFiles: true });
  });

  it('a snapshot without the selected run (deleted, perhaps in another tab) clears the selection', () => {
    useRuns.getState().select('r-docs');
    useRuns.getState().setRuns(RUNS.filter((r) => r.id !== 'r-docs'));
    expect(useRuns.getState().selectedRunId).toBeNull();
  });

  it('the command palette archives the selected run and shows or hides archived runs', async () => {
    const { client, invoke } = mockClient({ 'run.archive': () => ({}) });
    useRuns.getState().select('r-docs');
    renderWithClient(<CommandPalette />, client);
    const command = async (words: string) => {
      act(() => void fireEvent.keyDown(window, { key: 'k', ctrlKey: true }));
      fireEvent.change(screen.getByTestId('palette-input'), { target: { value: words } });
      await act(async () => void fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' }));
    };
    await command('archive run');
    expect(invoke).toHaveBeenCalledWith('run.archive', { runId: 'r-docs', archived: true });
    await command('show archived');
    expect(useRunListFilter.getState().filter.showArchived).toBe(true);
  });
});
