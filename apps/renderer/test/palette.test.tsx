// @vitest-environment jsdom
// Issue 15 point 24: the command palette (Ctrl/Cmd+K, cmdk) and the `?` overlay that lists it.
import type { RunSummary } from '@keel/core/contract';
import { KeelRpcError } from '@keel/core/contract';
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CommandPalette } from '../src/components/CommandPalette.js';
import { ShortcutsOverlay } from '../src/components/ShortcutsOverlay.js';
import { useLayout } from '../src/stores/layout.js';
import { useRuns } from '../src/stores/runs.js';
import { useSettings } from '../src/stores/settings.js';
import { useUi } from '../src/stores/ui.js';
import { mockClient, renderWithClient, runSummary, stubLayout } from './helpers.js';

const run = (id: string, title: string | null): RunSummary => runSummary(id, { title });

beforeAll(stubLayout);
beforeEach(() => {
  useRuns.setState({ runs: [run('run-a', 'Fix login'), run('run-b', 'Write docs')], selectedRunId: 'run-a' });
  useUi.setState({ newRunOpen: false });
  useSettings.setState({ open: false });
  useLayout.setState({ sideOpen: true });
});
afterEach(cleanup);

const press = (key: string, init: KeyboardEventInit = {}) => act(() => void fireEvent.keyDown(window, { key, ...init }));
const type = (text: string) => fireEvent.change(screen.getByTestId('palette-input'), { target: { value: text } });
const items = () => [...document.querySelectorAll('[cmdk-item]')].map((node) => node.textContent);

describe('the command palette', () => {
  it('Ctrl+K opens it (and toggles it), Esc closes it', () => {
    renderWithClient(<CommandPalette />, mockClient().client);
    expect(screen.queryByTestId('command-palette')).toBeNull();
    press('k', { ctrlKey: true });
    expect(screen.getByTestId('command-palette')).toBeTruthy();
    expect(items()).toEqual(expect.arrayContaining(['New run…', 'Open settings', 'Hide the side pane', 'Cancel the running turn', 'Export diagnostics of this run']));
    press('Escape');
    expect(screen.queryByTestId('command-palette')).toBeNull();
    press('K', { metaKey: true });
    expect(screen.getByTestId('command-palette')).toBeTruthy();
    press('k', { ctrlKey: true });
    expect(screen.queryByTestId('command-palette')).toBeNull();
  });

  it('typing filters; Enter runs the chosen command (settings, side pane, new run)', () => {
    renderWithClient(<CommandPalette />, mockClient().client);
    press('k', { ctrlKey: true });
    type('settings');
    expect(items()).toEqual(['Open settings']);
    fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' });
    expect(useSettings.getState().open).toBe(true);
    expect(screen.queryByTestId('command-palette')).toBeNull();

    press('k', { ctrlKey: true });
    type('side pane');
    fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' });
    expect(useLayout.getState().sideOpen).toBe(false);

    press('k', { ctrlKey: true });
    type('new run');
    fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' });
    expect(useUi.getState().newRunOpen).toBe(true);
  });

  it('switches to another run by its title', () => {
    renderWithClient(<CommandPalette />, mockClient().client);
    press('k', { ctrlKey: true });
    type('write docs');
    expect(items()).toEqual(['Write docs · idle']);
    fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' });
    expect(useRuns.getState().selectedRunId).toBe('run-b');
  });

  it('restart and cancel act on the selected run; the host’s refusal is shown in plain words', async () => {
    const { client, invoke } = mockClient({
      'runtime.restart': () => ({}),
      'run.cancel': () => {
        throw new KeelRpcError('conflict', 'No turn is running.');
      },
    });
    renderWithClient(<CommandPalette />, client);
    press('k', { ctrlKey: true });
    type('restart');
    await act(async () => void fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' }));
    expect(invoke).toHaveBeenCalledWith('runtime.restart', { runId: 'run-a' });
    expect(screen.queryByTestId('command-palette')).toBeNull();

    press('k', { ctrlKey: true });
    type('cancel');
    await act(async () => void fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' }));
    expect(invoke).toHaveBeenCalledWith('run.cancel', { runId: 'run-a' });
    expect(screen.getByTestId('palette-status').textContent).toContain('No turn is running.');
  });

  it('with no run selected, offers no run commands', () => {
    useRuns.setState({ selectedRunId: null });
    renderWithClient(<CommandPalette />, mockClient().client);
    press('k', { ctrlKey: true });
    expect(items()).not.toContain('Cancel the running turn');
    expect(items()).toContain('New run…');
  });
});

describe('the ? overlay', () => {
  it('lists the command palette shortcut', () => {
    renderWithClient(<ShortcutsOverlay />, mockClient().client);
    press('?');
    expect(screen.getByTestId('shortcuts-overlay').textContent).toMatch(/(Ctrl|⌘)\+KCommand palette/);
  });
});
