// @vitest-environment jsdom
// The engine's health follows the heartbeat: a failed engine (storage refused a write) is said
// plainly at the top, and the header's engine status changes with it.
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineBanner } from '../src/components/ConnectionBanner.js';
import { useConnection } from '../src/stores/connection.js';

afterEach(() => {
  cleanup();
  useConnection.setState({ engine: null });
});

describe('engine banner', () => {
  it('is absent while the engine is ok, and says what to do once a heartbeat reports it failed', () => {
    render(<EngineBanner />);
    expect(screen.queryByTestId('engine-failed')).toBeNull();
    act(() => useConnection.getState().heartbeat('ok'));
    expect(screen.queryByTestId('engine-failed')).toBeNull();
    act(() => useConnection.getState().heartbeat('failed'));
    const banner = screen.getByTestId('engine-failed');
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.textContent).toMatch(/no longer write to its data directory.*Free space, then restart Keel/);
  });
});

describe('connection banner', () => {
  it('says why the host closed the connection (too slow, too many tabs) while it reconnects, and forgets it once connected', async () => {
    const { ConnectionBanner } = await import('../src/components/ConnectionBanner.js');
    const { ClientProvider } = await import('../src/lib/client-context.js');
    const { mockClient } = await import('./helpers.js');
    const { client } = mockClient();
    render(
      <ClientProvider connection={{ client, mode: 'socket', reconnectNow: () => {}, checkToken: async () => 'valid' }}>
        <ConnectionBanner />
      </ClientProvider>,
    );
    act(() => useConnection.getState().setStatus('reconnecting', 'Keel closed this tab: it did not read its updates.'));
    expect(screen.getByTestId('connection-why').textContent).toContain('did not read');
    act(() => useConnection.getState().setStatus('connected'));
    expect(screen.queryByTestId('connection-why')).toBeNull();
  });
});

describe('token banner', () => {
  afterEach(() => useConnection.setState({ status: 'connecting', tokenRejected: false }));

  it('says the token was refused and names `keel open`, and clears once a connection succeeds', async () => {
    const { ConnectionBanner } = await import('../src/components/ConnectionBanner.js');
    const { renderWithClient, mockClient } = await import('./helpers.js');
    const { client } = mockClient();
    renderWithClient(<ConnectionBanner />, client);
    act(() => useConnection.getState().setStatus('lost'));
    expect(screen.getByRole('status').textContent).toContain('keel serve');
    act(() => useConnection.getState().setTokenRejected(true));
    const banner = screen.getByTestId('token-rejected');
    expect(banner.textContent).toMatch(/refuses this page.s access token.*keel open/);
    act(() => useConnection.getState().setStatus('connected'));
    expect(screen.queryByTestId('token-rejected')).toBeNull();
    expect(useConnection.getState().tokenRejected).toBe(false);
  });
});
