// @vitest-environment jsdom
// The side pane: hidden by default on a narrow window, shown on a wide one, the user's choice
// remembered; Hide and Show work.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { initialSideOpen, useLayout } from '../src/stores/layout.js';

afterEach(cleanup);

describe('side pane', () => {
  it('defaults to hidden below 1200 px and shown above; a remembered choice wins', () => {
    expect(initialSideOpen(900, null)).toBe(false);
    expect(initialSideOpen(1440, null)).toBe(true);
    expect(initialSideOpen(900, 'open')).toBe(true);
    expect(initialSideOpen(1440, 'closed')).toBe(false);
  });

  it('remembers Hide and Show', () => {
    act(() => useLayout.getState().setSideOpen(false));
    expect(localStorage.getItem('keel.sidePane')).toBe('closed');
    act(() => useLayout.getState().setSideOpen(true));
    expect(localStorage.getItem('keel.sidePane')).toBe('open');
  });
});

describe('untitled runs', () => {
  it('show "Untitled run" (the id in the tooltip) and can be renamed', async () => {
    const { RunTitle } = await import('../src/components/conversation/RunTitle.js');
    const { renderWithClient, mockClient } = await import('./helpers.js');
    const { client, invoke } = mockClient({ 'run.rename': () => ({}) });
    renderWithClient(<RunTitle runId="run-9" title={null} canRename />, client);
    expect(screen.getByTestId('run-title').textContent).toBe('Untitled run');
    expect(screen.getByTestId('run-title').getAttribute('title')).toBe('run-9');
    fireEvent.click(screen.getByTestId('run-rename'));
    fireEvent.change(screen.getByTestId('run-rename-input'), { target: { value: 'Fix login' } });
    fireEvent.submit(screen.getByTestId('run-rename-form'));
    await act(async () => {});
    expect(invoke).toHaveBeenCalledWith('run.rename', { runId: 'run-9', title: 'Fix login' });
  });
});

describe('shortcuts overlay', () => {
  it('? opens the list of shortcuts (not while typing), ? or Escape closes it', async () => {
    const { ShortcutsOverlay } = await import('../src/components/ShortcutsOverlay.js');
    render(
      <>
        <textarea data-testid="box" />
        <ShortcutsOverlay />
      </>,
    );
    fireEvent.keyDown(screen.getByTestId('box'), { key: '?' });
    expect(screen.queryByTestId('shortcuts-overlay')).toBeNull();
    fireEvent.keyDown(document.body, { key: '?' });
    expect(screen.getByTestId('shortcuts-overlay').textContent).toContain('Allow the oldest waiting approval once');
    fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(screen.queryByTestId('shortcuts-overlay')).toBeNull();
  });
});

describe('tab title', () => {
  it('counts the runs waiting for an approval', async () => {
    const { attentionTitle, useAttentionTitle } = await import('../src/lib/attention-title.js');
    const { useRuns } = await import('../src/stores/runs.js');
    expect(attentionTitle(0)).toBe('Keel');
    function Probe() {
      useAttentionTitle();
      return null;
    }
    render(<Probe />);
    act(() => useRuns.setState({ runs: [{ id: 'a', state: 'awaiting_approval' }, { id: 'b', state: 'idle' }] as never }));
    expect(document.title).toBe('(1) Keel — approval needed');
    act(() => useRuns.setState({ runs: [] }));
    expect(document.title).toBe('Keel');
  });
});
