// @vitest-environment jsdom
// The Settings dialog: shows what the host stores (with the data directory), saves each change
// at once, applies the theme, and shows a refused value in the host's plain words.
import { KeelRpcError } from '@keel/core/contract';
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsDialog } from '../src/components/settings/SettingsDialog.js';
import { useSettings } from '../src/stores/settings.js';
import { mockClient, openStream, renderWithClient } from './helpers.js';

afterEach(() => {
  cleanup();
  useSettings.setState({ view: null, error: null, open: false });
  delete document.documentElement.dataset.theme;
});

const settings = { schema_version: 1, autoResume: true, autoResumeLimit: 3, idleStopMinutes: 30, approvalTimeoutSeconds: 900, theme: 'system', defaultScript: 'edit-and-test', liveOtlpExport: false } as const;
const view = (patch: object = {}) => ({ settings: { ...settings, ...patch }, file: '/data/settings.json', dataDir: '/data' });

describe('settings dialog', () => {
  it('saves each change at once, applies the theme, and says a refused value in plain words', async () => {
    let stored = view();
    const { client, invoke } = mockClient({
      'settings.get': () => stored,
      'agents.list': () => ({ builtinScripts: [{ name: 'edit-and-test', description: '' }, { name: 'hello', description: '' }], detected: [] }),
      'settings.update': ({ patch }: { patch: Record<string, unknown> }) => {
        if (typeof patch.idleStopMinutes === 'number' && patch.idleStopMinutes < 0) throw new KeelRpcError('invalid_input', 'That setting is not valid: idleStopMinutes — Too small.');
        stored = view({ ...stored.settings, ...patch });
        return stored;
      },
    });
    useSettings.setState({ open: true });
    renderWithClient(<SettingsDialog />, client);
    await act(async () => {});
    expect(screen.getByTestId('settings-data-dir').textContent).toBe('/data');
    fireEvent.click(screen.getByTestId('settings-auto-resume'));
    await act(async () => {});
    expect(invoke).toHaveBeenCalledWith('settings.update', { patch: { autoResume: false } });
    expect(screen.getByTestId('settings-saved').textContent).toBe('Saved: auto-resume.');
    fireEvent.change(screen.getByTestId('settings-theme'), { target: { value: 'dark' } });
    await act(async () => {});
    expect(document.documentElement.dataset.theme).toBe('dark');
    const idle = screen.getByTestId('settings-idle-stop');
    fireEvent.change(idle, { target: { value: '-5' } });
    fireEvent.blur(idle);
    await act(async () => {});
    expect(screen.getByTestId('settings-error').textContent).toContain('That setting is not valid');
  });

  it('the live export switch saves the setting and shows, as the host says it, where spans go and what went wrong', async () => {
    let stored = view();
    const { client, invoke, streams } = mockClient({
      'settings.get': () => stored,
      'agents.list': () => ({ builtinScripts: [], detected: [] }),
      'settings.update': ({ patch }: { patch: Record<string, unknown> }) => {
        stored = view({ ...stored.settings, ...patch });
        return stored;
      },
    });
    useSettings.setState({ open: true });
    renderWithClient(<SettingsDialog />, client);
    await act(async () => {});
    const live = openStream(streams, 'sinks.liveExportStatus');
    const off = { state: 'off', endpoint: null, spansSent: 0, lastSentAt: null, problem: null, restarts: 0 } as const;
    act(() => live.handlers.onEvent(off));
    expect(screen.getByTestId('settings-live-export-status').textContent).toContain('Off.');
    fireEvent.click(screen.getByTestId('settings-live-export'));
    await act(async () => {});
    expect(invoke).toHaveBeenCalledWith('settings.update', { patch: { liveOtlpExport: true } });
    act(() =>
      live.handlers.onEvent({ ...off, state: 'retrying', endpoint: 'http://127.0.0.1:4318/v1/traces', spansSent: 12, problem: 'collector http://127.0.0.1:4318 unavailable' }),
    );
    const line = screen.getByTestId('settings-live-export-status').textContent;
    expect(line).toContain('Waiting for the collector (retrying).');
    expect(line).toContain('http://127.0.0.1:4318/v1/traces, 12 spans sent');
    expect(line).toContain('collector http://127.0.0.1:4318 unavailable');
    // Never asked again and again: the dialog listens, and stops listening when it closes.
    expect(invoke).not.toHaveBeenCalledWith('sinks.liveExport', expect.anything());
    act(() => live.handlers.onEnd?.(new KeelRpcError('unavailable', 'The host went away.')));
    expect(screen.getByTestId('settings-live-export-status').textContent).toContain('Status unknown.');
    cleanup();
    expect(live.closed).toBe(true);
  });
});
