import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { warmMarkdown } from './components/items/markdown-warmup.js';
import { ClientProvider } from './lib/client-context.js';
import { connect } from './lib/transport.js';
import { useAppInfo } from './stores/app-info.js';
import { useConnection } from './stores/connection.js';
import { loadSettings } from './stores/settings.js';
import './styles.css';
import './conversation.css';

let checking = false;
/** A socket refused for its token looks like a network failure to the page: ask the server. */
function checkTokenWhileDisconnected(): void {
  if (checking || useConnection.getState().status === 'connected') return;
  checking = true;
  void connection.checkToken().then((answer) => {
    checking = false;
    if (useConnection.getState().status !== 'connected') useConnection.getState().setTokenRejected(answer === 'invalid');
  });
}

const connection = connect((status, why) => {
  useConnection.getState().setStatus(status, why);
  // Streams (the heartbeat, the run list, the open run's events) are re-opened by the transport.
  if (status === 'connected') {
    // Deferred: Electron reports "connected" from inside connect(), before `connection` exists.
    queueMicrotask(() => {
      refreshInfo();
      void loadSettings(connection.client);
    });
  }
  else checkTokenWhileDisconnected();
});
// The server may come back with a new token while the page is still reconnecting: ask again.
if (connection.mode === 'socket') setInterval(checkTokenWhileDisconnected, 3000);

function refreshInfo() {
  connection.client
    .invoke('app.info', {})
    .then((info) => useAppInfo.getState().set(info))
    .catch((error: unknown) => useAppInfo.getState().fail(error instanceof Error ? error.message : String(error)));
}

// The heartbeat stream is re-opened by the transport after every reconnect.
connection.client.subscribe('app.health', {}, { onEvent: (beat) => useConnection.getState().heartbeat(beat.status) });
if (connection.mode === 'electron') refreshInfo();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ClientProvider connection={connection}>
      <App />
    </ClientProvider>
  </StrictMode>,
);
// The markdown parser compiles on first use: let that happen while the page is idle, not when
// a person opens their first run (issue 16: first render of a long run).
warmMarkdown();
