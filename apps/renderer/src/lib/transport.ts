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

/** Takes the token from the URL once, keeps it for reconnects, and removes it from the address bar. */
function takeToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.toString());
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export interface Connection {
  client: KeelClient;
  mode: 'electron' | 'socket';
  reconnectNow(): void;
}

/** Electron when the preload bridge is there; otherwise the headless server's WebSocket. */
export function connect(onStatus: (status: ConnectionStatus, why?: string) => void): Connection {
  if (window.keel) {
    onStatus('connected');
    return { client: createClient(bridgeTransport(window.keel)), mode: 'electron', reconnectNow: () => {} };
  }
  const token = takeToken();
  const socketUrl = new URL('rpc', window.location.href);
  socketUrl.protocol = socketUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  socketUrl.search = new URLSearchParams({ token }).toString();
  const transport = createSocketTransport({
    connect: () => new WebSocket(socketUrl.toString()) as unknown as SocketLike,
    onStatus,
  });
  return { client: createClient(transport), mode: 'socket', reconnectNow: () => transport.reconnectNow() };
}
