import {
  bridgeTransport,
  createClient,
  createSocketTransport,
  type ConnectionStatus,
  type KeelClient,
  type PreloadBridge,
  type SocketLike,
} from '@keel/core/contract';

declare global {
  interface Window {
    /** Present only inside Electron, set by the preload. */
    keel?: PreloadBridge;
  }
}

const TOKEN_KEY = 'keel.token';

function tokenStore(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * Takes the token from the URL, keeps it for reconnects and for other tabs of this origin (the
 * origin is this server's own port: another server never sees it), and removes it from the
 * address bar so it does not end up in history or a screenshot. A copied address without the
 * token works in this browser; elsewhere the server says how to get the full URL (`keel open`).
 */
function takeToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    tokenStore()?.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.toString());
    return fromUrl;
  }
  return tokenStore()?.getItem(TOKEN_KEY) ?? '';
}

/**
 * Whether the server takes this page's token: 'valid', 'invalid' (a 401: the token was rotated
 * or never given), or 'unreachable' (the server is not answering at all).
 */
export type TokenCheck = 'valid' | 'invalid' | 'unreachable';

export async function checkToken(token: string): Promise<TokenCheck> {
  const url = new URL('auth', window.location.href);
  url.search = new URLSearchParams({ token }).toString();
  try {
    const response = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
    return response.status === 204 ? 'valid' : response.status === 401 ? 'invalid' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}

export interface Connection {
  client: KeelClient;
  mode: 'electron' | 'socket';
  reconnectNow(): void;
  /** Asks the server whether this page's token is good (socket mode; Electron needs none). */
  checkToken(): Promise<TokenCheck>;
}

/** Electron when the preload bridge is there; otherwise the headless server's WebSocket. */
export function connect(onStatus: (status: ConnectionStatus, why?: string) => void): Connection {
  if (window.keel) {
    onStatus('connected');
    return { client: createClient(bridgeTransport(window.keel)), mode: 'electron', reconnectNow: () => {}, checkToken: async () => 'valid' };
  }
  const token = takeToken();
  const socketUrl = new URL('rpc', window.location.href);
  socketUrl.protocol = socketUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  socketUrl.search = new URLSearchParams({ token }).toString();
  const transport = createSocketTransport({
    connect: () => new WebSocket(socketUrl.toString()) as unknown as SocketLike,
    onStatus,
  });
  return { client: createClient(transport), mode: 'socket', reconnectNow: () => transport.reconnectNow(), checkToken: () => checkToken(token) };
}
