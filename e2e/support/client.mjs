// A Node-side client of the running server, over the same contract client and socket
// transport the page uses (for what the UI cannot do: create a run with a script file).
import WebSocket from 'ws';
import { createClient, createSocketTransport } from '@keel/core/contract';

export function connectClient(keel) {
  const socketUrl = `${keel.origin.replace(/^http/, 'ws')}/rpc?token=${encodeURIComponent(keel.token)}`;
  const transport = createSocketTransport({ connect: () => new WebSocket(socketUrl) });
  return { client: createClient(transport), close: () => transport.close() };
}
