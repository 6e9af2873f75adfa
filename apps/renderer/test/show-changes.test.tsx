// @vitest-environment jsdom
// The Changes view is reachable (issue 15): the run header's "Changes" button and the palette's
// "Show changes" both open the side pane, when hidden, on its Changes tab.
import { RunViewFold } from '@keel/core/replay';
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandPalette } from '../src/components/CommandPalette.js';
import { RunHeader } from '../src/components/conversation/RunHeader.js';
import { SidePane } from '../src/components/SidePane.js';
import { DEFAULT_SIDE_TAB, useLayout } from '../src/stores/layout.js';
import { useRuns } from '../src/stores/runs.js';
import { EventLog, mockClient, renderWithClient, runSummary, stubLayout } from './helpers.js';

// The side pane's Reliability view loads uPlot, which asks matchMedia at import (jsdom has none).
vi.hoisted(() => {
  window.matchMedia ??= ((query: string) => ({ matches: false, media: query, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} })) as unknown as typeof window.matchMedia;
});

beforeAll(stubLayout);
beforeEach(() => {
  localStorage.clear();
  useLayout.setState({ sideOpen: false, sideTab: DEFAULT_SIDE_TAB });
  useRuns.setState({ runs: [runSummary('run-1', { title: 'Fix login' })], selectedRunId: 'run-1' });
});
afterEach(cleanup);

/** The side pane as App shows it: only while open. */
function Pane() {
  const open = useLayout((state) => state.sideOpen);
  return open ? <SidePane /> : null;
}

const selectedTab = () => document.querySelector('[role="tab"][aria-selected="true"]')?.textContent ?? null;

function view() {
  const fold = new RunViewFold('run-1');
  for (const event of new EventLog('run-1').add('run.created', { workspace: '/repo', agent: { kind: 'builtin', script: 'hello' } }).events) fold.push(event);
  return fold.snapshot();
}

describe('showing the Changes view', () => {
  it('the run header’s Changes button opens the hidden side pane on the Changes tab (and remembers it open)', () => {
    renderWithClient(
      <>
        <RunHeader view={view()} summary={null} />
        <Pane />
      </>,
      mockClient().client,
    );
    expect(screen.queryByRole('tablist')).toBeNull();
    fireEvent.click(screen.getByTestId('open-changes'));
    expect(useLayout.getState()).toMatchObject({ sideOpen: true, sideTab: 'changes' });
    expect(localStorage.getItem('keel.sidePane')).toBe('open');
    expect(selectedTab()).toBe('Changes');
    expect(document.querySelector('#side-view-changes')).not.toBeNull();
    // The tabs still switch by hand, through the same store.
    fireEvent.click(screen.getByRole('tab', { name: 'Policy' }));
    expect(useLayout.getState().sideTab).toBe('policy');
    expect(selectedTab()).toBe('Policy');
  });

  it('the palette’s "Show changes" does the same from an open pane on another tab', () => {
    useLayout.setState({ sideOpen: true, sideTab: 'policy' });
    renderWithClient(
      <>
        <CommandPalette />
        <Pane />
      </>,
      mockClient().client,
    );
    expect(selectedTab()).toBe('Policy');
    act(() => void fireEvent.keyDown(window, { key: 'k', ctrlKey: true }));
    fireEvent.change(screen.getByTestId('palette-input'), { target: { value: 'show changes' } });
    expect(screen.getByText('Show the changes of this run')).toBeTruthy();
    fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' });
    expect(screen.queryByTestId('command-palette')).toBeNull();
    expect(useLayout.getState()).toMatchObject({ sideOpen: true, sideTab: 'changes' });
    expect(selectedTab()).toBe('Changes');
  });
});
