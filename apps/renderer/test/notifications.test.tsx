// @vitest-environment jsdom
// Notifications, tab title and favicon badge (issue 15 point 22). The decision is core's pure
// rule (packages/core/test/attention.test.ts); here: the page applies it to the run list, and
// the browser's Notification API boundary (jsdom has none: a fake constructor stands in for it).
import type { RunSummary } from '@keel/core/contract';
import type { AttentionNotice } from '@keel/core/replay';
import { act, cleanup, render } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttentionWatcher, useAttention } from '../src/lib/attention.js';
import { askPermissionOnce, showBrowserNotification } from '../src/lib/browser-notifications.js';
import { faviconUrl, setFavicon } from '../src/lib/favicon.js';
import { useRuns } from '../src/stores/runs.js';
import { runSummary } from './helpers.js';

const run = (id: string, state: string, title: string | null = null, stopReason: string | null = null): RunSummary =>
  runSummary(id, { state, workspace: '/repo', agent: null, title, stopReason });

function watcher(context: { focused: boolean; viewingRunId: string | null; enabled: boolean }) {
  const outlets = { notify: vi.fn(), turnStarted: vi.fn(), setTitle: vi.fn(), setFavicon: vi.fn() };
  return { outlets, watcher: new AttentionWatcher(outlets, () => context), context };
}

describe('the page applies the attention rule to the run list', () => {
  it('in the background: a run asking for approval notifies and badges title and icon; the badge goes when it is answered', () => {
    const { outlets, watcher: w } = watcher({ focused: false, viewingRunId: null, enabled: true });
    w.runs([run('a', 'running', 'Fix the bug')]);
    expect(outlets.notify).not.toHaveBeenCalled();
    w.runs([run('a', 'awaiting_approval', 'Fix the bug')]);
    expect(outlets.notify).toHaveBeenCalledWith(expect.objectContaining({ runId: 'a', kind: 'approval', body: 'Fix the bug asks for an approval.' }));
    expect(outlets.setTitle).toHaveBeenLastCalledWith('(1) Keel — approval needed');
    expect(outlets.setFavicon).toHaveBeenLastCalledWith(faviconUrl(1, false));
    w.runs([run('a', 'running', 'Fix the bug')]);
    expect(outlets.setTitle).toHaveBeenLastCalledWith('Keel');
    expect(outlets.setFavicon).toHaveBeenLastCalledWith(faviconUrl(0, false));
  });

  it('a run that finishes in the background leaves a dot and "run finished" until the page is in front', () => {
    const { outlets, watcher: w } = watcher({ focused: false, viewingRunId: null, enabled: true });
    w.runs([run('a', 'running')]);
    w.runs([run('a', 'idle', null, 'end_turn')]);
    expect(outlets.notify).toHaveBeenCalledWith(expect.objectContaining({ kind: 'finished' }));
    expect(outlets.setTitle).toHaveBeenLastCalledWith('• Keel — run finished');
    expect(outlets.setFavicon).toHaveBeenLastCalledWith(faviconUrl(0, true));
    w.inFront([run('a', 'idle', null, 'end_turn')]);
    expect(outlets.setTitle).toHaveBeenLastCalledWith('Keel');
  });

  it('in front: no notice (the run looked at included), but the title still counts; the person starting a turn is when permission is asked', () => {
    const { outlets, watcher: w } = watcher({ focused: true, viewingRunId: 'a', enabled: true });
    w.runs([run('a', 'idle')]);
    w.runs([run('a', 'running')]);
    expect(outlets.turnStarted).toHaveBeenCalledTimes(1);
    w.runs([run('a', 'awaiting_approval')]);
    expect(outlets.notify).not.toHaveBeenCalled();
    expect(outlets.setTitle).toHaveBeenLastCalledWith('(1) Keel — approval needed');
  });

  it('the setting turned off: no notice, no badge, the plain title', () => {
    const { outlets, watcher: w } = watcher({ focused: false, viewingRunId: null, enabled: false });
    w.runs([run('a', 'running')]);
    w.runs([run('a', 'awaiting_approval')]);
    expect(outlets.notify).not.toHaveBeenCalled();
    expect(outlets.setTitle).toHaveBeenLastCalledWith('Keel');
    expect(outlets.setFavicon).toHaveBeenLastCalledWith(faviconUrl(0, false));
  });
});

describe('favicon badge', () => {
  const svgOf = (url: string) => decodeURIComponent(url.replace('data:image/svg+xml,', ''));
  it('draws the count, "9+" above nine, a dot, or the plain icon', () => {
    expect(svgOf(faviconUrl(2, false))).toMatch(/<circle[^>]*\/><text[^>]*>2<\/text><\/svg>$/);
    expect(svgOf(faviconUrl(12, true))).toContain('>9+</text>');
    expect(svgOf(faviconUrl(0, true))).toMatch(/<circle[^>]*\/><\/svg>$/);
    expect(svgOf(faviconUrl(0, false))).not.toContain('<circle');
  });

  it('points the icon link at the new image', () => {
    document.head.innerHTML = '<link rel="icon" type="image/svg+xml" href="./favicon.svg" />';
    setFavicon(faviconUrl(3, false));
    expect(document.querySelector('link[rel="icon"]')!.getAttribute('href')).toBe(faviconUrl(3, false));
  });
});

describe('the browser Notification API boundary', () => {
  let created: Array<{ title: string; options: NotificationOptions; onclick: (() => void) | null; close: () => void }>;
  let requests: number;
  let permission: NotificationPermission;

  beforeEach(() => {
    created = [];
    requests = 0;
    permission = 'default';
    localStorage.clear();
    class FakeNotification {
      static get permission() {
        return permission;
      }
      static async requestPermission() {
        requests++;
        permission = 'granted';
        return permission;
      }
      onclick: (() => void) | null = null;
      close = vi.fn();
      constructor(
        readonly title: string,
        readonly options: NotificationOptions,
      ) {
        created.push(this);
      }
    }
    vi.stubGlobal('Notification', FakeNotification);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    cleanup();
  });

  const notice: AttentionNotice = { runId: 'run-7', kind: 'approval', title: 'Keel: an agent is waiting for you', body: 'run-7 asks for an approval.' };

  it('asks for the permission once, ever (a second ask is not made; a forced one from Settings is)', async () => {
    permission = 'default';
    await askPermissionOnce();
    permission = 'default'; // the person dismissed the prompt
    await askPermissionOnce();
    expect(requests).toBe(1);
    await askPermissionOnce(true);
    expect(requests).toBe(2);
  });

  it('shows nothing without the permission; with it, a click focuses the page, opens the run and closes the notice', () => {
    expect(showBrowserNotification(notice, vi.fn())).toBeNull();
    permission = 'granted';
    const open = vi.fn();
    const focus = vi.spyOn(window, 'focus').mockImplementation(() => {});
    showBrowserNotification(notice, open);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ title: notice.title, options: { body: notice.body, tag: 'keel:run-7:approval' } });
    created[0]!.onclick!();
    expect(focus).toHaveBeenCalled();
    expect(open).toHaveBeenCalledWith('run-7');
    expect(created[0]!.close).toHaveBeenCalled();
  });

  it('the app hook notifies from the runs store in the background, and #run=<id> opens a run', () => {
    permission = 'granted';
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    function Probe() {
      useAttention();
      return null;
    }
    act(() => useRuns.setState({ runs: [run('run-7', 'running')], selectedRunId: null }));
    render(<Probe />);
    act(() => useRuns.setState({ runs: [run('run-7', 'awaiting_approval')] }));
    expect(created.map((n) => n.options.body)).toEqual(['run-7 asks for an approval.']);
    expect(document.title).toBe('(1) Keel — approval needed');
    act(() => {
      location.hash = '#run=run-7';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
    expect(useRuns.getState().selectedRunId).toBe('run-7');
    expect(location.hash).toBe('');
  });
});
